"""Framing a TCP byte stream into whole C12.22 APDUs (sans-IO): `MessageSplitter`."""

from __future__ import annotations

from openami.c1222.acse import Buf, message_length
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = ["MessageSplitter"]


class MessageSplitter:
    """Sans-IO framing of a TCP byte stream into whole APDUs.

    ``feed(data)`` returns the complete APDUs now available (bytes, in order). When the stream cannot
    go on — bytes that cannot start an APDU, or an APDU announced larger than ``max_size`` bytes (tag
    and length included) — `feed` raises `RemoteProtocolError`: close the connection. APDUs completed
    before the bad bytes are returned first; the error is raised by the next call (``feed(b"")``
    re-checks). Apart from one incoming chunk, at most ``max_size`` bytes are buffered.
    """

    def __init__(self, max_size: int = 0x10000) -> None:
        if max_size < 2:
            raise LocalProtocolError(f"max_size must be >= 2, got {max_size}")
        self.max_size = max_size
        self._buf = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes held that do not yet form a whole APDU."""
        return len(self._buf)

    def feed(self, data: Buf) -> list[bytes]:
        """Add ``data``; return every APDU completed by it (see the class doc for errors)."""
        self._buf += data
        out: list[bytes] = []
        while True:
            try:
                total = message_length(self._buf)
                if total is not None and total > self.max_size:
                    raise RemoteProtocolError(f"C12.22 APDU of {total} bytes exceeds the {self.max_size}-byte limit")
            except RemoteProtocolError:
                if out:
                    return out
                raise
            if total is None or total > len(self._buf):
                return out
            out.append(bytes(self._buf[:total]))
            del self._buf[:total]
