"""The meter's table store: every table of a `MeterConfig` as octets, read and written like a real meter.

The octets come from `openami.meter.build.build_tables` (every table through its bound layout).

`TableStore` holds the octets and answers the table services without access control (the responder
checks clearance between `check_writable` and `write`). Failures raise `TableAccessError` carrying the
C12.22 response code:

======================================================= ======
table absent, manufacturer table, reserved id bits      ONP
offset / index / element count outside the table        ONP
full write of the wrong length; no free pending slot     ONP
table not in ST0 STD_TBLS_WRITE (or ST4 pending set)     IAR
data that would leave the table undecodable             ERR
======================================================= ======

Pending tables (ST4): a write whose table id has bit 12 set carries EVENT_RCD (6 octets, as in ST4)
before the table data; it is kept in one of ST0 NBR_PENDING slots and applied when activated (SP12,
SP13, or — EVENT_CODE 0 — when the meter clock reaches the STIME_DATE at the start of EVENT_STORAGE).
EVENT_CODE 1 (relative time) is treated like 2 (activated by procedure only): its delay unit is not
in a public source.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openami.c1219.config import DeviceConfig
from openami.c1219.layout import Layout, bind
from openami.c1219.procedures import PendingEventParams
from openami.c1219.std import STANDARD_TABLES
from openami.c1219.timefmt import RawTime, TimeCodec
from openami.c1222.codes import ResponseCode
from openami.c1222.services import MANUFACTURER_TABLE_FLAG, PENDING_TABLE_FLAG
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from openami.meter.build import aptitle_field, build_tables, merge, to_ni
from openami.meter.config import MeterConfig

__all__ = [
    "EVENT_RCD_SIZE",
    "PendingEntry",
    "TableAccessError",
    "TableStore",
    "aptitle_field",
    "build_tables",
    "merge",
    "to_ni",
]

EVENT_RCD_SIZE = 6
"""Octets of the EVENT_RCD that precedes the data of a pending write."""


class TableAccessError(RemoteProtocolError):
    """A table service the store refuses; ``code`` is the response to send."""

    def __init__(self, code: ResponseCode, message: str) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code


_NO_EVENT = {"EVENT_CODE": 0, "SELF_READ_FLAG": False, "DEMAND_RESET_FLAG": False}
_NO_TABLE = {"TBL_PROC_NBR": 0, "STD_VS_MFG_FLAG": False, "PENDING_FLAG": False, "EUDT_FLAG": False}


# -- the store ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PendingEntry:
    """One pending write: table, offset (octets) and data, the EVENT_RCD that activates it, and whether
    it is still pending (False once activated: the ST4 slot is shown until reused)."""

    table: int
    offset: int
    data: bytes
    event: PendingEventParams
    pending: bool = True


class TableStore:
    """Octets of every table of a `MeterConfig`, with the table services' checks (module docstring)."""

    def __init__(self, config: MeterConfig, *, built: tuple[Mapping[int, bytes], DeviceConfig] | None = None) -> None:
        """``built``: the octets and device configuration of `build_tables` for ``config``, when the caller
        has them already (a fleet builds one template and patches each meter's identity tables)."""
        self.config = config
        octets, self.device = build_tables(config) if built is None else (dict(built[0]), built[1])
        self._octets: dict[int, bytes] = octets
        self._versions: dict[int, int] = dict.fromkeys(octets, 0)
        self._numbers = frozenset(octets)
        st0 = self.value(0)
        self._writable = frozenset(st0["STD_TBLS_WRITE"])
        self._pending_set = frozenset(self.value(4)["STANDARD_PENDING"]) if 4 in octets else frozenset()
        self.pending: list[PendingEntry | None] = [None] * int(st0["NBR_PENDING"])
        self.last_activation: Any = self.value(4)["LAST_ACTIVATION_DATE_TIME"] if 4 in octets else None

    # -- plain access -----------------------------------------------------------------------------------------
    @property
    def numbers(self) -> frozenset[int]:
        """The tables of this meter (ST0 STD_TBLS_USED)."""
        return self._numbers

    def layout(self, number: int) -> Layout:
        return bind(STANDARD_TABLES[number], self.device)

    def get(self, number: int) -> bytes:
        """The octets of table ``number`` (KeyError if absent)."""
        return self._octets[number]

    def value(self, number: int) -> dict[str, Any]:
        """Table ``number`` decoded."""
        return self.layout(number).decode(self._octets[number])

    def version(self, number: int) -> int:
        """Counts the changes of table ``number`` (for caches of decoded values)."""
        return self._versions[number]

    def put(self, number: int, value: Mapping[str, Any] | bytes) -> None:
        """Replace table ``number`` (the meter's own update: no checks but that the octets decode)."""
        layout = self.layout(number)
        data = bytes(value) if isinstance(value, bytes | bytearray) else layout.encode(value)
        layout.decode(data)
        self._set(number, data)

    def update(self, number: int, changes: Mapping[str, Any]) -> None:
        """Merge decoded-shape ``changes`` (see `merge`) into table ``number``."""
        self.put(number, merge(self.value(number), changes))

    def rebuild(self, number: int, changes: Mapping[str, Any]) -> None:
        """Replace table ``number`` by its all-zero template with ``changes`` merged in."""
        layout = self.layout(number)
        self.put(number, merge(layout.decode(bytes(layout.size)), changes))

    def _set(self, number: int, data: bytes) -> None:
        if self._octets[number] != data:
            self._octets[number] = data
            self._versions[number] += 1

    # -- table services --------------------------------------------------------------------------------------
    def resolve(self, table_id: int) -> tuple[int, bool]:
        """(table number, pending flag) of a 16-bit table id; ONP unless a standard table of this meter."""
        if table_id & MANUFACTURER_TABLE_FLAG or table_id & 0xE000:
            raise TableAccessError(ResponseCode.ONP, f"table id 0x{table_id:04X}: no such table here")
        number = table_id & 0x07FF
        if number not in self._octets:
            raise TableAccessError(ResponseCode.ONP, f"ST{number} is not a table of this meter")
        return number, bool(table_id & PENDING_TABLE_FLAG)

    def read(self, number: int, offset: int = 0, count: int | None = None) -> bytes:
        """Octets ``offset .. offset + count`` (the whole table when ``count`` is None)."""
        data = self._octets[number]
        if count is None:
            return data
        if offset > len(data) or offset + count > len(data):
            raise TableAccessError(ResponseCode.ONP, f"ST{number}: {count} octets at {offset} past its {len(data)}")
        return data[offset : offset + count]

    def read_index(self, number: int, indices: Sequence[int], count: int) -> bytes:
        """The octets of ``count`` elements at a C12.19 index path."""
        try:
            span = self.layout(number).locate_index(indices, count)
        except LocalProtocolError as exc:
            raise TableAccessError(ResponseCode.ONP, f"ST{number}: {exc}") from None
        return self._octets[number][span.offset : span.offset + span.size]

    def index_offset(self, number: int, indices: Sequence[int], length: int) -> int:
        """The offset of a write by index of ``length`` octets: whole consecutive elements only (ONP)."""
        layout = self.layout(number)
        try:
            first = layout.locate_index(indices, 1)
        except LocalProtocolError as exc:
            raise TableAccessError(ResponseCode.ONP, f"ST{number}: {exc}") from None
        if length == first.size:
            return first.offset
        counts = [length // first.size] if first.size and length % first.size == 0 else []
        for count in [*counts, *range(2, 256)]:
            try:
                span = layout.locate_index(indices, count)
            except LocalProtocolError:
                break
            if span.size == length:
                return span.offset
            if span.size > length and count not in counts:
                break
        raise TableAccessError(
            ResponseCode.ONP, f"ST{number}: {length} octets are not whole elements at {list(indices)}"
        )

    def check_writable(self, number: int, pending: bool = False) -> None:
        """IAR unless ST0 STD_TBLS_WRITE (or, for a pending write, ST4 STANDARD_PENDING) has the table."""
        allowed = self._pending_set if pending else self._writable
        if number not in allowed:
            kind = "pending" if pending else "written"
            raise TableAccessError(ResponseCode.IAR, f"ST{number} cannot be {kind}")

    def replaced(self, number: int, offset: int, data: bytes, full: bool) -> bytes:
        """The table's octets after writing ``data`` at ``offset`` (bounds and decode checked, not stored)."""
        current = self._octets[number]
        layout = self.layout(number)
        if full:
            if not layout.size <= len(data) <= layout.max_size:
                raise TableAccessError(ResponseCode.ONP, f"ST{number} is {layout.size} octets, got {len(data)}")
            new = bytes(data)
        else:
            if offset + len(data) > len(current):
                raise TableAccessError(ResponseCode.ONP, f"ST{number}: {len(data)} octets at {offset} past the end")
            new = current[:offset] + data + current[offset + len(data) :]
        try:
            layout.decode(new)
        except ProtocolError as exc:
            raise TableAccessError(ResponseCode.ERR, f"ST{number} would not decode: {exc}") from None
        return new

    def write(self, number: int, offset: int, data: bytes, full: bool = False) -> None:
        """Write ``data`` (whole table if ``full``): IAR when read-only, ONP out of bounds, ERR undecodable."""
        self.check_writable(number)
        self._set(number, self.replaced(number, offset, data, full))

    # -- pending tables --------------------------------------------------------------------------------------
    def write_pending(self, number: int, offset: int, payload: bytes, full: bool) -> PendingEntry:
        """Keep a pending write (``payload`` = EVENT_RCD + data) in a free ST4 slot."""
        self.check_writable(number, pending=True)
        if len(payload) < EVENT_RCD_SIZE:
            raise TableAccessError(ResponseCode.ERR, "a pending write starts with a 6-octet EVENT_RCD")
        try:
            event = PendingEventParams.decode(payload[:EVENT_RCD_SIZE])
        except ProtocolError as exc:
            raise TableAccessError(ResponseCode.ERR, f"EVENT_RCD: {exc}") from None
        data = payload[EVENT_RCD_SIZE:]
        self.replaced(number, offset, data, full)
        free = next((i for i, e in enumerate(self.pending) if e is None or not e.pending), None)
        if free is None:
            raise TableAccessError(ResponseCode.ONP, f"all {len(self.pending)} pending slots are in use")
        entry = PendingEntry(number, 0 if full else offset, bytes(data), event)
        self.pending[free] = entry
        self._refresh_st4()
        return entry

    def activate(self, match: Callable[[PendingEntry], bool], when: dt.datetime | RawTime) -> list[PendingEntry]:
        """Apply the pending writes ``match`` selects (in slot order); returns them."""
        done: list[PendingEntry] = []
        for slot, entry in enumerate(self.pending):
            if entry is None or not entry.pending or not match(entry):
                continue
            full = entry.offset == 0 and len(entry.data) >= self.layout(entry.table).size
            # a write that no longer fits (the table changed meanwhile) is dropped
            with contextlib.suppress(TableAccessError):
                self._set(entry.table, self.replaced(entry.table, entry.offset, entry.data, full))
            self.pending[slot] = PendingEntry(entry.table, entry.offset, entry.data, entry.event, pending=False)
            done.append(entry)
        if done:
            self.last_activation = when
            self._refresh_st4()
        return done

    def clear_pending(self, match: Callable[[PendingEntry], bool]) -> list[PendingEntry]:
        """Discard the pending writes ``match`` selects; returns them."""
        gone = [e for e in self.pending if e is not None and e.pending and match(e)]
        self.pending = [None if e is not None and e in gone else e for e in self.pending]
        if gone:
            self._refresh_st4()
        return gone

    def due(self, now: dt.datetime) -> Callable[[PendingEntry], bool]:
        """A matcher for entries with an absolute activation time (EVENT_CODE 0) at or before ``now``."""
        codec = TimeCodec("STIME_DATE", self.config.formats)

        def match(entry: PendingEntry) -> bool:
            if entry.event.event_code != 0:
                return False
            when = codec.decode(entry.event.event_storage, 0)
            return isinstance(when, dt.datetime) and when <= now

        return match

    def _refresh_st4(self) -> None:
        if 4 not in self._octets:
            return
        slots = []
        for entry in self.pending:
            if entry is None:
                slots.append(
                    {"EVENT": {"EVENT_SELECTOR": _NO_EVENT, "EVENT_STORAGE": bytes(5)}, "TABLE_SELECTOR": _NO_TABLE}
                )
                continue
            e = entry.event
            selector = {"EVENT_CODE": e.event_code, "SELF_READ_FLAG": e.self_read, "DEMAND_RESET_FLAG": e.demand_reset}
            slots.append(
                {
                    "EVENT": {"EVENT_SELECTOR": selector, "EVENT_STORAGE": e.event_storage},
                    "TABLE_SELECTOR": {**_NO_TABLE, "TBL_PROC_NBR": entry.table, "PENDING_FLAG": entry.pending},
                }
            )
        waiting = sum(1 for e in self.pending if e is not None and e.pending)
        when = self.last_activation
        if isinstance(when, dt.datetime):
            when = when.replace(second=0, microsecond=0)
        self.update(
            4,
            {
                "LAST_ACTIVATION_DATE_TIME": when,
                "NBR_PENDING_ACTIVATION": waiting,
                "PENDING_TABLES": slots,
            },
        )
