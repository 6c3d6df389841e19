"""C12.22 message path: encode + seal and open + decode of a mode-2 Security + Read request.

Prints one JSON line. "Per core": one Python process, one thread. The request is the shape of the
standard's Example 8 (relative ApTitles, key id 2, Security "PASSWORD" user 2 + Partial Read ST1), built
from typed objects each time (ACSE + EPSEM + services), sealed with EAX′, then parsed, verified,
decrypted and decoded back to typed services.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable

from openami.c1222.acse import C1222Auth, Message
from openami.c1222.aptitle import ApTitle
from openami.c1222.eax import EaxPrime
from openami.c1222.epsem import Epsem, EpsemControl
from openami.c1222.protect import open as open_message
from openami.c1222.protect import seal
from openami.c1222.security import IvSource, KeyStore, SecurityMode
from openami.c1222.services import PartialReadOffset, Security, decode_request

KEY = bytes.fromhex("01020304050607080102030405060708")
CALLED, CALLING = ApTitle.parse(".123.4"), ApTitle.parse(".123.8437")
TARGET = 20_000


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


def open_and_decode(apdu: bytes, keys: KeyStore) -> list[object]:
    opened = open_message(apdu, keys)
    return [decode_request(service) for service in opened.services]


def rate(fn: Callable[[], object], seconds: float = 1.0) -> float:
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(200):
            fn()
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def main() -> None:
    cipher = EaxPrime(KEY)
    ivs = IvSource()
    counter = iter(range(1, 1 << 62))
    apdu = encode_and_seal(cipher, ivs, 1, 1.7e9)
    keys = KeyStore({2: KEY})
    decoded = open_and_decode(apdu, keys)
    assert len(decoded) == 2
    seal_rate = rate(lambda: encode_and_seal(cipher, ivs, next(counter) % 60000, 1.7e9))
    open_rate = rate(lambda: open_and_decode(apdu, keys))
    print(
        json.dumps(
            {
                "bench": "c1222",
                "apdu_octets": len(apdu),
                "encode_seal_per_s": round(seal_rate),
                "open_decode_per_s": round(open_rate),
                "target_per_s": TARGET,
                "meets_target": seal_rate >= TARGET and open_rate >= TARGET,
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
