"""The C12.19 table data checksum carried by every read response and write request."""

from __future__ import annotations

__all__ = ["table_checksum"]


def table_checksum(data: bytes | bytearray | memoryview) -> int:
    """8-bit two's complement of the sum of the data octets: ``(-sum(data)) & 0xFF``.

    Checks (c12-protocol-facts.md §3): ``b"MANUFACTURER SN "`` → 0x92, ``b"testdata"`` → 0xA6. Same as
    Wireshark's ``c1222_cksum`` (``~sum + 1``).
    """
    return (-sum(bytes(data))) & 0xFF
