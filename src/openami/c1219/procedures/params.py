"""Typed parameters (ST7 PARM octets) of the standard procedures openami's meter runs.

Each record encodes to / decodes from the PARM octets under the device's `Formats` (multi-byte integers
in DATA_ORDER, dates per TM_FORMAT, amounts per NI_FORMAT1). Decoding checks the exact length and that
reserved bits are zero, and raises `RemoteProtocolError` otherwise — a meter answers that with
RESULT_CODE 2 (invalid parameter). Layouts and their sources:

======== ======================================== ===========================================================
SP       PARM                                     source
======== ======================================== ===========================================================
0–3, 7,  none                                     Itron procedure list ("no parameters"), L+G firmware
8, 12,
14
6        ED_MODE:1 (METERING b0, TEST b1,         termineter ``set_meter_mode``
         METER_SHOP b2, FACTORY b3)
9        ACTION_FLAG:1 (DEMAND_RESET b0,          b0/b1 termineter ``remote_reset``, L+G; b2–b6 recalled from
         SELF_READ b1, SEASON_CHANGE b2,          C12.19-2008, to be checked
         NEW_SEASON b3–6)
10       SET_MASK:1 (SET_TIME b0, SET_DATE b1,    Itron ``SET_MASK_BFLD`` and procedure size (7 octets in
         SET_TIME_DATE_QUAL b2), DATE_TIME:       TM_FORMAT 3)
         LTIME_DATE, TIME_DATE_QUAL:1
13, 15   EVENT_RCD:6 = EVENT_SELECTOR:1           Itron passes the pending entry's EVENT_RCD; the nDPI
         (EVENT_CODE b0–3, SELF_READ b4,          capture's SP15 carries 6 octets (``02 'ITRN' FE``);
         DEMAND_RESET b5) + EVENT_STORAGE:5       selector bits per L+G's ST4
16, 17   none                                     L+G firmware (SP16); some editions add a set mask — recalled
21       CONTROL_POINT:1 ACTION:1                 no public source: openami's design, to be checked against
         CONTROL_LEVEL:1 DURATION:2 (min)         C12.19-2008
22       ACTION:1 REFERENCE:4 AMOUNT:NI_FMAT1     no public source: openami's design, to be checked
======== ======================================== ===========================================================
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum, IntFlag
from typing import ClassVar, Self

from openami.c1219.formats import Formats
from openami.c1219.ni import ni_codec
from openami.c1219.procedures.records import (
    ProcedureRequest,
    ResponseSelector,
    StandardProcedure,
    byte_order,
)
from openami.c1219.std.decade11 import ALL_CONTROL_POINTS, CreditAction
from openami.c1219.timefmt import RawTime, TimeCodec
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "PROCEDURE_PARAMS",
    "ActivateAllPendingTablesParams",
    "ActivateSpecificPendingTablesParams",
    "ChangeEndDeviceModeParams",
    "ClearAllPendingTablesParams",
    "ClearDataParams",
    "ClearMfgStatusFlagsParams",
    "ClearSpecificPendingTablesParams",
    "ClearStdStatusFlagsParams",
    "ColdStartParams",
    "DirectLoadControlParams",
    "EdMode",
    "LoadControlAction",
    "ModifyCreditParams",
    "NoParams",
    "PendingEventCode",
    "PendingEventParams",
    "ProcedureParams",
    "RemoteResetParams",
    "SaveConfigurationParams",
    "SetDateTimeParams",
    "StartLoadProfileParams",
    "StopLoadProfileParams",
    "TimeDateQual",
    "WarmStartParams",
    "decode_params",
    "params_of",
]

Number = int | float | Decimal


def _expect(data: bytes, size: int, what: str) -> None:
    if len(data) != size:
        raise RemoteProtocolError(f"{what} parameters are {size} octets, got {len(data)}")


def _reserved(value: int, mask: int, what: str) -> None:
    if value & ~mask:
        raise RemoteProtocolError(f"{what}: reserved bits set in 0x{value:02X}")


def _int_in(value: object, lo: int, hi: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise LocalProtocolError(f"{name} must be {lo}..{hi}, got {value!r}")
    return value


def _flag(value: object, name: str) -> None:
    if not isinstance(value, bool):
        raise LocalProtocolError(f"{name} must be True or False, got {value!r}")


class ProcedureParams(ABC):
    """The parameters of one standard procedure (``PROCEDURE``)."""

    __slots__ = ()
    PROCEDURE: ClassVar[StandardProcedure]

    @abstractmethod
    def encode(self, formats: Formats | None = None) -> bytes:
        """The ST7 PARM octets (raises `LocalProtocolError` for a value the layout cannot hold)."""

    @classmethod
    @abstractmethod
    def decode(cls, data: bytes, formats: Formats | None = None) -> Self:
        """From ST7 PARM octets (raises `RemoteProtocolError` if malformed)."""

    def request(
        self,
        seq_nbr: int = 0,
        selector: ResponseSelector = ResponseSelector.ON_COMPLETION,
        formats: Formats | None = None,
    ) -> ProcedureRequest:
        """The ST7 request running this procedure with these parameters."""
        return ProcedureRequest(int(self.PROCEDURE), False, selector, seq_nbr, self.encode(formats))


# -- procedures without parameters --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NoParams(ProcedureParams):
    """A procedure that takes no parameters (PARM is empty)."""

    def encode(self, formats: Formats | None = None) -> bytes:
        return b""

    @classmethod
    def decode(cls, data: bytes, formats: Formats | None = None) -> Self:
        _expect(bytes(data), 0, "no-parameter procedure")
        return cls()


@dataclass(frozen=True, slots=True)
class ColdStartParams(NoParams):
    """SP0."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.COLD_START


@dataclass(frozen=True, slots=True)
class WarmStartParams(NoParams):
    """SP1."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.WARM_START


@dataclass(frozen=True, slots=True)
class SaveConfigurationParams(NoParams):
    """SP2."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.SAVE_CONFIGURATION


@dataclass(frozen=True, slots=True)
class ClearDataParams(NoParams):
    """SP3: purge measured data (registers, self reads, load profile), keep the programming."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.CLEAR_DATA


@dataclass(frozen=True, slots=True)
class ClearStdStatusFlagsParams(NoParams):
    """SP7: clear ST3 ED_STD_STATUS1/2."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.CLEAR_STD_STATUS_FLAGS


@dataclass(frozen=True, slots=True)
class ClearMfgStatusFlagsParams(NoParams):
    """SP8: clear ST3 ED_MFG_STATUS."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.CLEAR_MFG_STATUS_FLAGS


@dataclass(frozen=True, slots=True)
class ActivateAllPendingTablesParams(NoParams):
    """SP12."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.ACTIVATE_ALL_PENDING_TABLES


@dataclass(frozen=True, slots=True)
class ClearAllPendingTablesParams(NoParams):
    """SP14."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.CLEAR_ALL_PENDING_TABLES


@dataclass(frozen=True, slots=True)
class StartLoadProfileParams(NoParams):
    """SP16: start recording every load-profile set."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.START_LOAD_PROFILE


@dataclass(frozen=True, slots=True)
class StopLoadProfileParams(NoParams):
    """SP17: stop recording every load-profile set."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.STOP_LOAD_PROFILE


# -- SP6 -----------------------------------------------------------------------------------------------
class EdMode(IntFlag):
    """ED_MODE bits (as in ST3)."""

    METERING = 0x01
    TEST = 0x02
    METER_SHOP = 0x04
    FACTORY = 0x08


@dataclass(frozen=True, slots=True)
class ChangeEndDeviceModeParams(ProcedureParams):
    """SP6: ED_MODE:1, the mode(s) to enter."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.CHANGE_END_DEVICE_MODE
    ed_mode: EdMode

    def __post_init__(self) -> None:
        object.__setattr__(self, "ed_mode", EdMode(_int_in(self.ed_mode, 0, 0x0F, "ED_MODE")))

    def encode(self, formats: Formats | None = None) -> bytes:
        return bytes((int(self.ed_mode),))

    @classmethod
    def decode(cls, data: bytes, formats: Formats | None = None) -> Self:
        data = bytes(data)
        _expect(data, 1, "SP6")
        _reserved(data[0], 0x0F, "SP6 ED_MODE")
        return cls(EdMode(data[0]))


# -- SP9 -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RemoteResetParams(ProcedureParams):
    """SP9: ACTION_FLAG:1 — DEMAND_RESET b0, SELF_READ b1, SEASON_CHANGE b2, NEW_SEASON b3–6."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.REMOTE_RESET
    demand_reset: bool = False
    self_read: bool = False
    season_change: bool = False
    new_season: int = 0

    def __post_init__(self) -> None:
        for name in ("demand_reset", "self_read", "season_change"):
            _flag(getattr(self, name), name)
        _int_in(self.new_season, 0, 15, "NEW_SEASON")

    def encode(self, formats: Formats | None = None) -> bytes:
        bits = self.demand_reset | self.self_read << 1 | self.season_change << 2 | self.new_season << 3
        return bytes((bits,))

    @classmethod
    def decode(cls, data: bytes, formats: Formats | None = None) -> Self:
        data = bytes(data)
        _expect(data, 1, "SP9")
        bits = data[0]
        _reserved(bits, 0x7F, "SP9 ACTION_FLAG")
        return cls(bool(bits & 1), bool(bits & 2), bool(bits & 4), bits >> 3 & 0x0F)


# -- SP10 ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TimeDateQual:
    """TIME_DATE_QUAL (UINT8, as ST52): DAY_OF_WEEK b0–2 (0 Sunday … 6 Saturday, 7 unknown), DST_FLAG b3,
    GMT_FLAG b4, TM_ZN_APPLIED_FLAG b5, DST_APPLIED_FLAG b6, DST_SUPPORTED_FLAG b7."""

    day_of_week: int = 7
    dst: bool = False
    gmt: bool = False
    tm_zn_applied: bool = False
    dst_applied: bool = False
    dst_supported: bool = False

    def __post_init__(self) -> None:
        _int_in(self.day_of_week, 0, 7, "DAY_OF_WEEK")
        for name in ("dst", "gmt", "tm_zn_applied", "dst_applied", "dst_supported"):
            _flag(getattr(self, name), name)

    def to_int(self) -> int:
        """The UINT8 value."""
        return (
            self.day_of_week
            | self.dst << 3
            | self.gmt << 4
            | self.tm_zn_applied << 5
            | self.dst_applied << 6
            | self.dst_supported << 7
        )

    @classmethod
    def from_int(cls, value: int) -> TimeDateQual:
        """From the UINT8 value (every value is valid)."""
        return cls(value & 7, *(bool(value >> bit & 1) for bit in range(3, 8)))

    @classmethod
    def for_datetime(cls, when: dt.datetime, **flags: bool) -> TimeDateQual:
        """The qualifier of ``when`` with its day of the week filled in (C12.19 counts from Sunday = 0)."""
        return cls((when.weekday() + 1) % 7, **flags)


def _decode_time(codec: TimeCodec, chunk: bytes) -> dt.datetime | RawTime | None:
    try:
        value = codec.decode(chunk, 0)
    except (OverflowError, ValueError):  # a counter past datetime's year 9999
        return RawTime(chunk)
    if value is not None and not isinstance(value, dt.datetime | RawTime):
        raise RemoteProtocolError(f"LTIME_DATE decoded to {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class SetDateTimeParams(ProcedureParams):
    """SP10: SET_MASK:1, DATE_TIME:LTIME_DATE (per TM_FORMAT), TIME_DATE_QUAL:1.

    ``date_time`` is naive (local or UTC as the qualifier says); `RawTime` keeps octets that are not a
    valid date; None only under TM_FORMAT 0. The SET_MASK flags say which parts the device applies.
    """

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.SET_DATE_TIME
    date_time: dt.datetime | RawTime | None
    time_date_qual: TimeDateQual = TimeDateQual()
    set_time: bool = True
    set_date: bool = True
    set_time_date_qual: bool = True

    def __post_init__(self) -> None:
        for name in ("set_time", "set_date", "set_time_date_qual"):
            _flag(getattr(self, name), name)
        if not isinstance(self.time_date_qual, TimeDateQual):
            raise LocalProtocolError(f"time_date_qual must be a TimeDateQual, got {self.time_date_qual!r}")

    def encode(self, formats: Formats | None = None) -> bytes:
        codec = TimeCodec("LTIME_DATE", formats if formats is not None else Formats())
        mask = self.set_time | self.set_date << 1 | self.set_time_date_qual << 2
        return bytes((mask,)) + codec.encode(self.date_time) + bytes((self.time_date_qual.to_int(),))

    @classmethod
    def decode(cls, data: bytes, formats: Formats | None = None) -> Self:
        data = bytes(data)
        codec = TimeCodec("LTIME_DATE", formats if formats is not None else Formats())
        _expect(data, 2 + codec.size, "SP10")
        _reserved(data[0], 0x07, "SP10 SET_MASK")
        when = _decode_time(codec, data[1 : 1 + codec.size])
        qual = TimeDateQual.from_int(data[-1])
        return cls(when, qual, bool(data[0] & 1), bool(data[0] & 2), bool(data[0] & 4))


# -- SP13 / SP15 ---------------------------------------------------------------------------------------
class PendingEventCode(IntEnum):
    """EVENT_SELECTOR.EVENT_CODE of a pending entry (recalled from C12.19; to be checked)."""

    ABSOLUTE_TIME = 0  # EVENT_STORAGE holds the activation STIME_DATE
    RELATIVE_TIME = 1  # EVENT_STORAGE holds a delay
    NON_TIME_BASED = 2  # EVENT_STORAGE is an identifier; activated by SP13


@dataclass(frozen=True, slots=True)
class PendingEventParams(ProcedureParams):
    """EVENT_RCD:6 naming the pending entries to act on (the one written with the pending table).

    EVENT_SELECTOR:1 = EVENT_CODE b0–3 (`PendingEventCode`), SELF_READ_FLAG b4, DEMAND_RESET_FLAG b5;
    EVENT_STORAGE:5 (time or identifier, per EVENT_CODE).
    """

    PROCEDURE: ClassVar[StandardProcedure]
    event_code: int = PendingEventCode.NON_TIME_BASED
    event_storage: bytes = bytes(5)
    self_read: bool = False
    demand_reset: bool = False

    def __post_init__(self) -> None:
        _int_in(self.event_code, 0, 15, "EVENT_CODE")
        if not isinstance(self.event_storage, bytes | bytearray) or len(self.event_storage) != 5:
            raise LocalProtocolError(f"EVENT_STORAGE must be 5 octets, got {self.event_storage!r}")
        object.__setattr__(self, "event_storage", bytes(self.event_storage))
        _flag(self.self_read, "self_read")
        _flag(self.demand_reset, "demand_reset")

    def encode(self, formats: Formats | None = None) -> bytes:
        selector = int(self.event_code) | self.self_read << 4 | self.demand_reset << 5
        return bytes((selector,)) + self.event_storage

    @classmethod
    def decode(cls, data: bytes, formats: Formats | None = None) -> Self:
        data = bytes(data)
        _expect(data, 6, "EVENT_RCD")
        _reserved(data[0], 0x3F, "EVENT_SELECTOR")
        return cls(data[0] & 0x0F, data[1:6], bool(data[0] & 0x10), bool(data[0] & 0x20))


@dataclass(frozen=True, slots=True)
class ActivateSpecificPendingTablesParams(PendingEventParams):
    """SP13: activate the pending tables whose EVENT_RCD matches."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.ACTIVATE_SPECIFIC_PENDING_TABLES


@dataclass(frozen=True, slots=True)
class ClearSpecificPendingTablesParams(PendingEventParams):
    """SP15: discard the pending tables whose EVENT_RCD matches."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.CLEAR_SPECIFIC_PENDING_TABLES


# -- SP21 ----------------------------------------------------------------------------------------------
class LoadControlAction(IntEnum):
    """SP21 ACTION (openami's design)."""

    RELEASE = 0  # end command control: back to schedules, conditions or the default state
    SHED = 1  # level 0
    RESTORE = 2  # level 100
    SET_LEVEL = 3  # CONTROL_LEVEL


@dataclass(frozen=True, slots=True)
class DirectLoadControlParams(ProcedureParams):
    """SP21: CONTROL_POINT:1 (ST113 index, 255 all), ACTION:1, CONTROL_LEVEL:1 (%, 0..100; used by
    SET_LEVEL), DURATION:UINT16 (min, 0 = until the next command). No public layout: openami's design."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.DIRECT_LOAD_CONTROL
    control_point: int
    action: LoadControlAction
    control_level: int = 0
    duration: int = 0

    def __post_init__(self) -> None:
        _int_in(self.control_point, 0, ALL_CONTROL_POINTS, "CONTROL_POINT")
        object.__setattr__(self, "action", LoadControlAction(_int_in(self.action, 0, 3, "ACTION")))
        _int_in(self.control_level, 0, 100, "CONTROL_LEVEL")
        _int_in(self.duration, 0, 0xFFFF, "DURATION")

    @property
    def level(self) -> int | None:
        """The level the point goes to (%), None for RELEASE."""
        return {LoadControlAction.SHED: 0, LoadControlAction.RESTORE: 100}.get(
            self.action, None if self.action == LoadControlAction.RELEASE else self.control_level
        )

    def encode(self, formats: Formats | None = None) -> bytes:
        head = bytes((self.control_point, int(self.action), self.control_level))
        return head + self.duration.to_bytes(2, byte_order(formats))

    @classmethod
    def decode(cls, data: bytes, formats: Formats | None = None) -> Self:
        data = bytes(data)
        _expect(data, 5, "SP21")
        if data[1] > max(LoadControlAction):
            raise RemoteProtocolError(f"SP21 ACTION {data[1]} is not defined")
        if data[2] > 100:
            raise RemoteProtocolError(f"SP21 CONTROL_LEVEL {data[2]} % is over 100")
        return cls(data[0], LoadControlAction(data[1]), data[2], int.from_bytes(data[3:5], byte_order(formats)))


# -- SP22 ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ModifyCreditParams(ProcedureParams):
    """SP22: ACTION:1 (`CreditAction`), REFERENCE:UINT32 (the head-end's transaction number, so a
    repeated command is recognised), AMOUNT:NI_FMAT1 (currency of ST118). No public layout: openami's
    design."""

    PROCEDURE: ClassVar[StandardProcedure] = StandardProcedure.MODIFY_CREDIT
    action: CreditAction
    amount: Number
    reference: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", CreditAction(_int_in(self.action, 0, max(CreditAction), "ACTION")))
        if isinstance(self.amount, bool) or not isinstance(self.amount, int | float | Decimal):
            raise LocalProtocolError(f"AMOUNT must be a number, got {self.amount!r}")
        _int_in(self.reference, 0, 0xFFFFFFFF, "REFERENCE")

    def encode(self, formats: Formats | None = None) -> bytes:
        formats = formats if formats is not None else Formats()
        amount = ni_codec(formats.ni_format1, formats).encode(self.amount)
        return bytes((int(self.action),)) + self.reference.to_bytes(4, byte_order(formats)) + amount

    @classmethod
    def decode(cls, data: bytes, formats: Formats | None = None) -> Self:
        data = bytes(data)
        formats = formats if formats is not None else Formats()
        codec = ni_codec(formats.ni_format1, formats)
        _expect(data, 5 + codec.size, "SP22")
        if data[0] > max(CreditAction):
            raise RemoteProtocolError(f"SP22 ACTION {data[0]} is not defined")
        amount = codec.decode(data, 5)
        return cls(CreditAction(data[0]), amount, int.from_bytes(data[1:5], byte_order(formats)))


# -- registry ------------------------------------------------------------------------------------------
PROCEDURE_PARAMS: dict[int, type[ProcedureParams]] = {
    int(cls.PROCEDURE): cls
    for cls in (
        ColdStartParams,
        WarmStartParams,
        SaveConfigurationParams,
        ClearDataParams,
        ChangeEndDeviceModeParams,
        ClearStdStatusFlagsParams,
        ClearMfgStatusFlagsParams,
        RemoteResetParams,
        SetDateTimeParams,
        ActivateAllPendingTablesParams,
        ActivateSpecificPendingTablesParams,
        ClearAllPendingTablesParams,
        ClearSpecificPendingTablesParams,
        StartLoadProfileParams,
        StopLoadProfileParams,
        DirectLoadControlParams,
        ModifyCreditParams,
    )
}
"""Standard procedure number → its parameter record."""


def decode_params(proc: int, data: bytes, formats: Formats | None = None) -> ProcedureParams:
    """The typed parameters of standard procedure ``proc`` (`RemoteProtocolError` if malformed;
    `LocalProtocolError` for a procedure without a record here)."""
    try:
        cls = PROCEDURE_PARAMS[proc]
    except (KeyError, TypeError):
        raise LocalProtocolError(f"no parameter record for standard procedure {proc!r}") from None
    return cls.decode(bytes(data), formats)


def params_of(request: ProcedureRequest, formats: Formats | None = None) -> ProcedureParams:
    """The typed parameters of a standard-procedure request."""
    if request.mfg:
        raise LocalProtocolError(f"MFG{request.procedure} is a manufacturer procedure")
    return decode_params(request.procedure, request.params, formats)
