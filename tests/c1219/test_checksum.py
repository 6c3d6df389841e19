from hypothesis import given
from hypothesis import strategies as st

from openami.c1219.checksum import table_checksum


def test_published_checks() -> None:  # c12-protocol-facts.md §3
    assert table_checksum(b"MANUFACTURER SN ") == 0x92
    assert table_checksum(b"testdata") == 0xA6
    assert table_checksum(b"") == 0


@given(st.binary(max_size=300))
def test_data_plus_checksum_sums_to_zero(data: bytes) -> None:
    assert (sum(data) + table_checksum(data)) % 256 == 0
