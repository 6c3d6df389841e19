"""Recent requests a server has accepted, so a client's retry is answered again, not run twice.

A client re-sends a request unchanged (same bytes, hence same A8 and IV). The server's replay guard
would refuse the copy, and executing it again could repeat a write or a procedure; instead the copy
is recognised by (peer, A8, SHA-256 of the APDU) and gets the response already sent (or nothing, if
the application has not answered yet or the response control said never). A forged message cannot
match: its digest differs from the verified original's.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["RecentRequests"]

Key = tuple[str, int]
"""(peer title key, calling AP invocation id)."""


@dataclass
class _Recent:
    digest: bytes
    expires: float
    response: bytes | None = None


class RecentRequests:
    """At most ``capacity`` requests, each kept ``window`` seconds after it arrived."""

    def __init__(self, window: float, capacity: int) -> None:
        self._window = window
        self._capacity = capacity
        self._entries: OrderedDict[Key, _Recent] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def remember(self, key: Key, apdu: bytes, now: float) -> None:
        """Record an accepted request (its response is not known yet)."""
        if self._window <= 0 or self._capacity <= 0:
            return
        self._entries[key] = _Recent(digest=hashlib.sha256(apdu).digest(), expires=now + self._window)
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def answered(self, key: Key, response: bytes | None) -> None:
        """The response sent for ``key`` (None: nothing was sent)."""
        entry = self._entries.get(key)
        if entry is not None:
            entry.response = response

    def match(self, key: Key, apdu: bytes, now: float) -> tuple[bool, bytes | None]:
        """``(True, cached response or None)`` if ``apdu`` is a byte-identical copy of a recent request,
        else ``(False, None)``. Purges expired entries first."""
        self.purge(now)
        entry = self._entries.get(key)
        if entry is None or entry.digest != hashlib.sha256(apdu).digest():
            return False, None
        return True, entry.response

    def purge(self, now: float) -> None:
        """Forget entries whose window has passed (oldest first)."""
        entries = self._entries
        while entries and entries[next(iter(entries))].expires <= now:
            entries.popitem(last=False)
