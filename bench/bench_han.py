"""HAN link throughput and latency; prints one JSON line of figures.

Run: ``.venv/bin/python bench/bench_han.py`` (a few seconds).

Workload per scenario: a meter (node 1) sends ``COMMANDS`` 24-byte commands back to back to an appliance
(node 2) through `openami.link.HanEndpoint` (MTU 64, max 8 retries) over a seeded simulated medium:
a good PLC channel (G3-PLC CENELEC A DBPSK, flat, 12 dB per-carrier SNR), a bad one (7 dB), and a ZigBee
link at 40 m (802.15.4, 0 dBm, default path loss with a seeded shadowing draw). Figures: commands
delivered per simulated second and per wall-clock second, latency p50/p90/p99 (ms, from send to ACK,
one command at a time), retransmissions, failures and the medium's frame loss.
"""

from __future__ import annotations

import json
import platform
import sys
import time

import numpy as np

from openami.channel import Link
from openami.channel.ofdm import g3_modem
from openami.link import ArqConfig, DeliveryFailed, HanEndpoint, MessageDelivered
from openami.transport.han import HanMedium, HanNetwork, PlcMedium, ZigbeeMedium

COMMANDS = 2000
SEED = 2024


def scenario(medium: HanMedium) -> dict[str, float]:
    net = HanNetwork(medium)
    meter = net.add(HanEndpoint(1, ArqConfig(mtu=64, max_retries=8)))
    net.add(HanEndpoint(2))
    t0 = time.perf_counter()
    for i in range(COMMANDS):  # one command at a time: latency = send to ACK on an idle link
        net.send(1, 2, (b"SP21 set load %04d" % i).ljust(24, b"."))
        net.run()
    wall = time.perf_counter() - t0
    done = [e.event for e in net.events[1] if isinstance(e.event, MessageDelivered)]
    failed = sum(isinstance(e.event, DeliveryFailed) for e in net.events[1])
    lat = np.array([d.latency for d in done]) * 1e3 if done else np.array([np.nan])
    return {
        "delivered": len(done),
        "failed": int(failed),
        "sim_s": round(net.now, 3),
        "per_sim_s": round(len(done) / net.now, 2) if net.now > 0 else 0.0,
        "per_wall_s": round(len(done) / wall, 1),
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 2),
        "latency_ms_p90": round(float(np.percentile(lat, 90)), 2),
        "latency_ms_p99": round(float(np.percentile(lat, 99)), 2),
        "retransmissions": meter.stats.retransmissions,
        "frame_loss": round(medium.stats.frames_lost / max(medium.stats.frames_offered, 1), 4),
    }


def main() -> None:
    modem = g3_modem()
    results = {
        "plc_good": scenario(PlcMedium(Link.flat(modem, 12.0), np.random.default_rng(SEED))),
        "plc_bad": scenario(PlcMedium(Link.flat(modem, 7.0), np.random.default_rng(SEED))),
        "zigbee_40m": scenario(ZigbeeMedium(40.0, np.random.default_rng(SEED))),
    }
    print(
        json.dumps(
            {
                "bench": "han",
                "commands": COMMANDS,
                "python": platform.python_version(),
                "platform": sys.platform,
                **results,
            }
        )
    )


if __name__ == "__main__":
    main()
