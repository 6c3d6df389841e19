"""Event log records with C12.19 event codes, and the ST3 status flags the engine maintains.

An `EventRecord` carries what an ST76 EVENT_ENTRY_RCD carries: EVENT_TIME (here the meter's clock, s
since 1970 UTC), EVENT_SEQ_NBR (UINT16, wraps), USER_ID (0 the device itself), EVENT_CODE's
TBL_PROC_NBR and STD_VS_MFG_FLAG, and EVENT_ARGUMENT octets. Codes are C12.19's standard event codes
(`openami.c1219.std.decade7.EVENT_CODES`); the engine uses:

    1/2 power down/up, 3/4 time changed (logged at the old and the new time), 9 procedure invoked
    (argument: the procedure's TABLE_IDB, UINT16), 10 table written (argument: the table's TABLE_IDB),
    20 demand reset, 43 measurement error (ADC clipping), 46 demand overload, 47 tamper attempt,
    48 reverse rotation, 49 control point changed by a command — service disconnect/connect, argument
    (control point 0, new state 0 open / 1 closed): the standard list has no disconnect code of its own.

UINT16 arguments are written in the meter's data order (ST0 DATA_ORDER; little endian by default).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import Literal

from openami.c1219.std.decade7 import event_name
from openami.meter.engine.errors import EngineError

__all__ = ["EventCode", "EventLog", "EventRecord", "StatusFlag"]


class EventCode(IntEnum):
    """The standard event codes the engine logs (values from C12.19's table of event codes)."""

    POWER_DOWN = 1
    POWER_UP = 2
    TIME_CHANGED_OLD = 3
    TIME_CHANGED_NEW = 4
    PROCEDURE_INVOKED = 9
    TABLE_WRITTEN = 10
    EVENT_LOG_CLEARED = 18
    DEMAND_RESET = 20
    MEASUREMENT_ERROR = 43
    DEMAND_OVERLOAD = 46
    TAMPER = 47
    REVERSE_ROTATION = 48
    CONTROL_POINT_COMMAND = 49


class StatusFlag(IntFlag):
    """ST3 ED_STD_STATUS1 bits (bit 0 = least significant) the engine sets; they latch until cleared."""

    MEASUREMENT_ERROR = 1 << 7
    DEMAND_OVERLOAD = 1 << 10
    POWER_FAILURE = 1 << 11
    TAMPER_DETECT = 1 << 12
    REVERSE_ROTATION = 1 << 13


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One logged event (see the module doc); ``time`` is meter time in s."""

    time: int
    seq: int
    code: int
    user_id: int = 0
    argument: bytes = b""
    manufacturer: bool = False

    @property
    def name(self) -> str:
        """The event code's name from C12.19's list."""
        return event_name(self.code, self.manufacturer)

    @property
    def table_idb(self) -> int:
        """EVENT_CODE as a TABLE_IDB_BFLD value: TBL_PROC_NBR b0–10, STD_VS_MFG_FLAG b11."""
        return self.code | (0x800 if self.manufacturer else 0)


class EventLog:
    """A bounded event log (oldest entries drop out; ``overflow`` then latches) with sequence numbers."""

    __slots__ = ("_entries", "byteorder", "next_seq", "overflow")

    def __init__(self, capacity: int = 256, byteorder: Literal["little", "big"] = "little") -> None:
        if not 1 <= capacity <= 65535:
            raise EngineError(f"event log capacity is 1..65535, got {capacity}")
        self._entries: deque[EventRecord] = deque(maxlen=capacity)
        self.byteorder: Literal["little", "big"] = byteorder
        self.next_seq = 0
        self.overflow = False

    def log(
        self, time: int, code: int, user_id: int = 0, argument: bytes = b"", manufacturer: bool = False
    ) -> EventRecord:
        """Append an event at meter time ``time`` and return it."""
        if not (0 <= code <= 0x7FF and 0 <= user_id <= 0xFFFF):
            raise EngineError(f"event code 0..2047 and user id 0..65535, got {code}, {user_id}")
        record = EventRecord(int(time), self.next_seq, code, user_id, bytes(argument), manufacturer)
        if len(self._entries) == self._entries.maxlen:
            self.overflow = True
        self._entries.append(record)
        self.next_seq = (self.next_seq + 1) & 0xFFFF
        return record

    def uint16(self, value: int) -> bytes:
        """A UINT16 argument in the log's data order."""
        if not 0 <= value <= 0xFFFF:
            raise EngineError(f"UINT16 out of range: {value}")
        return value.to_bytes(2, self.byteorder)

    def clear(self, time: int, user_id: int = 0) -> None:
        """Drop every entry and log 'Event log cleared' (sequence numbers continue)."""
        self._entries.clear()
        self.overflow = False
        self.log(time, EventCode.EVENT_LOG_CLEARED, user_id)

    @property
    def entries(self) -> tuple[EventRecord, ...]:
        """The entries, oldest first."""
        return tuple(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
