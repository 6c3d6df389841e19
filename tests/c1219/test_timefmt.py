"""Date/time codecs against octets written by hand for every TM_FORMAT (layouts: docs/c1219.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from openami.c1219.formats import DataOrder, Formats, TmFormat
from openami.c1219.timefmt import RawTime, TimeCodec
from openami.errors import LocalProtocolError

WHEN = dt.datetime(2026, 11, 22, 14, 30, 45)
# 2026-11-22 14:30:45 is 1,795,357,845 s after 1970-01-01 (20,779 days × 86,400 + 52,245 s)
SECONDS = 1_795_357_845
MINUTES, REST = divmod(SECONDS, 60)

CASES = [
    # kind, TM, octets (little-endian counters), value
    ("LTIME_DATE", 1, "261122143045", WHEN),
    ("LTIME_DATE", 2, bytes([26, 11, 22, 14, 30, 45]).hex(), WHEN),
    ("LTIME_DATE", 3, MINUTES.to_bytes(4, "little").hex() + f"{REST:02x}", WHEN),
    ("LTIME_DATE", 4, SECONDS.to_bytes(4, "little").hex(), WHEN),
    ("STIME_DATE", 1, "2611221430", WHEN.replace(second=0)),
    ("STIME_DATE", 2, bytes([26, 11, 22, 14, 30]).hex(), WHEN.replace(second=0)),
    ("STIME_DATE", 3, MINUTES.to_bytes(4, "little").hex(), WHEN.replace(second=0)),
    ("STIME_DATE", 4, (SECONDS - REST).to_bytes(4, "little").hex(), WHEN.replace(second=0)),
    ("DATE", 1, "261122", WHEN.date()),
    ("DATE", 2, "1a0b16", WHEN.date()),
    ("TIME", 1, "143045", WHEN.time()),
    ("TIME", 3, (14 * 3600 + 30 * 60 + 45).to_bytes(4, "little").hex(), WHEN.time()),
    ("STIME", 2, "0e1e", dt.time(14, 30)),
    ("STIME", 3, (14 * 60 + 30).to_bytes(4, "little").hex(), dt.time(14, 30)),
    ("HTIME_DATE", 1, "26112214304550", WHEN.replace(microsecond=500_000)),
    ("HTIME_DATE", 2, bytes([26, 11, 22, 14, 30, 45, 7]).hex(), WHEN.replace(microsecond=70_000)),
    ("HTIME_DATE", 4, SECONDS.to_bytes(4, "little").hex() + "63", WHEN.replace(microsecond=990_000)),
    ("HTIME", 2, bytes([14, 30, 45, 1]).hex(), WHEN.time().replace(microsecond=10_000)),
]


@pytest.mark.parametrize(("kind", "tm", "octets", "value"), CASES)
def test_hand_written_octets(kind: str, tm: int, octets: str, value: object) -> None:
    codec = TimeCodec(kind, Formats(tm_format=TmFormat(tm)))
    raw = bytes.fromhex(octets)
    assert codec.size == len(raw)
    assert codec.decode(raw, 0) == value
    assert codec.encode(value) == raw


def test_big_endian_counters() -> None:
    codec = TimeCodec("LTIME_DATE", Formats(tm_format=TmFormat.UINT32_SECONDS, data_order=DataOrder.MSB_FIRST))
    assert codec.encode(WHEN) == SECONDS.to_bytes(4, "big")


def test_year_pivot_and_invalid_fields() -> None:
    codec = TimeCodec("DATE", Formats(tm_format=TmFormat.UINT8))
    assert codec.decode(bytes([89, 1, 1]), 0) == dt.date(2089, 1, 1)
    assert codec.decode(bytes([90, 1, 1]), 0) == dt.date(1990, 1, 1)
    assert codec.decode(bytes([26, 13, 1]), 0) == RawTime(bytes([26, 13, 1]))
    with pytest.raises(LocalProtocolError):
        codec.encode(dt.date(2090, 1, 1))
    high = TimeCodec("HTIME", Formats(tm_format=TmFormat.BCD))
    assert isinstance(high.decode(bytes.fromhex("1430459a"), 0), RawTime)
    with pytest.raises(LocalProtocolError, match="hundredths"):
        high.encode(dt.time(1, 2, 3, 5))


def test_no_clock_has_no_octets() -> None:
    codec = TimeCodec("HTIME_DATE", Formats(tm_format=TmFormat.NO_CLOCK))
    assert codec.size == 0 and codec.decode(b"", 0) is None and codec.encode(None) == b""
