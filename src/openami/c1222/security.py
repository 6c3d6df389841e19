"""C12.22 security around the EAX′ cipher: security modes, keys, IVs and replay protection.

Sans-IO: nothing here reads a clock; callers pass ``now`` (seconds since 1970, float).

- `SecurityMode`: the EPSEM SECURITY_MODE field (control byte bits 3–2).
- `KeyStore`: key id (0..255, the ``80 01 <key-id>`` of the calling authentication value) → AES-128 key,
  each with its `EaxPrime` built once. Keys never appear in ``repr``.
- `IvSource`: the 4-byte IVs (``81 04 <iv>``) a sender puts in its messages, never repeated.
- `ReplayGuard`: refuses repeated or stale messages per peer, in bounded memory.
- `constant_time_equal`: the comparison to use for every secret (passwords, tags).
"""

from __future__ import annotations

import hmac
import math
from collections import Counter, OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from openami.c1222.eax import Bytes, EaxPrime
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "IV_SIZE",
    "MAX_IV",
    "MAX_KEY_ID",
    "IvSource",
    "KeyStore",
    "Refusal",
    "ReplayError",
    "ReplayGuard",
    "SecurityMode",
    "constant_time_equal",
]

IV_SIZE = 4
"""Bytes in a C12.22 IV (``AC .. 81 04 <iv>``), big-endian."""

MAX_IV = (1 << 32) - 1
"""Largest IV value (4 bytes; as seconds since 1970 that is 2106-02-07)."""

MAX_KEY_ID = 255
"""Key ids are one byte (``80 01 <key-id>``)."""


def constant_time_equal(a: Bytes, b: Bytes) -> bool:
    """``a == b`` in time that does not depend on where they differ (use for passwords, tags, keys)."""
    return hmac.compare_digest(bytes(a), bytes(b))


class SecurityMode(IntEnum):
    """EPSEM SECURITY_MODE (control byte bits 3–2), c12-protocol-facts.md §2."""

    CLEARTEXT = 0
    AUTHENTICATED = 1  # cleartext + 4-byte EAX′ tag over N ‖ P
    ENCRYPTED = 2  # EAX′ ciphertext + 4-byte tag

    @classmethod
    def from_control(cls, control: int) -> SecurityMode:
        """The mode in an EPSEM control byte; the reserved value 3 raises `RemoteProtocolError`."""
        value = (control >> 2) & 0x03
        if value == 3:
            raise RemoteProtocolError(f"EPSEM control 0x{control:02X}: reserved security mode 3")
        return cls(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_key_id(key_id: int) -> None:
    if not (_is_int(key_id) and 0 <= key_id <= MAX_KEY_ID):
        raise LocalProtocolError(f"key id must be an int in 0..{MAX_KEY_ID}, got {key_id!r}")


def _check_now(now: float) -> None:
    if not math.isfinite(now):
        raise LocalProtocolError(f"now must be a finite number of seconds, got {now!r}")


class KeyStore:
    """Key id (0..255) → 16-byte AES-128 key, each with a cached `EaxPrime`.

    Lookups: `get` returns None for an unknown id (use it for ids a peer sent: answer ``sme``);
    `cipher` raises `LocalProtocolError` (use it for ids we chose to send with). The raw keys are not
    kept, only the ciphers built from them, and ``repr`` shows key ids only.
    """

    __slots__ = ("_ciphers",)

    def __init__(self, keys: Mapping[int, Bytes] | None = None) -> None:
        self._ciphers: dict[int, EaxPrime] = {}
        for key_id, key in (keys or {}).items():
            self.set(key_id, key)

    def set(self, key_id: int, key: Bytes) -> None:
        """Store (or replace) the key under ``key_id``; bad id or key length → `LocalProtocolError`."""
        _check_key_id(key_id)
        self._ciphers[key_id] = EaxPrime(key)

    def remove(self, key_id: int) -> None:
        """Forget ``key_id``; unknown id → `LocalProtocolError`."""
        if self._ciphers.pop(key_id, None) is None:
            raise LocalProtocolError(f"no key with id {key_id!r}")

    def get(self, key_id: int) -> EaxPrime | None:
        """The cipher for ``key_id``, or None if no such key is stored."""
        return self._ciphers.get(key_id)

    def cipher(self, key_id: int) -> EaxPrime:
        """The cipher for ``key_id``; unknown id → `LocalProtocolError`."""
        found = self._ciphers.get(key_id)
        if found is None:
            raise LocalProtocolError(f"no key with id {key_id!r}")
        return found

    def key_ids(self) -> tuple[int, ...]:
        """Stored key ids, ascending."""
        return tuple(sorted(self._ciphers))

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._ciphers

    def __len__(self) -> int:
        return len(self._ciphers)

    def __repr__(self) -> str:
        return f"KeyStore(key_ids={list(self.key_ids())})"


class IvSource:
    """4-byte IVs that never repeat: ``iv = max(floor(now), last + 1)``, big-endian.

    Scheme: the IV is the time in whole seconds since 1970 whenever the clock has moved past the last
    IV issued; otherwise (several IVs in one second, or a clock that went backwards) it is the last IV
    plus one. IVs therefore strictly increase and never repeat, and they stay a usable timestamp:
    they run ahead of the clock only by the number of extra IVs issued in a burst, and fall back to
    the clock once it catches up. Negative ``now`` counts as 0. When 0xFFFFFFFF has been issued (or
    ``now`` is past 2106-02-07) the source is exhausted and raises `LocalProtocolError`: change the key.

    One source may serve several keys (uniqueness then holds across all of them). After a restart,
    pass the persisted `last` back in, or a clock reset could repeat IVs.
    """

    __slots__ = ("_last",)

    def __init__(self, last: int | None = None) -> None:
        """``last``: the last IV issued before (0..0xFFFFFFFF), or None for a fresh key."""
        if last is not None and not (_is_int(last) and 0 <= last <= MAX_IV):
            raise LocalProtocolError(f"last IV must be an int in 0..0x{MAX_IV:X}, got {last!r}")
        self._last = last

    @property
    def last(self) -> int | None:
        """The last IV issued, as an integer (None if none yet)."""
        return self._last

    def next_iv(self, now: float) -> bytes:
        """The next IV (4 bytes, big-endian) at time ``now`` (seconds since 1970)."""
        _check_now(now)
        clock = max(0, math.floor(now))
        value = clock if self._last is None else max(clock, self._last + 1)
        if value > MAX_IV:
            raise LocalProtocolError("IV space exhausted (4-byte IV past 0xFFFFFFFF): change the key")
        self._last = value
        return value.to_bytes(IV_SIZE, "big")

    def __repr__(self) -> str:
        return f"IvSource(last={self._last!r})"


class Refusal(StrEnum):
    """Why `ReplayGuard.admit` refused a message."""

    REPLAYED_IV = "replayed-iv"
    REPLAYED_INVOCATION_ID = "replayed-invocation-id"
    STALE = "stale"


class ReplayError(RemoteProtocolError):
    """A peer's message was refused as a replay; ``reason`` says which check failed."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(slots=True)
class _PeerMemory:
    ivs: OrderedDict[tuple[int, int], float] = field(default_factory=OrderedDict)  # (key id, iv) → forget at
    ids: OrderedDict[int, float] = field(default_factory=OrderedDict)  # invocation id → forget at
    floors: dict[int, int] = field(default_factory=dict)  # key id → highest IV forgotten


class ReplayGuard:
    """Per-peer replay protection for received messages, in bounded memory.

    Call `admit` once per message **after** its EAX′ tag verified (so forged messages cannot fill the
    memory), with ``peer`` = something that identifies the sender, e.g. its calling ApTitle string. A
    message is refused (`ReplayError`, counted in ``refused[reason]``) when:

    - ``STALE``: its IV, read as seconds since 1970 (``iv_is_time=True``, the default), is older than
      ``now - window``; or its IV is at or below the peer's *floor* for that key id — the highest IV
      this guard has already forgotten (expired, or evicted when ``max_ids`` was reached). With
      ``iv_is_time=False`` the IV is an opaque counter and only the floor applies: "stale" then means
      "not above the newest IV already forgotten", which assumes each sender's IVs increase per key
      (as `IvSource`'s do); ``window`` is then how long out-of-order IVs are tolerated.
    - ``REPLAYED_IV``: the same (key id, IV) was admitted from this peer and is still remembered
      (until ``max(now_seen, iv_time) + window``).
    - ``REPLAYED_INVOCATION_ID``: the same calling AP invocation id (A8) was admitted from this peer
      less than ``window`` seconds ago (invocation ids may wrap, so they are only remembered that long).

    Thanks to the floor, an IV admitted once is never admitted again from a peer that is still
    remembered, whatever the memory pressure or the clock does (under pressure the effective window
    shrinks instead: older in-window IVs are refused as stale). Memory: at most ``max_peers`` peers,
    each with at most ``max_ids`` IVs and ``max_ids`` invocation ids (oldest dropped first) and one
    floor per key id. Past ``max_peers`` the least recently seen peer is dropped whole (counted in
    ``evicted_peers``) and its memory is lost: a replay of one of its messages that is still inside
    the window (time IVs), or any older message (counter IVs), would then pass. Size ``max_peers``
    above the number of peers active within one window, and watch ``evicted_peers``.
    """

    __slots__ = ("_iv_is_time", "_max_ids", "_max_peers", "_peers", "evicted_peers", "refused", "window")

    def __init__(
        self,
        window: float = 300.0,
        *,
        iv_is_time: bool = True,
        max_peers: int = 4096,
        max_ids: int = 1024,
    ) -> None:
        """``window`` in seconds (> 0); ``max_peers`` and ``max_ids`` ≥ 1."""
        if not math.isfinite(window) or window <= 0:
            raise LocalProtocolError(f"replay window must be a positive number of seconds, got {window!r}")
        if max_peers < 1 or max_ids < 1:
            raise LocalProtocolError(f"max_peers and max_ids must be >= 1, got {max_peers}, {max_ids}")
        self.window = float(window)
        self._iv_is_time = iv_is_time
        self._max_peers = max_peers
        self._max_ids = max_ids
        self._peers: OrderedDict[Hashable, _PeerMemory] = OrderedDict()
        self.refused: Counter[Refusal] = Counter()
        self.evicted_peers = 0

    def __len__(self) -> int:
        """Number of peers currently remembered."""
        return len(self._peers)

    def __repr__(self) -> str:
        return (
            f"ReplayGuard(window={self.window}, iv_is_time={self._iv_is_time}, peers={len(self._peers)}, "
            f"refused={dict(self.refused)})"
        )

    def remembered(self, peer: Hashable) -> int:
        """How many IVs plus invocation ids are remembered for ``peer`` (0 if unknown)."""
        memory = self._peers.get(peer)
        return 0 if memory is None else len(memory.ivs) + len(memory.ids)

    def admit(
        self,
        peer: Hashable,
        now: float,
        *,
        key_id: int | None = None,
        iv: Bytes | None = None,
        invocation_id: int | None = None,
    ) -> None:
        """Accept and remember one message, or raise `ReplayError` (then nothing is remembered).

        ``iv`` (4 bytes) needs ``key_id``; either may be omitted for a cleartext message, which is then
        checked on ``invocation_id`` alone. Bad arguments raise `LocalProtocolError`.
        """
        _check_now(now)
        iv_value: int | None = None
        if iv is not None:
            if key_id is None:
                raise LocalProtocolError("an IV needs its key id")
            _check_key_id(key_id)
            if len(iv) != IV_SIZE:
                raise LocalProtocolError(f"IV must be {IV_SIZE} bytes, got {len(iv)}")
            iv_value = int.from_bytes(iv, "big")
        if invocation_id is not None and not _is_int(invocation_id):
            raise LocalProtocolError(f"invocation id must be an int, got {invocation_id!r}")

        memory = self._peers.get(peer)
        if memory is not None:
            self._peers.move_to_end(peer)
            self._expire(memory, now)
        if iv_value is not None and key_id is not None:
            if self._iv_is_time and iv_value < now - self.window:
                self._refuse(Refusal.STALE, f"IV {iv_value} is older than {self.window} s")
            if memory is not None:
                if iv_value <= memory.floors.get(key_id, -1):
                    self._refuse(Refusal.STALE, f"IV {iv_value} is at or below an IV already forgotten")
                if (key_id, iv_value) in memory.ivs:
                    self._refuse(Refusal.REPLAYED_IV, f"IV {iv_value} under key {key_id} seen before")
        if invocation_id is not None and memory is not None and invocation_id in memory.ids:
            self._refuse(Refusal.REPLAYED_INVOCATION_ID, f"invocation id {invocation_id} seen before")

        if memory is None:
            memory = self._new_peer(peer)
        if iv_value is not None and key_id is not None:
            while len(memory.ivs) >= self._max_ids:
                self._forget_oldest_iv(memory)
            started = max(now, float(iv_value)) if self._iv_is_time else now
            memory.ivs[(key_id, iv_value)] = started + self.window
        if invocation_id is not None:
            while len(memory.ids) >= self._max_ids:
                memory.ids.popitem(last=False)
            memory.ids[invocation_id] = now + self.window

    def _refuse(self, reason: Refusal, message: str) -> None:
        self.refused[reason] += 1
        raise ReplayError(reason, message)

    def _new_peer(self, peer: Hashable) -> _PeerMemory:
        while len(self._peers) >= self._max_peers:
            self._peers.popitem(last=False)
            self.evicted_peers += 1
        memory = _PeerMemory()
        self._peers[peer] = memory
        return memory

    @staticmethod
    def _forget_oldest_iv(memory: _PeerMemory) -> None:
        (key_id, value), _ = memory.ivs.popitem(last=False)
        if value > memory.floors.get(key_id, -1):
            memory.floors[key_id] = value

    def _expire(self, memory: _PeerMemory, now: float) -> None:
        """Drop entries whose time is up (oldest first; an entry kept past its time is harmless)."""
        ivs = memory.ivs
        while ivs and ivs[next(iter(ivs))] <= now:
            self._forget_oldest_iv(memory)
        ids = memory.ids
        while ids and ids[next(iter(ids))] <= now:
            ids.popitem(last=False)
