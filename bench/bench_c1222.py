"""C12.22 message path: encode + seal and open + decode of a mode-2 Security + Read request.

Run: ``.venv/bin/python bench/bench_c1222.py`` (about 4 s). Prints one JSON line.

"Per core": one Python process, one thread. The request is the shape of the standard's Example 8
(relative ApTitles, key id 2, Security "PASSWORD" user 2 + Partial Read ST1), built from typed objects
each time (ACSE + EPSEM + services), sealed with EAX′, then parsed, verified, decrypted and decoded back
to typed services.

Each direction is timed in ``ROUNDS`` rounds of ``ROUND_SECONDS`` (time.perf_counter), the rounds of
the two directions interleaved so that load from other processes hits both alike. Figures per
direction: ``*_per_s`` is the median round, ``*_best_per_s`` the best; ``meets_target`` asks the
medians for the issue's ``target_per_s`` (20,000 a second each way). ``load_avg_1m`` is the machine's
one-minute load average at the start (2 cores: other processes may share them).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable

from openami.c1222.acse import C1222Auth, Message
from openami.c1222.aptitle import ApTitle
from openami.c1222.eax import EaxPrime
from openami.c1222.epsem import Epsem, EpsemControl
from openami.c1222.protect import open as open_message
from openami.c1222.protect import seal
from openami.c1222.security import IvSource, KeyStore, SecurityMode
from openami.c1222.services import PartialReadOffset, Request, Security, decode_request

KEY = bytes.fromhex("01020304050607080102030405060708")
CALLED, CALLING = ApTitle.parse(".123.4"), ApTitle.parse(".123.8437")
TARGET = 20_000
ROUNDS = 12
ROUND_SECONDS = 0.15


def encode_and_seal(cipher: EaxPrime, ivs: IvSource, invocation: int, now: float) -> bytes:
    services = (Security(b"PASSWORD", user_id=2).encode(), PartialReadOffset(1, 16, 16).encode())
    epsem = Epsem(control=EpsemControl(security_mode=SecurityMode.ENCRYPTED), services=services)
    message = Message(
        called=CALLED,
        calling=CALLING,
        calling_invocation_id=invocation,
        auth=C1222Auth(key_id=2, iv=ivs.next_iv(now)),
        user_information=epsem.encode(),
    )
    return seal(message, cipher, 2)


def open_and_decode(apdu: bytes, keys: KeyStore) -> list[Request]:
    opened = open_message(apdu, keys)
    return [decode_request(service) for service in opened.services]


def calibrate(fn: Callable[[], object]) -> int:
    """A batch size that takes about 20 ms."""
    batch = 1
    while True:
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        if time.perf_counter() - start >= 0.02:
            return batch
        batch *= 2


def one_round(fn: Callable[[], object], batch: int) -> float:
    """Calls per second of ``fn`` over at least ``ROUND_SECONDS``."""
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        elapsed = time.perf_counter() - start
        if elapsed >= ROUND_SECONDS:
            return calls / elapsed


def main() -> None:
    load = os.getloadavg()[0]
    cipher = EaxPrime(KEY)
    ivs = IvSource()
    counter = iter(range(1, 1 << 62))
    apdu = encode_and_seal(cipher, ivs, 1, 1.7e9)
    keys = KeyStore({2: KEY})
    expected = [Security(b"PASSWORD", user_id=2), PartialReadOffset(1, 16, 16)]
    if open_and_decode(apdu, keys) != expected:
        raise SystemExit("open + decode does not give back the request")

    benches: dict[str, Callable[[], object]] = {
        "encode_seal": lambda: encode_and_seal(cipher, ivs, next(counter) % 60000, 1.7e9),
        "open_decode": lambda: open_and_decode(apdu, keys),
    }
    batches = {name: calibrate(fn) for name, fn in benches.items()}
    rates: dict[str, list[float]] = {name: [] for name in benches}
    for _ in range(ROUNDS):
        for name, fn in benches.items():
            rates[name].append(one_round(fn, batches[name]))
    median = {name: statistics.median(values) for name, values in rates.items()}
    best = {name: max(values) for name, values in rates.items()}
    print(
        json.dumps(
            {
                "bench": "c1222",
                "apdu_octets": len(apdu),
                "encode_seal_per_s": round(median["encode_seal"]),
                "open_decode_per_s": round(median["open_decode"]),
                "encode_seal_best_per_s": round(best["encode_seal"]),
                "open_decode_best_per_s": round(best["open_decode"]),
                "target_per_s": TARGET,
                "meets_target": min(median.values()) >= TARGET,
                "rounds": ROUNDS,
                "round_s": ROUND_SECONDS,
                "load_avg_1m": round(load, 2),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
