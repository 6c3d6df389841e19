"""CRC-16/X-25, the checksum that closes every C12.18 packet.

Parameters (c12-protocol-facts.md §5): reflected polynomial 0x8408 (0x1021 bit-reversed), initial value
0xFFFF, final XOR 0xFFFF. Check value: ``crc16(b"123456789") == 0x906E``. On the wire the CRC follows the
packet body low byte first: ``EE 00 00 00 00 01 20`` is closed by ``13 10`` (CRC 0x1013).
"""

from __future__ import annotations

__all__ = ["CRC_INIT", "CRC_POLY_REFLECTED", "CRC_XOROUT", "crc16", "crc16_bytes"]

CRC_POLY_REFLECTED = 0x8408
"""Reflected form of the CCITT polynomial x^16 + x^12 + x^5 + 1."""
CRC_INIT = 0xFFFF
CRC_XOROUT = 0xFFFF


def _build_table() -> tuple[int, ...]:
    """The 256 one-byte remainders of the reflected polynomial (a constant lookup table)."""
    table = []
    for byte in range(256):
        reg = byte
        for _ in range(8):
            reg = (reg >> 1) ^ CRC_POLY_REFLECTED if reg & 1 else reg >> 1
        table.append(reg)
    return tuple(table)


_TABLE = _build_table()


def crc16(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/X-25 of ``data`` as an integer 0..0xFFFF."""
    reg = CRC_INIT
    table = _TABLE
    for byte in bytes(data):
        reg = (reg >> 8) ^ table[(reg ^ byte) & 0xFF]
    return reg ^ CRC_XOROUT


def crc16_bytes(data: bytes | bytearray | memoryview) -> bytes:
    """CRC-16/X-25 of ``data`` as the 2 bytes a C12.18 packet ends with (low byte first)."""
    return crc16(data).to_bytes(2, "little")
