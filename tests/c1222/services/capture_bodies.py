"""Test helper: find the cleartext EPSEMs in a raw capture file and split them into service bodies.

It does not parse pcap records: it scans the file bytes for the C12.22 user-information element
``BE L 28 L [02 L ref] 81 L <EPSEM>`` (c12-protocol-facts.md §1) whose three lengths agree, then splits
the EPSEM (``control [ed-class:4] {BER length, service}+``, §2). Only cleartext EPSEMs (security mode 0)
are returned; in file order, which for these captures is request then response.
"""

from __future__ import annotations

from pathlib import Path

from openami.c1222.ber import decode_length
from openami.errors import ProtocolError

CAPTURES = Path("/work/shared/c1222-pcaps")


def _epsem_at(raw: bytes, i: int) -> tuple[bytes, int] | None:
    """The EPSEM of a user-information element starting at ``raw[i] == 0xBE``, and the end offset."""
    try:
        outer_len, p = decode_length(raw, i + 1)
        end = p + outer_len
        if end > len(raw) or raw[p] != 0x28:
            return None
        ext_len, q = decode_length(raw, p + 1)
        if q + ext_len != end:
            return None
        if raw[q] == 0x02:  # optional indirect reference
            ref_len, r = decode_length(raw, q + 1)
            q = r + ref_len
        if q >= end or raw[q] != 0x81:
            return None
        epsem_len, s = decode_length(raw, q + 1)
        if s + epsem_len != end:
            return None
    except (ProtocolError, IndexError):
        return None
    return raw[s:end], end


def split_epsem(epsem: bytes) -> list[bytes]:
    """Service bodies of a cleartext EPSEM (raises ProtocolError if it does not split exactly)."""
    pos = 5 if epsem[0] & 0x10 else 1  # control byte, then ED class if bit 4
    bodies = []
    while pos < len(epsem):
        length, start = decode_length(epsem, pos)
        if length == 0:  # a zero length ends the service list
            break
        bodies.append(epsem[start : start + length])
        pos = start + length
    if pos > len(epsem):
        raise ProtocolError("EPSEM service runs past its end")
    return bodies


def cleartext_epsems(path: Path) -> list[list[bytes]]:
    """For each cleartext EPSEM in the file, in order: its list of service bodies."""
    raw = path.read_bytes()
    found: list[list[bytes]] = []
    i = raw.find(b"\xbe")
    while i != -1:
        hit = _epsem_at(raw, i)
        if hit is None:
            i = raw.find(b"\xbe", i + 1)
            continue
        epsem, end = hit
        if epsem and epsem[0] & 0x0C == 0:  # security mode 0: cleartext
            found.append(split_epsem(epsem))
        i = raw.find(b"\xbe", end)
    return found
