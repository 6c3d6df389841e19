"""The BER primitives C12.22 uses: definite lengths, tag-length-value reads, OID arcs, INTEGERs.

Every decoder takes ``(buf, offset)`` and returns the value and the offset after it; malformed or truncated
input raises `RemoteProtocolError`. Encoders raise `LocalProtocolError` for values BER cannot carry here.
"""

from __future__ import annotations

from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "decode_integer",
    "decode_length",
    "decode_oid_arcs",
    "encode_integer",
    "encode_length",
    "encode_oid_arcs",
    "encode_tlv",
    "read_tlv",
]

MAX_LENGTH_OCTETS = 4
"""Long-form lengths of more than 4 octets (≥ 4 GiB) are refused: no C12.22 APDU comes near that."""


def encode_length(n: int) -> bytes:
    """BER definite length, shortest form: ``n`` < 128 in one byte, else ``0x8k`` and k big-endian bytes."""
    if n < 0:
        raise LocalProtocolError(f"BER length must be >= 0, got {n}")
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    if len(body) > MAX_LENGTH_OCTETS:
        raise LocalProtocolError(f"BER length {n} needs more than {MAX_LENGTH_OCTETS} length octets")
    return bytes((0x80 | len(body),)) + body


def decode_length(buf: bytes | bytearray | memoryview, offset: int) -> tuple[int, int]:
    """Read a definite BER length at ``offset``; returns ``(length, offset_after)``.

    Long forms that are not minimal (``81 05``) are accepted, as real devices send them; callers that
    must re-encode byte-exactly keep the raw octets. The indefinite form (``80``) is refused.
    """
    if offset >= len(buf):
        raise RemoteProtocolError("truncated BER length: no length octet")
    first = buf[offset]
    if first < 0x80:
        return first, offset + 1
    count = first & 0x7F
    if count == 0:
        raise RemoteProtocolError("indefinite BER length (0x80) is not allowed in C12.22")
    if count > MAX_LENGTH_OCTETS:
        raise RemoteProtocolError(f"BER length with {count} length octets (at most {MAX_LENGTH_OCTETS})")
    end = offset + 1 + count
    if end > len(buf):
        raise RemoteProtocolError(f"truncated BER length: {count} length octets announced")
    return int.from_bytes(bytes(buf[offset + 1 : end]), "big"), end


def read_tlv(buf: bytes | bytearray | memoryview, offset: int) -> tuple[int, int, int]:
    """Read one single-byte-tag TLV at ``offset``; returns ``(tag, value_start, value_end)``.

    Raises `RemoteProtocolError` if the tag uses the multi-byte form or the value runs past ``buf``.
    """
    if offset >= len(buf):
        raise RemoteProtocolError("truncated BER element: no tag octet")
    tag = buf[offset]
    if tag & 0x1F == 0x1F:
        raise RemoteProtocolError(f"multi-byte BER tag 0x{tag:02X} is not used by C12.22")
    length, start = decode_length(buf, offset + 1)
    end = start + length
    if end > len(buf):
        raise RemoteProtocolError(
            f"truncated BER element 0x{tag:02X}: {length} octets announced, {len(buf) - start} present"
        )
    return tag, start, end


def encode_tlv(tag: int, value: bytes) -> bytes:
    """One TLV with a single-byte ``tag`` and the shortest length form."""
    if not 0 <= tag <= 0xFF or tag & 0x1F == 0x1F:
        raise LocalProtocolError(f"tag 0x{tag:X} is not a single-byte BER tag")
    size = len(value)
    if size < 0x80:  # short form: one length octet
        return bytes((tag, size)) + value
    return bytes((tag,)) + encode_length(size) + value


def _encode_base128(arc: int) -> bytes:
    out = [arc & 0x7F]
    arc >>= 7
    while arc:
        out.append(0x80 | (arc & 0x7F))
        arc >>= 7
    return bytes(reversed(out))


def encode_oid_arcs(arcs: tuple[int, ...], *, relative: bool) -> bytes:
    """Content octets of an OBJECT IDENTIFIER (``relative=False``) or RELATIVE-OID (``relative=True``).

    Absolute OIDs fold the first two arcs into ``40 * a + b`` (``a`` in 0..2, ``b`` < 40 unless ``a`` = 2).
    """
    if any(a < 0 for a in arcs):
        raise LocalProtocolError(f"OID arcs must be >= 0: {arcs}")
    if relative:
        if not arcs:
            raise LocalProtocolError("a relative OID needs at least one arc")
        return b"".join(_encode_base128(a) for a in arcs)
    if len(arcs) < 2:
        raise LocalProtocolError(f"an absolute OID needs at least two arcs: {arcs}")
    first, second = arcs[0], arcs[1]
    if first > 2 or (first < 2 and second >= 40):
        raise LocalProtocolError(f"invalid first OID arcs {first}.{second}")
    return _encode_base128(40 * first + second) + b"".join(_encode_base128(a) for a in arcs[2:])


def decode_oid_arcs(content: bytes | bytearray | memoryview, *, relative: bool) -> tuple[int, ...]:
    """Arcs of OID content octets; the inverse of `encode_oid_arcs`.

    Raises `RemoteProtocolError` for empty content, a sub-identifier cut short, or a padded one (``80 ..``).
    """
    if len(content) == 0:
        raise RemoteProtocolError("empty OID")
    values: list[int] = []
    value = 0
    started = False
    for byte in bytes(content):
        if not started and byte == 0x80:
            raise RemoteProtocolError("OID sub-identifier with a leading 0x80 padding octet")
        started = True
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            values.append(value)
            value = 0
            started = False
    if started:
        raise RemoteProtocolError("OID content ends inside a sub-identifier")
    if relative:
        return tuple(values)
    head = values[0]
    first = min(head // 40, 2)
    return (first, head - 40 * first, *values[1:])


def encode_integer(value: int) -> bytes:
    """Content octets of a BER INTEGER (two's complement, shortest form)."""
    length = max(1, (value.bit_length() + 8) // 8)
    return value.to_bytes(length, "big", signed=True)


def decode_integer(content: bytes | bytearray | memoryview) -> int:
    """Value of BER INTEGER content octets (two's complement, big-endian)."""
    if len(content) == 0:
        raise RemoteProtocolError("empty INTEGER")
    if len(content) > 16:
        raise RemoteProtocolError(f"INTEGER of {len(content)} octets is too large")
    return int.from_bytes(bytes(content), "big", signed=True)
