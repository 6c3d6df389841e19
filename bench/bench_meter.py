"""The running meter: requests answered per second, and a fleet's memory and CPU per meter; prints one
JSON line of figures.

Run: ``.venv/bin/python bench/bench_meter.py`` (about a minute; ``--quick`` for 1,000 meters only).

- ``udp_mode2_read_st23_per_s``: one meter in a process of its own (``Meter.create``, sampled engine at
  real time, C12.22 over UDP on loopback) answers mode-2 (EAX′) requests carrying Security + Full Read
  ST23 in one EPSEM; the client is this process (a `C1222Endpoint` on its own UDP socket, keeping
  ``WINDOW`` requests in flight for ``SECONDS`` s after a warm-up). ``meter_cpu_us_per_request`` is the
  meter process's CPU time (/proc) over the measured span divided by the answers: the meter's cost per
  request whatever the client's speed (both processes share the machine's two cores).
- ``fleet``: for 1,000 and 10,000 meters (fast engine), each in a fresh process: ``build_ms_per_meter``
  (building the fleet: configs, one engine, tables from one template, cores, endpoints),
  ``rss_bytes_per_meter`` (resident size after building, minus before, per meter),
  ``cpu_us_per_meter_s`` (process CPU per meter per engine update at 1 Hz: the engine step of every
  meter plus each meter's after-step bookkeeping, median of ``TICKS`` updates) and
  ``cpu_share_at_1hz`` (that CPU time as a share of one core).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import time

SECONDS = 5.0
WARMUP = 1.0
WINDOW = 32
TICKS = 8
KEY = bytes.fromhex("01020304050607080102030405060708")

METER = """
import asyncio, sys
from openami.meter.config import Key, MeterConfig, SecuritySettings
from openami.meter.node import Meter, NodeSettings
async def main():
    config = MeterConfig(security=SecuritySettings(keys=(Key(2, bytes.fromhex(sys.argv[1])),)))
    meter = Meter.create(config, settings=NodeSettings(register=False), mode="sampled")
    sock = await meter.serve_udp("127.0.0.1", 0, max_pending=1024)
    meter.start()
    print(sock.port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await meter.stop()
asyncio.run(main())
"""

FLEET = """
import gc, json, statistics, sys, time
from openami.meter.config import MeterConfig
from openami.meter.fleet import Fleet, FleetSettings
from openami.meter.node import NodeSettings
from openami.transport import ManualClock

def rss():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS"))

n, ticks = int(sys.argv[1]), int(sys.argv[2])
clock = ManualClock(1_704_067_200.0)
gc.collect()
before, start = rss(), time.perf_counter()
fleet = Fleet(MeterConfig(), FleetSettings(count=n, mode="fast"), clock=clock, node=NodeSettings(register=False))
built = time.perf_counter() - start
gc.collect()
after = rss()
fleet.start()
cpu = []
for _ in range(ticks + 1):
    t = time.process_time()
    clock.advance(1.0)  # one engine update (1 Hz): every meter steps one simulated second
    cpu.append(time.process_time() - t)
step = statistics.median(cpu[1:])
print(json.dumps({
    "meters": n,
    "build_ms_per_meter": round(1e3 * built / n, 3),
    "rss_bytes_per_meter": round((after - before) / n),
    "cpu_us_per_meter_s": round(1e6 * step / n, 2),
    "cpu_share_at_1hz": round(step, 3),
    "rss_mb": round(after / 2**20),
}))
"""


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _requests() -> dict[str, float]:
    from openami.c1222.aptitle import ApTitle
    from openami.c1222.association import Association, AssociationConfig
    from openami.c1222.security import IvSource, KeyStore, ReplayGuard, SecurityMode
    from openami.c1222.services import FullRead, ReadResponse, Security
    from openami.transport import C1222Endpoint, open_udp

    meter = await asyncio.create_subprocess_exec(
        sys.executable, "-c", METER, KEY.hex(), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    assert meter.stdout is not None and meter.stdin is not None
    port = int(await meter.stdout.readline())
    config = AssociationConfig(
        ap_title=ApTitle.parse(".123.4"),
        keys=KeyStore({2: KEY}),
        key_id=2,
        security_mode=SecurityMode.ENCRYPTED,
        iv_source=IvSource(),
        replay_guard=ReplayGuard(max_ids=65536),
        response_timeout=5.0,
    )
    client = C1222Endpoint(Association(config))
    sock = await open_udp(client)
    channel = sock.peer("127.0.0.1", port)
    title = ApTitle.parse(".123.8437")
    services = [Security(b"READER"), FullRead(23)]
    done = 0
    stop = False

    async def worker() -> None:
        nonlocal done
        while not stop:
            result = await client.request(title, services, via=channel)
            assert isinstance(result.responses[-1], ReadResponse)
            done += 1

    workers = [asyncio.create_task(worker()) for _ in range(WINDOW)]
    await asyncio.sleep(WARMUP)
    count0, cpu0, t0 = done, _cpu_s(meter.pid), time.perf_counter()
    await asyncio.sleep(SECONDS)
    count1, cpu1, t1 = done, _cpu_s(meter.pid), time.perf_counter()
    stop = True
    await asyncio.gather(*workers, return_exceptions=True)
    meter.stdin.close()
    await meter.wait()
    sock.close()
    answered = count1 - count0
    return {
        "udp_mode2_read_st23_per_s": round(answered / (t1 - t0)),
        "meter_cpu_us_per_request": round(1e6 * (cpu1 - cpu0) / answered, 1),
    }


def _fleet(n: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", FLEET, str(n), str(TICKS)], capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    sizes = (1_000,) if "--quick" in sys.argv else (1_000, 10_000)
    figures: dict[str, object] = {"bench": "meter", "python": platform.python_version()}
    figures.update(asyncio.run(_requests()))
    figures["client"] = f"this process, {WINDOW} requests in flight, own UDP socket"
    figures["fleet"] = [_fleet(n) for n in sizes]
    figures["load_average"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
