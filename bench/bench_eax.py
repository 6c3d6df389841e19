"""EAX′ speed on one core; prints one JSON line of figures.

Run: ``.venv/bin/python bench/bench_eax.py`` (about 8 s).

- ``short_seal_per_s`` / ``short_open_per_s``: mode-2 seal and open of the standard's Example 8
  Security + Partial Read request (N 63 bytes, P 33 bytes; c12-protocol-facts.md §4, V6).
- ``eax_seal_mib_s`` / ``eax_open_mib_s``: EAX′ on 4 KiB payloads (same N).
- ``raw_ctr_cbc_mib_s``: AES-128 of the same backend (the ``cryptography`` package's OpenSSL) on the
  same 4 KiB buffers: one CTR pass plus one CBC pass, each ``update`` through a long-lived context
  (pure cipher throughput: no per-message nonce, IV or context setup). This is the baseline of the
  ratios.
- ``raw_ctr_cbc_fresh_mib_s``: the same with a new CTR and CBC context per buffer, as a message with
  its own nonce and IV needs without ``reset_nonce`` (for comparison only).
- ``ratio`` / ``ratio_open``: EAX′ seal / open throughput over the raw CTR+CBC throughput, the median
  of ``PAIRS`` paired measurements (see below; the issue's target is ``ratio`` ≥ 0.5);
  ``ratio_p10``: the 10th percentile of the seal pairs; ``ratio_best``: the best EAX′ seal pair over
  the best raw measurement; ``ratio_vs_fresh``: best 4 KiB seal round over best fresh-context round.

Timing (time.perf_counter): the rates (short, 4 KiB, fresh) come from ``ROUNDS`` rounds of
``ROUND_SECONDS``, rounds of all figures interleaved, each figure its best round. The ratios come from
``PAIRS`` quick A-B-A triples — raw, EAX′ seal, EAX′ open, raw, each ``PAIR_SECONDS`` — so that both
sides of a ratio see the same load from other processes; each pair's ratio divides the EAX′ rate by the
mean of the raw rates just before and just after it. MiB/s counts payload bytes (4096 per message).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import cryptography
from cryptography.hazmat.backends.openssl import backend
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from openami.c1222.eax import EaxPrime

KEY = bytes.fromhex("01020304050607080102030405060708")
N = bytes.fromhex(
    "a20d060b607c86f7540116007bc175a803020103ac0fa20da00ba109800102810448f3d061be2a2828812688a6"
    "0c060a607c86f7540116007b040248f3d061"
)
P = bytes.fromhex("175150415353574f52442020202020202020202020200002083f00010000100010")
PAYLOAD = 4096
ROUND_SECONDS = 0.15
ROUNDS = 5
PAIR_SECONDS = 0.02
PAIRS = 40
TARGET_RATIO = 0.5
MIB = 1024 * 1024


def calibrate(fn: Callable[[], object], seconds: float) -> int:
    """A batch size that takes about ``seconds``."""
    batch = 1
    while True:
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        if time.perf_counter() - start >= seconds:
            return batch
        batch *= 2


def timed(fn: Callable[[], object], batch: int) -> float:
    """Calls per second of one batch of ``fn``."""
    start = time.perf_counter()
    for _ in range(batch):
        fn()
    return batch / (time.perf_counter() - start)


def one_round(fn: Callable[[], object], batch: int) -> float:
    """Calls per second of ``fn`` over at least ``ROUND_SECONDS``."""
    calls = 0
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        elapsed = time.perf_counter() - start
        if elapsed >= ROUND_SECONDS:
            return calls / elapsed


def measure(benches: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    """Per-round rates (calls/s) of every bench, rounds interleaved across benches."""
    batches = {name: calibrate(fn, 0.02) for name, fn in benches.items()}
    rates: dict[str, list[float]] = {name: [] for name in benches}
    for _ in range(ROUNDS):
        for name, fn in benches.items():
            rates[name].append(one_round(fn, batches[name]))
    return rates


def paired_ratios(
    raw: Callable[[], object], seal: Callable[[], object], open_: Callable[[], object]
) -> tuple[list[float], list[float], list[float], list[float]]:
    """``PAIRS`` A-B-A measurements: per-pair seal and open ratios, and the raw and seal rates."""
    batch = {fn: calibrate(fn, PAIR_SECONDS) for fn in (raw, seal, open_)}
    seal_ratios: list[float] = []
    open_ratios: list[float] = []
    raw_rates: list[float] = []
    seal_rates: list[float] = []
    before = timed(raw, batch[raw])
    for _ in range(PAIRS):
        sealed = timed(seal, batch[seal])
        opened = timed(open_, batch[open_])
        after = timed(raw, batch[raw])
        mean = (before + after) / 2
        seal_ratios.append(sealed / mean)
        open_ratios.append(opened / mean)
        raw_rates.append(after)
        seal_rates.append(sealed)
        before = after
    return seal_ratios, open_ratios, raw_rates, seal_rates


def main() -> None:
    load = os.getloadavg()[0]
    eax = EaxPrime(KEY)
    c_short, t_short = eax.seal(N, P)
    buffers = [bytes((i + j) & 0xFF for j in range(PAYLOAD)) for i in range(8)]
    sealed = [eax.seal(N, buf) for buf in buffers]
    if any(eax.open(N, c, t) != buf for (c, t), buf in zip(sealed, buffers, strict=True)):
        raise SystemExit("EAX′ open does not give back the payload")
    nonce = bytes(16)

    def seal_short() -> None:
        eax.seal(N, P)

    def open_short() -> None:
        eax.open(N, c_short, t_short)

    state = {"i": 0}

    def seal_long() -> None:
        i = state["i"] = (state["i"] + 1) & 7
        eax.seal(N, buffers[i])

    def open_long() -> None:
        i = state["i"] = (state["i"] + 1) & 7
        c, t = sealed[i]
        eax.open(N, c, t)

    aes = algorithms.AES(KEY)
    ctr = Cipher(aes, modes.CTR(nonce)).encryptor()
    cbc = Cipher(aes, modes.CBC(nonce)).encryptor()

    def raw_stream() -> None:
        i = state["i"] = (state["i"] + 1) & 7
        ctr.update(buffers[i])
        cbc.update(buffers[i])

    def raw_fresh() -> None:
        i = state["i"] = (state["i"] + 1) & 7
        Cipher(aes, modes.CTR(nonce)).encryptor().update(buffers[i])
        Cipher(aes, modes.CBC(nonce)).encryptor().update(buffers[i])

    rates = measure(
        {
            "seal_short": seal_short,
            "open_short": open_short,
            "seal_long": seal_long,
            "open_long": open_long,
            "raw_stream": raw_stream,
            "raw_fresh": raw_fresh,
        }
    )
    best = {name: max(values) for name, values in rates.items()}
    seal_ratios, open_ratios, raw_rates, seal_rates = paired_ratios(raw_stream, seal_long, open_long)
    ratio = statistics.median(seal_ratios)
    deciles = statistics.quantiles(seal_ratios, n=10)

    figures: dict[str, object] = {
        "short_seal_per_s": round(best["seal_short"]),
        "short_open_per_s": round(best["open_short"]),
        "short_n_bytes": len(N),
        "short_p_bytes": len(P),
        "payload_bytes": PAYLOAD,
        "eax_seal_mib_s": round(best["seal_long"] * PAYLOAD / MIB, 1),
        "eax_open_mib_s": round(best["open_long"] * PAYLOAD / MIB, 1),
        "raw_ctr_cbc_mib_s": round(best["raw_stream"] * PAYLOAD / MIB, 1),
        "raw_ctr_cbc_fresh_mib_s": round(best["raw_fresh"] * PAYLOAD / MIB, 1),
        "ratio": round(ratio, 3),
        "ratio_open": round(statistics.median(open_ratios), 3),
        "ratio_p10": round(deciles[0], 3),
        "ratio_best": round(max(seal_rates) / max(raw_rates), 3),
        "ratio_vs_fresh": round(best["seal_long"] / best["raw_fresh"], 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
        "pairs": PAIRS,
        "pair_s": PAIR_SECONDS,
        "rounds": ROUNDS,
        "round_s": ROUND_SECONDS,
        "load_avg_1m": round(load, 2),
        "cryptography": cryptography.__version__,
        "openssl": backend.openssl_version_text(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    json.dump(figures, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
