"""Date and time types for every ST0 TM_FORMAT.

Layouts (sizes in octets; counters are UINT32 in DATA_ORDER; sources: the 2008 standard's TM_FORMAT
text and field layouts as quoted by public readers and meter firmware — see docs/c1219.md):

=========== ======================== ================================ ========================
type        TM 1 (BCD) / TM 2 (UINT8) TM 3                             TM 4
=========== ======================== ================================ ========================
LTIME_DATE  6: YY MM DD hh mm ss     5: minutes since 1970 + UINT8 ss 4: seconds since 1970
STIME_DATE  5: YY MM DD hh mm        4: minutes since 1970            4: seconds since 1970
DATE        3: YY MM DD              3: YY MM DD (UINT8) *            3: YY MM DD (UINT8) *
TIME        3: hh mm ss              4: seconds since midnight        4: seconds since midnight *
STIME       2: hh mm                 4: minutes since midnight *      4: seconds since midnight *
HTIME_DATE  LTIME_DATE + hundredths  LTIME_DATE + hundredths *        LTIME_DATE + hundredths *
HTIME       TIME + hundredths        TIME + hundredths *              TIME + hundredths *
=========== ======================== ================================ ========================

The high-resolution types append one octet of hundredths of a second (BCD under TM 1); the 2008 text
speaks of "fractional seconds" without a public layout, so the hundredths unit is ours.

TM 0 (no clock): every type has size 0 and decodes to None. ``*`` = no public source found; our
choice, to be checked against the standard's text. Two-digit years: 00..89 → 2000..2089,
90..99 → 1990..1999 (the standard's text as quoted in public firmware).

Values decode to naive `datetime` / `date` / `time` (local or UTC is said by TIME_DATE_QUAL, not here).
Field combinations that are not a real date or time (an unset clock of zeros, 0xFF fill, a BCD nibble
over 9) decode to `RawTime` carrying the octets, so they round-trip exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from openami.c1219.formats import Formats, TmFormat
from openami.c1219.types import Buffer, Codec
from openami.errors import LocalProtocolError

__all__ = ["TIME_KINDS", "RawTime", "TimeCodec"]

EPOCH = dt.datetime(1970, 1, 1)
TIME_KINDS = ("HTIME_DATE", "LTIME_DATE", "STIME_DATE", "DATE", "HTIME", "TIME", "STIME")
_HIGH_BASE = {"HTIME_DATE": "LTIME_DATE", "HTIME": "TIME"}
"""The high-resolution types are their base type followed by one octet of hundredths of a second."""

# fields written as discrete octets in TM 1 / 2 (and for DATE in every format)
_FIELDS = {
    "LTIME_DATE": ("year", "month", "day", "hour", "minute", "second"),
    "STIME_DATE": ("year", "month", "day", "hour", "minute"),
    "DATE": ("year", "month", "day"),
    "TIME": ("hour", "minute", "second"),
    "STIME": ("hour", "minute"),
}


@dataclass(frozen=True, slots=True)
class RawTime:
    """A date/time field whose octets are not a valid date or time (kept for an exact re-encode)."""

    data: bytes

    def __str__(self) -> str:
        return f"RawTime({self.data.hex()})"


def _year_from_yy(yy: int) -> int:
    return 2000 + yy if yy < 90 else 1900 + yy


def _yy(year: int) -> int:
    if not 1990 <= year <= 2089:
        raise LocalProtocolError(f"year {year} cannot be written with two digits (1990..2089)")
    return year % 100


class TimeCodec(Codec):
    """One date/time type (``kind`` in `TIME_KINDS`) under the formats' TM_FORMAT."""

    def __init__(self, kind: str, formats: Formats) -> None:
        if kind not in TIME_KINDS:
            raise LocalProtocolError(f"unknown date/time type {kind}")
        self.type_name = kind
        self.high = kind in _HIGH_BASE
        kind = _HIGH_BASE.get(kind, kind)
        self.kind = kind
        self.tm = formats.tm_format
        self.byteorder: Any = formats.byteorder
        self.fields = _FIELDS[kind]
        self.discrete = self.tm in (TmFormat.BCD, TmFormat.UINT8) or kind == "DATE"
        if self.tm == TmFormat.NO_CLOCK:
            self.size = 0
        elif self.discrete:
            self.size = len(self.fields)
        elif kind == "LTIME_DATE" and self.tm == TmFormat.UINT32_MINUTES:
            self.size = 5
        else:
            self.size = 4
        if self.high and self.size:
            self.size += 1
        self.bcd = self.tm == TmFormat.BCD

    # -- decode -------------------------------------------------------------------------------------
    def decode(self, buf: Buffer, offset: int) -> Any:
        if self.size == 0:
            return None
        chunk = bytes(buf[offset : offset + self.size])
        core = chunk[:-1] if self.high else chunk
        try:
            value = self._decode_fields(core) if self.discrete else self._decode_counter(core)
            if self.high:
                value = value.replace(microsecond=self._hundredths(chunk[-1]) * 10_000)
        except (ValueError, OverflowError):  # not a real date, or past year 9999
            return RawTime(chunk)
        return value

    def _hundredths(self, octet: int) -> int:
        high, low = octet >> 4, octet & 0x0F
        value = high * 10 + low if self.bcd else octet
        if value > 99 or (self.bcd and (high > 9 or low > 9)):
            raise ValueError("hundredths")
        return value

    def _decode_fields(self, chunk: bytes) -> Any:
        if self.bcd:
            text = chunk.hex()
            if not text.isdigit():
                raise ValueError("not BCD")
            octets = [int(text[i : i + 2]) for i in range(0, len(text), 2)]
        else:
            octets = list(chunk)
        values = dict(zip(self.fields, octets, strict=True))
        if "year" in values:
            if values["year"] > 99:
                raise ValueError("year")
            values["year"] = _year_from_yy(values["year"])
        if self.kind == "DATE":
            return dt.date(values["year"], values["month"], values["day"])
        if self.kind in ("TIME", "STIME"):
            return dt.time(values["hour"], values["minute"], values.get("second", 0))
        return dt.datetime(
            values["year"], values["month"], values["day"], values["hour"], values["minute"], values.get("second", 0)
        )

    def _decode_counter(self, chunk: bytes) -> Any:
        count = int.from_bytes(chunk[:4], self.byteorder)
        if self.kind in ("TIME", "STIME"):
            seconds = count * 60 if (self.kind == "STIME" and self.tm == TmFormat.UINT32_MINUTES) else count
            if seconds >= 86400:
                raise ValueError("time of day")
            return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60)
        if self.tm == TmFormat.UINT32_MINUTES:
            seconds = count * 60
            if self.kind == "LTIME_DATE":
                if chunk[4] > 59:
                    raise ValueError("seconds")
                seconds += chunk[4]
        else:
            seconds = count
            if self.kind == "STIME_DATE" and seconds % 60:
                raise ValueError("STIME_DATE with seconds")
        return EPOCH + dt.timedelta(seconds=seconds)

    # -- encode -------------------------------------------------------------------------------------
    def encode(self, value: Any) -> bytes:
        if self.size == 0:
            if value is not None:
                raise LocalProtocolError(f"{self.kind} has no octets when TM_FORMAT is 0 (no clock)")
            return b""
        if isinstance(value, RawTime):
            if len(value.data) != self.size:
                raise LocalProtocolError(f"{self.kind} raw value needs {self.size} octets")
            return bytes(value.data)
        self._check_type(value)
        tail = b""
        if self.high:
            hundredths = value.microsecond // 10_000
            tail = bytes.fromhex(f"{hundredths:02d}") if self.bcd else bytes((hundredths,))
            value = value.replace(microsecond=0)
        if self.discrete:
            return self._encode_fields(value) + tail
        return self._encode_counter(value) + tail

    def _check_type(self, value: Any) -> None:
        if self.kind in ("TIME", "STIME"):
            ok, expected = isinstance(value, dt.time), "datetime.time"
        elif self.kind == "DATE":
            ok, expected = isinstance(value, dt.date) and not isinstance(value, dt.datetime), "datetime.date"
        else:
            ok, expected = isinstance(value, dt.datetime), "datetime.datetime"
        if not ok:
            raise LocalProtocolError(f"{self.type_name} needs a {expected}, got {value!r}")
        if getattr(value, "tzinfo", None) is not None:
            raise LocalProtocolError(f"{self.kind} values are naive (TIME_DATE_QUAL says local or UTC)")
        if self.high:
            if value.microsecond % 10_000:
                raise LocalProtocolError(f"{self.type_name} resolves hundredths of a second: {value!r}")
        elif getattr(value, "microsecond", False):
            raise LocalProtocolError(f"{self.kind} has no sub-second resolution: {value!r}")
        if "second" not in self.fields and self.discrete and getattr(value, "second", False):
            raise LocalProtocolError(f"{self.kind} has no seconds: {value!r}")

    def _encode_fields(self, value: Any) -> bytes:
        octets = []
        for name in self.fields:
            part = getattr(value, name)
            octets.append(_yy(part) if name == "year" else part)
        if self.bcd:
            return bytes.fromhex("".join(f"{o:02d}" for o in octets))
        return bytes(octets)

    def _encode_counter(self, value: Any) -> bytes:
        if self.kind in ("TIME", "STIME"):
            seconds = value.hour * 3600 + value.minute * 60 + value.second
            if self.kind == "STIME" and self.tm == TmFormat.UINT32_MINUTES:
                if value.second:
                    raise LocalProtocolError(f"STIME under TM_FORMAT 3 has no seconds: {value!r}")
                seconds //= 60
            return int(seconds).to_bytes(4, self.byteorder)
        delta = value - EPOCH
        seconds = delta.days * 86400 + delta.seconds
        if self.tm == TmFormat.UINT32_MINUTES:
            minutes, rest = divmod(seconds, 60)
            if self.kind == "STIME_DATE" and rest:
                raise LocalProtocolError(f"STIME_DATE has no seconds: {value!r}")
            count, tail = minutes, (bytes((rest,)) if self.kind == "LTIME_DATE" else b"")
        else:
            if self.kind == "STIME_DATE" and seconds % 60:
                raise LocalProtocolError(f"STIME_DATE has no seconds: {value!r}")
            count, tail = seconds, b""
        if not 0 <= count <= 0xFFFFFFFF:
            raise LocalProtocolError(f"{value} is outside the UINT32 counter range from 1970")
        return int(count).to_bytes(4, self.byteorder) + tail
