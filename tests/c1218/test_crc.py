"""CRC-16/X-25 against published values and an independent bit-by-bit implementation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from openami.c1218.crc import crc16, crc16_bytes


def reference_crc(data: bytes) -> int:
    """Bit-serial CRC-16/X-25 written from the parameters (reflected 0x8408, init/xorout 0xFFFF)."""
    reg = 0xFFFF
    for byte in data:
        for bit in range(8):
            feedback = (reg ^ (byte >> bit)) & 1
            reg >>= 1
            if feedback:
                reg ^= 0x8408
    return reg ^ 0xFFFF


def test_check_value() -> None:
    # Catalogue check value of CRC-16/X-25 (alias CRC-16/IBM-SDLC): CRC of ASCII "123456789".
    assert crc16(b"123456789") == 0x906E


def test_facts_identify_packet_example() -> None:
    # c12-protocol-facts.md §5: EE 00 00 00 00 01 20 is closed by 13 10 (low byte first).
    body = bytes.fromhex("EE 00 00 00 00 01 20")
    assert crc16_bytes(body) == bytes.fromhex("13 10")
    assert crc16(body) == 0x1013


def test_empty_input_is_init_xor_out() -> None:
    assert crc16(b"") == 0x0000


def test_residue_after_appending_the_crc() -> None:
    # Catalogue residue 0xF0B8 (register before the final XOR) over a message followed by its CRC.
    msg = b"123456789"
    assert crc16(msg + crc16_bytes(msg)) ^ 0xFFFF == 0xF0B8


@given(st.binary(max_size=300))
def test_table_matches_bitwise_reference(data: bytes) -> None:
    assert crc16(data) == reference_crc(data)
    assert crc16(bytearray(data)) == crc16(memoryview(data)) == crc16(data)


@given(st.binary(min_size=1, max_size=64), st.integers(min_value=0), st.integers(min_value=0, max_value=7))
def test_single_bit_errors_change_the_crc(data: bytes, where: int, bit: int) -> None:
    flipped = bytearray(data)
    flipped[where % len(data)] ^= 1 << bit
    assert crc16(bytes(flipped)) != crc16(data)
