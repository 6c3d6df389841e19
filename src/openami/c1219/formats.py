"""The format controls of GEN_CONFIG_TBL (ST0) that every other table's encoding depends on.

Codes (C12.19 ST0 FORMAT_CONTROL_1..3; c12-protocol-facts.md §7, the rest from the standard's ST0
description as reproduced by public implementations):

- DATA_ORDER: 0 least significant byte first, 1 most significant byte first.
- CHAR_FORMAT: 1 ISO/IEC 646 (7-bit), 2 ISO 8859-1, 3 UTF-8, 4 UTF-16, 5 UTF-32 (0, 6, 7 reserved).
- INT_FORMAT: 0 two's complement, 1 ones' complement, 2 sign-magnitude (3 reserved).
- TM_FORMAT: 0 no clock, 1 BCD, 2 UINT8 fields, 3 UINT32 minutes since 1970 (+ UINT8 seconds),
  4 UINT32 seconds since 1970 (5–7 reserved).
- NI_FORMAT1 / NI_FORMAT2: see `openami.c1219.ni` for the code table.
- ID_FORM: 0 ST5 IDENTIFICATION is 20 characters, 1 it is 10 bytes of BCD.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from openami.errors import LocalProtocolError

__all__ = ["CharFormat", "DataOrder", "Formats", "IntFormat", "TmFormat"]


class DataOrder(IntEnum):
    """ST0 DATA_ORDER: the byte order of multi-byte table values."""

    LSB_FIRST = 0
    MSB_FIRST = 1


class CharFormat(IntEnum):
    """ST0 CHAR_FORMAT: the character set of CHAR / STRING fields."""

    ISO_646 = 1
    ISO_8859_1 = 2
    UTF_8 = 3
    UTF_16 = 4
    UTF_32 = 5


class IntFormat(IntEnum):
    """ST0 INT_FORMAT: how signed integers are represented."""

    TWOS_COMPLEMENT = 0
    ONES_COMPLEMENT = 1
    SIGN_MAGNITUDE = 2


class TmFormat(IntEnum):
    """ST0 TM_FORMAT: how date and time values are represented."""

    NO_CLOCK = 0
    BCD = 1
    UINT8 = 2
    UINT32_MINUTES = 3
    UINT32_SECONDS = 4


@dataclass(frozen=True, slots=True)
class Formats:
    """The ST0 format controls that bind a table definition to bytes.

    Defaults are the most common choice in deployed meters: little-endian, ISO 646 characters, two's
    complement, binary date fields, FLOAT32 / INT32 non-integers (NI codes 1 and 8).
    """

    data_order: DataOrder = DataOrder.LSB_FIRST
    char_format: CharFormat = CharFormat.ISO_646
    int_format: IntFormat = IntFormat.TWOS_COMPLEMENT
    tm_format: TmFormat = TmFormat.UINT8
    ni_format1: int = 1
    ni_format2: int = 8
    id_form: int = 0

    def __post_init__(self) -> None:
        for name, enum in (
            ("data_order", DataOrder),
            ("char_format", CharFormat),
            ("int_format", IntFormat),
            ("tm_format", TmFormat),
        ):
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, enum(value))
            except ValueError:
                allowed = ", ".join(f"{m.value} ({m.name})" for m in enum)
                raise LocalProtocolError(f"{name.upper()} {value} is not defined; expected one of {allowed}") from None
        for name in ("ni_format1", "ni_format2"):
            if not 0 <= getattr(self, name) <= 15:
                raise LocalProtocolError(f"{name.upper()} must be 0..15, got {getattr(self, name)}")
        if self.id_form not in (0, 1):
            raise LocalProtocolError(f"ID_FORM must be 0 or 1, got {self.id_form}")

    @property
    def byteorder(self) -> str:
        """``"little"`` or ``"big"``, for `int.from_bytes`."""
        return "little" if self.data_order == DataOrder.LSB_FIRST else "big"

    @property
    def numpy_order(self) -> str:
        """``"<"`` or ``">"``, for numpy dtypes and struct formats."""
        return "<" if self.data_order == DataOrder.LSB_FIRST else ">"
