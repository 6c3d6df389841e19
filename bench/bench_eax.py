"""EAX′ speed on one core; prints one JSON line of figures.

Run: ``.venv/bin/python bench/bench_eax.py`` (about 8 s).

Each figure is measured in ``ROUNDS`` rounds of ``ROUND_SECONDS`` (1.25 s per figure in all, timed
with ``time.perf_counter``); the rounds of all figures are interleaved so that load from other
processes hits them alike, and each figure reports its best round.

- ``short_seal_per_s`` / ``short_open_per_s``: mode-2 seal and open of the standard's Example 8
  Security + Partial Read request (N 63 bytes, P 33 bytes; c12-protocol-facts.md §4, V6).
- ``eax_seal_mib_s`` / ``eax_open_mib_s``: EAX′ on 4 KiB payloads (same N).
- ``raw_ctr_cbc_mib_s``: AES-128 of the same backend on the same 4 KiB buffers, one CTR pass plus one
  CBC pass through long-lived contexts (pure cipher throughput, no per-message setup).
- ``raw_ctr_cbc_fresh_mib_s``: the same with a new CTR and CBC context per buffer, as a message with
  its own nonce and IV needs without ``reset_nonce``.
- ``ratio``: EAX′ seal over raw CTR+CBC throughput, the median of the per-round ratios (the target is
  ≥ 0.5); ``ratio_vs_fresh`` likewise against the fresh-context figure.
MiB/s counts payload bytes (4096 per message).
"""

from __future__ import annotations

import json
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
ROUND_SECONDS = 0.25
ROUNDS = 5
MIB = 1024 * 1024


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
    batches = {name: calibrate(fn) for name, fn in benches.items()}
    rates: dict[str, list[float]] = {name: [] for name in benches}
    for _ in range(ROUNDS):
        for name, fn in benches.items():
            rates[name].append(one_round(fn, batches[name]))
    return rates


def main() -> None:
    eax = EaxPrime(KEY)
    c_short, t_short = eax.seal(N, P)
    buffers = [bytes((i + j) & 0xFF for j in range(PAYLOAD)) for i in range(8)]
    sealed = [eax.seal(N, buf) for buf in buffers]
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

    def ratio(over: str) -> float:
        return statistics.median(a / b for a, b in zip(rates["seal_long"], rates[over], strict=True))

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
        "ratio": round(ratio("raw_stream"), 3),
        "ratio_vs_fresh": round(ratio("raw_fresh"), 3),
        "rounds": ROUNDS,
        "round_s": ROUND_SECONDS,
        "cryptography": cryptography.__version__,
        "openssl": backend.openssl_version_text(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    json.dump(figures, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
