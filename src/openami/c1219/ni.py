"""Non-integer formats NI_FMAT1 / NI_FMAT2, selected by ST0 FORMAT_CONTROL_3 NI_FORMAT1 / NI_FORMAT2.

Code table (C12.19 ST0 text as quoted by public readers and firmware; sizes in octets):

==== ============== ==== ================================================================
code name           size encoding
==== ============== ==== ================================================================
0    FLOAT64        8    IEEE 754 double, DATA_ORDER
1    FLOAT32        4    IEEE 754 single, DATA_ORDER
2    FLOAT_CHAR12   12   decimal number in characters (right-justified, blank-padded)
3    FLOAT_CHAR6    6    idem
4    INT32_DEC4     4    signed INT32 with an implied decimal point four digits from the right:
                         raw 1 means 0.0001 (decodes to `Decimal`)
5    FIXED_BCD6     3    6 BCD digits, unsigned integer *
6    FIXED_BCD4     2    4 BCD digits, unsigned integer *
7    INT24          3    signed, INT_FORMAT
8    INT32          4    signed
9    INT40          5    signed
10   INT48          6    signed
11   INT64          8    signed
12   FIXED_BCD8     4    8 BCD digits, unsigned integer *
13   FLOAT_CHAR21   21   decimal number in characters
14   reserved
15   reserved
==== ============== ==== ================================================================

``*`` the sign / decimal-point convention of FIXED_BCD is not in any public source found: read as
unsigned integers, to be checked against the standard.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy.typing as npt

from openami.c1219.formats import Formats
from openami.c1219.types import BcdCodec, Codec, FloatCharCodec, FloatCodec, IntCodec
from openami.errors import LocalProtocolError

__all__ = ["NI_FORMAT_NAMES", "ni_codec"]

NI_FORMAT_NAMES = {
    0: "FLOAT64",
    1: "FLOAT32",
    2: "FLOAT_CHAR12",
    3: "FLOAT_CHAR6",
    4: "INT32_DEC4",
    5: "FIXED_BCD6",
    6: "FIXED_BCD4",
    7: "INT24",
    8: "INT32",
    9: "INT40",
    10: "INT48",
    11: "INT64",
    12: "FIXED_BCD8",
    13: "FLOAT_CHAR21",
}


class ScaledIntCodec(IntCodec):
    """INT32 with an implied decimal point four digits from the right (NI code 4) → `Decimal`."""

    SCALE = 4

    def __init__(self, formats: Formats) -> None:
        super().__init__(4, True, formats)
        self.type_name = "INT32_DEC4"
        self.plain = False

    def decode(self, buf: Any, offset: int) -> Decimal:  # type: ignore[override]
        return Decimal(super().decode(buf, offset)).scaleb(-self.SCALE)

    def encode(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise LocalProtocolError(f"{self.type_name} needs a number, got {value!r}")
        scaled = Decimal(str(value)).scaleb(self.SCALE)
        if scaled != scaled.to_integral_value():
            raise LocalProtocolError(f"{value} has more than {self.SCALE} decimals for {self.type_name}")
        return super().encode(int(scaled))

    def from_array(self, column: npt.NDArray[Any]) -> list[Any]:
        return [Decimal(v).scaleb(-self.SCALE) for v in super().from_array(column)]


def ni_codec(code: int, formats: Formats) -> Codec:
    """The codec of NI format ``code`` under ``formats`` (raises `LocalProtocolError` if reserved)."""
    if code in (0, 1):
        return _named(FloatCodec(8 if code == 0 else 4, formats), code)
    if code in (2, 3, 13):
        return FloatCharCodec({2: 12, 3: 6, 13: 21}[code])
    if code == 4:
        return ScaledIntCodec(formats)
    if code in (5, 6, 12):
        return _named(BcdCodec({5: 3, 6: 2, 12: 4}[code]), code)
    if code in (7, 8, 9, 10, 11):
        return IntCodec({7: 3, 8: 4, 9: 5, 10: 6, 11: 8}[code], True, formats)
    raise LocalProtocolError(f"NI format code {code} is reserved; expected 0..13")


def _named(codec: Codec, code: int) -> Codec:
    codec.type_name = NI_FORMAT_NAMES[code]
    return codec
