"""The meter's responder: a typed PSEM request and a `Clearance` in, a typed response out (sans-IO).

`Responder` owns the `TableStore`, its `AccessControl` and the `ProcedureRunner`, and refreshes live
tables from the engine (`LiveData`) just before they are read. Wiring: C12.22 — feed each
`RequestReceived` to `Responder.handle` and pass the result to `Association.respond`
(``AssociationConfig(authenticator=responder.access.authenticator, keys=responder.keys)``); C12.18 —
``PsemServer(link, responder.c1218_handler, authorize=responder.access.authorize)``.

Response codes, checked in this order (the first that applies):

============================================================ =====
request body larger than ``max_request_size``                 RQTL (+ the maximum, 4 octets)
Default Read / Write, network, Negotiate, session services     SNS  (session services are the core's)
table absent, manufacturer or reserved id bits                ONP
write of a table ST0 does not list as writable (pending: ST4) IAR
reading / writing without the access groups or EPSEM mode     ISC
ST7 written while a procedure runs                            BSY
offset, index or element count outside the table               ONP
write data that would not decode (ST7: not a procedure)        ERR
read answer larger than ``max_response_size``                 RSTL (+ the maximum)
============================================================ =====

ST7 takes full writes only (a partial write is IAR). A table-data checksum error never reaches a typed
request: `answer_body` (and the association core and `PsemServer` themselves) answer it ERR. Live
tables are sized by the configuration: engine values beyond a dimension are dropped, missing ones are
zero. Successful writes log event 10 (table written) with the table number as argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from openami.c1218.server import Handler, ServerSession
from openami.c1219.config import DeviceConfig
from openami.c1219.layout import Layout
from openami.c1219.ni import ni_codec
from openami.c1219.procedures import ProcedureRequest
from openami.c1219.timefmt import RawTime, TimeCodec
from openami.c1222.association import RequestReceived
from openami.c1222.codes import ResponseCode
from openami.c1222.services import (
    ChecksumError,
    ErrorResponse,
    FullRead,
    FullWrite,
    Identify,
    IdentifyResponse,
    OkResponse,
    PartialReadIndex,
    PartialReadOffset,
    PartialWriteIndex,
    PartialWriteOffset,
    ReadResponse,
    Request,
    Response,
    SessionCtrlFeature,
    decode_request,
    request_type,
)
from openami.errors import ProtocolError
from openami.meter.access import AccessControl, Clearance
from openami.meter.config import MeterConfig
from openami.meter.procedures import LiveData, LogEntry, ProcedureRunner
from openami.meter.tables import TableAccessError, TableStore, aptitle_field, to_ni

__all__ = ["READ_OVERHEAD", "Responder"]

READ_OVERHEAD = 4
"""Octets of a read answer around the table data: ``00 count:2 <data> cksum:1``."""

_KEYS = frozenset({45, 46})


def _shape(value: Any, template: Any) -> Any:
    """``value`` fitted to ``template`` (a decoded table): unknown keys dropped, missing ones and list
    elements past the end taken from the template, extra list elements dropped."""
    if isinstance(template, dict):
        given = value if isinstance(value, Mapping) else {}
        return {k: _shape(given[k], t) if k in given else t for k, t in template.items()}
    if isinstance(template, list):
        items = value if isinstance(value, Sequence) and not isinstance(value, str | bytes) else []
        return [_shape(items[i], t) if i < len(items) else t for i, t in enumerate(template)]
    return value


class Responder:
    """Answers table services and procedures for one meter (see the module docstring).

    ``sessions`` is announced in the Identify answer (bits 0–6 of session-ctrl; sessionless supported).
    """

    def __init__(
        self,
        config: MeterConfig,
        live: LiveData,
        *,
        sessions: int = 16,
        built: tuple[Mapping[int, bytes], DeviceConfig] | None = None,
    ) -> None:
        """``built``: prebuilt table octets and device configuration for ``config`` (see `TableStore`)."""
        self.config = config
        self.live = live
        self.store = TableStore(config, built=built)
        self.access = AccessControl(self.store)
        self.procedures = ProcedureRunner(self.store, self.access, live, refresh=self.refresh)
        self.keys = self.access.key_store()
        """The `KeyStore` to give the association core; kept in step with ST45/ST46 writes."""
        self.sessions = min(sessions, 127)
        self._now = 0.0
        formats = config.formats
        self._ni1 = ni_codec(formats.ni_format1, formats)
        self._ni2 = ni_codec(formats.ni_format2, formats)
        self._stime = TimeCodec("STIME_DATE", formats)
        self._refreshers: dict[int, Callable[[], Mapping[str, Any]]] = {
            3: self._status,
            23: self._registers,
            28: self._present,
            52: self._clock,
            55: self._clock_state,
            63: self._lp_status,
            64: self._lp_data,
            74: lambda: self._log(74),
            76: lambda: self._log(76),
            112: self._load_control,
            116: self._prepayment,
            126: self._registrations,
            127: self._statistics,
        }

    # -- driver API ------------------------------------------------------------------------------------------------
    def poll(self, now: float) -> None:
        """Run what is due at ``now`` (seconds): a procedure's completion, pending tables whose activation
        time the meter clock has reached. The C12.18 handler answers with the last ``now`` seen here."""
        self._now = now
        self.procedures.poll(now)
        if any(e is not None and e.pending for e in self.store.pending):
            clock = self.live.clock().time
            done = self.store.activate(self.store.due(clock), clock)
            self.procedures.after_activation(done, Clearance())

    def next_timer(self) -> float | None:
        """When `poll` next has work that does not depend on the meter clock, or None."""
        return self.procedures.next_timer()

    def handle(self, event: RequestReceived, now: float) -> list[Response]:
        """The responses to a C12.22 `RequestReceived`, one per request, for `Association.respond`."""
        self.poll(now)
        clearance = Clearance.from_context(event.security)
        return [self.answer(request, clearance, now) for request in event.requests]

    @property
    def c1218_handler(self) -> Handler:
        """`openami.c1218.server.Handler` answering with the clearance of the optical-port session."""

        def handler(request: Request, session: ServerSession) -> Response:
            return self.answer(request, self.access.clearance_c1218(session), self._now)

        return handler

    def identify(self) -> IdentifyResponse:
        """Identify answer: C12.22 (reference standard 3), version 1.0, session-ctrl feature."""
        return IdentifyResponse(3, 1, 0, (SessionCtrlFeature(self.sessions, True),))

    def answer_body(self, body: bytes, clearance: Clearance, now: float) -> bytes:
        """Answer one encoded request body: a checksum error or bad bytes give ERR, unknown codes SNS."""
        try:
            request = decode_request(body)
        except ChecksumError:
            return ErrorResponse(ResponseCode.ERR).encode()
        except ProtocolError:
            known = bool(body) and request_type(body[0]) is not None
            return ErrorResponse(ResponseCode.ERR if known else ResponseCode.SNS).encode()
        return self.answer(request, clearance, now).encode()

    def answer(self, request: Request, clearance: Clearance, now: float) -> Response:
        """The response to one typed request (never raises for anything a peer can send)."""
        self.poll(now)
        try:
            if len(request.encode()) > self.config.max_request_size:
                return ErrorResponse.too_large(ResponseCode.RQTL, self.config.max_request_size)
            if isinstance(request, Identify):
                return self.identify()
            if isinstance(request, FullRead | PartialReadOffset | PartialReadIndex):
                return self._read(request, clearance)
            if isinstance(request, FullWrite | PartialWriteOffset | PartialWriteIndex):
                return self._write(request, clearance, now)
            return ErrorResponse(ResponseCode.SNS)
        except TableAccessError as exc:
            return ErrorResponse(exc.code)

    # -- services ------------------------------------------------------------------------------------------------------
    def _read(self, request: FullRead | PartialReadOffset | PartialReadIndex, clearance: Clearance) -> Response:
        number, pending = self.store.resolve(request.table)
        if pending:
            raise TableAccessError(ResponseCode.ONP, "pending tables cannot be read")
        if not self.access.may_read(number, clearance):
            raise TableAccessError(ResponseCode.ISC, f"ST{number} is not readable with this clearance")
        self.refresh(number)
        if isinstance(request, FullRead):
            data = self.store.read(number)
        elif isinstance(request, PartialReadOffset):
            data = self.store.read(number, request.offset, request.octet_count)
        else:
            data = self.store.read_index(number, request.indices, request.element_count)
        if len(data) + READ_OVERHEAD > self.config.max_response_size:
            return ErrorResponse.too_large(ResponseCode.RSTL, self.config.max_response_size)
        return ReadResponse(data)

    def _write(
        self, request: FullWrite | PartialWriteOffset | PartialWriteIndex, clearance: Clearance, now: float
    ) -> Response:
        store = self.store
        number, pending = store.resolve(request.table)
        store.check_writable(number, pending)
        if number == 7 and not isinstance(request, FullWrite):
            raise TableAccessError(ResponseCode.IAR, "ST7 takes full writes only")
        if not self.access.may_write(number, clearance):
            raise TableAccessError(ResponseCode.ISC, f"ST{number} is not writable with this clearance")
        full = isinstance(request, FullWrite)
        if isinstance(request, PartialWriteOffset):
            offset = request.offset
        elif isinstance(request, PartialWriteIndex):
            skip = 6 if pending else 0
            offset = store.index_offset(number, request.indices, max(0, len(request.data) - skip))
        else:
            offset = 0
        if pending:
            store.write_pending(number, offset, request.data, full)
            return OkResponse()
        if number == 7:
            return self._procedure(request.data, clearance, now)
        store.write(number, offset, request.data, full)
        if number in _KEYS:
            self.access.sync_keys(self.keys)
        self.live.log_event(10, clearance.user_id, number.to_bytes(2, self.config.formats.byteorder))  # type: ignore[arg-type]
        return OkResponse()

    def _procedure(self, data: bytes, clearance: Clearance, now: float) -> Response:
        if self.procedures.busy(now):
            raise TableAccessError(ResponseCode.BSY, "a procedure is running")
        octets = self.store.replaced(7, 0, data, True)
        try:
            request = ProcedureRequest.decode(octets, self.config.formats)
        except ProtocolError as exc:
            raise TableAccessError(ResponseCode.ERR, f"ST7: {exc}") from None
        self.store.write(7, 0, octets, True)
        self.procedures.invoke(request, clearance, now)
        return OkResponse()

    # -- live tables ---------------------------------------------------------------------------------------------------
    def refresh(self, number: int) -> None:
        """Rebuild live table ``number`` from the engine (other tables: nothing to do)."""
        build = self._refreshers.get(number)
        if build is None or number not in self.store.numbers:
            return
        layout = self.store.layout(number)
        self.store.put(number, _shape(build(), layout.decode(bytes(layout.size))))

    def _bits(self, number: int, path: str, raw: int) -> Any:
        node = self.store.layout(number).locate(path).node
        return node.decode(raw.to_bytes(node.size, self.config.formats.byteorder), 0)  # type: ignore[arg-type]

    def _time(self, when: dt.datetime | None) -> Any:
        """An STIME_DATE value (seconds dropped); None → the all-zero octets."""
        return RawTime(bytes(self._stime.size)) if when is None else when.replace(second=0, microsecond=0)

    def _status(self) -> Mapping[str, Any]:
        s = self.live.status()
        return {
            "ED_MODE": self._bits(3, "ED_MODE", int(s.mode) & 0x0F),
            "ED_STD_STATUS1": self._bits(3, "ED_STD_STATUS1", s.flags & 0x3FFF),
            "ED_STD_STATUS2": self._bits(3, "ED_STD_STATUS2", s.flags2 & 0xFF),
        }

    def _registers(self) -> Mapping[str, Any]:
        r = self.live.registers()
        ni1, ni2 = self._ni1, self._ni2

        def block(b: Any) -> dict[str, Any]:
            demands = [
                {
                    "EVENT_TIME": [self._time(t) for t in d.times],
                    "CUM_DEMAND": to_ni(ni1, d.cumulative),
                    "CONT_CUM_DEMAND": to_ni(ni1, d.continuous_cumulative),
                    "DEMAND": [to_ni(ni2, v) for v in d.values],
                }
                for d in b.demands
            ]
            return {
                "SUMMATIONS": [to_ni(ni1, v) for v in b.summations],
                "DEMANDS": demands,
                "COINCIDENTS": [{"COINCIDENT_VALUES": [to_ni(ni2, v) for v in c]} for c in b.coincidents],
            }

        tiers = [block(t) for t in r.tiers]
        return {"NBR_DEMAND_RESETS": r.demand_resets & 0xFF, "TOT_DATA_BLOCK": block(r.total), "TIER_DATA_BLOCK": tiers}

    def _present(self) -> Mapping[str, Any]:
        r = self.live.registers()
        left = max(0, min(r.time_remaining_s, 86399))
        remaining = dt.time(left // 3600, left // 60 % 60, left % 60)
        demands = [{"TIME_REMAINING": remaining, "DEMAND_VALUE": to_ni(self._ni2, v)} for v in r.present_demands]
        return {"PRESENT_DEMAND": demands, "PRESENT_VALUE": [to_ni(self._ni1, v) for v in r.present_values]}

    def _clock(self) -> dict[str, Any]:
        c = self.live.clock()
        qual = {"DAY_OF_WEEK": (c.time.weekday() + 1) % 7, "DST_FLAG": c.dst, "GMT_FLAG": c.gmt}
        return {"CLOCK_CALENDAR": c.time.replace(microsecond=0), "TIME_DATE_QUAL": qual}

    def _clock_state(self) -> Mapping[str, Any]:
        c = self.live.clock()
        status = {"CURR_TIER": c.tier & 7, "SEASON": c.season & 15, "SPECIAL_SCHD_ACTIVE": 15}
        return {**self._clock(), "STATUS": status}

    def _lp_status(self) -> Mapping[str, Any]:
        lp = self.live.load_profile()
        blocks = lp.blocks[-self.config.lp_blocks :]
        flags = {"LIST_TYPE": True, "ACTIVE_MODE_FLAG": lp.active, "OVERFLOW_FLAG": len(lp.blocks) > len(blocks)}
        status = {
            "LP_SET_STATUS_FLAGS": flags,
            "NBR_VALID_BLOCKS": len(blocks),
            "LAST_BLOCK_ELEMENT": max(0, len(blocks) - 1),
            "LAST_BLOCK_SEQ_NBR": lp.last_block_seq & 0xFFFFFFFF,
            "NBR_UNREAD_BLOCKS": len(blocks),
            "NBR_VALID_INT": len(blocks[-1].intervals) if blocks else 0,
        }
        return {"LP_STATUS_SET1": status}

    def _lp_data(self) -> Mapping[str, Any]:
        lp = self.live.load_profile()
        code = self.config.lp_int_format
        codec = self._ni1 if code == 64 else self._ni2 if code == 128 else None

        def value(v: float) -> Any:
            return round(v) if codec is None else to_ni(codec, v)

        blocks = [
            {
                "BLK_END_TIME": self._time(b.end_time),
                "END_READINGS": [{"BLOCK_END_READ": to_ni(self._ni1, r)} for r in b.end_readings],
                "SIMPLE_INT_STATUS": frozenset(range(min(len(b.intervals), self.config.lp_block_intervals))),
                "LP_INT": [{"INT_DATA": [value(v) for v in interval]} for interval in b.intervals],
            }
            for b in lp.blocks[-self.config.lp_blocks :]
        ]
        return {"LP_DATA_SET1": blocks}

    def _log(self, number: int) -> Mapping[str, Any]:
        control = self.store.value(number - 1) if number - 1 in self.store.numbers else None
        monitored = control["STD_EVENTS_MONITORED_FLAGS"] if control else None
        entries = [e for e in self.live.events() if monitored is None or e.code in monitored]
        layout: Layout = self.store.layout(number)
        size = layout.locate("HISTORY_ENTRIES" if number == 74 else "EVENT_ENTRIES").node.count  # type: ignore[attr-defined]
        kept = entries[-size:] if size else []
        head = {
            "NBR_VALID_ENTRIES": len(kept),
            "LAST_ENTRY_ELEMENT": max(0, len(kept) - 1),
            "LAST_ENTRY_SEQ_NBR": kept[-1].seq & 0xFFFFFFFF if kept else 0,
            "NBR_UNREAD_ENTRIES": len(kept),
        }
        flags = {"LIST_TYPE": True, "OVERFLOW_FLAG": len(entries) > len(kept)}
        if number == 74:
            return {**head, "HIST_FLAGS": flags, "HISTORY_ENTRIES": [self._history(e) for e in kept]}
        return {**head, "EVENT_FLAGS": flags, "EVENT_ENTRIES": [self._event(e) for e in kept]}

    def _code(self, entry: LogEntry) -> dict[str, Any]:
        return {"TBL_PROC_NBR": entry.code & 0x07FF, "STD_VS_MFG_FLAG": False, "SELECTOR": 0}

    def _argument(self, entry: LogEntry) -> bytes:
        length = self.config.log_data_length
        return entry.argument[:length].ljust(length, b"\0")

    def _history(self, e: LogEntry) -> dict[str, Any]:
        return {
            "HISTORY_TIME": e.time.replace(microsecond=0),
            "EVENT_NUMBER": e.seq & 0xFFFF,
            "HISTORY_SEQ_NBR": e.seq & 0xFFFF,
            "USER_ID": e.user_id & 0xFFFF,
            "HISTORY_CODE": self._code(e),
            "HISTORY_ARGUMENT": self._argument(e),
        }

    def _event(self, e: LogEntry) -> dict[str, Any]:
        return {
            "EVENT_TIME": e.time.replace(microsecond=0),
            "EVENT_NUMBER": e.seq & 0xFFFF,
            "EVENT_SEQ_NBR": e.seq & 0xFFFF,
            "USER_ID": e.user_id & 0xFFFF,
            "EVENT_CODE": self._code(e),
            "EVENT_ARGUMENT": self._argument(e),
        }

    def _load_control(self) -> Mapping[str, Any]:
        tier = self.live.clock().tier
        prices = self.store.value(118)["TIER_PRICES"] if 118 in self.store.numbers else []
        price = prices[tier]["PRICE"] if tier < len(prices) and "PRICE" in prices[tier] else to_ni(self._ni1, 0)
        points = [
            {
                "STATUS_FLAGS": {"SUPPLY_ON_FLAG": p.level > 0},
                "CONTROL_LEVEL": max(0, min(100, p.level)),
                "CONTROL_SOURCE": int(p.source),
                "SOURCE_INDEX": 255,
                "LAST_CHANGE": self._time(p.last_change),
                "REMAINING_DURATION": max(0, min(p.remaining_min, 0xFFFF)),
                "PRESENT_LOAD": to_ni(self._ni2, p.load_w),
            }
            for p in self.live.control_points()
        ]
        return {"CURRENT_PRICE_TIER": tier & 0xFF, "CURRENT_PRICE": price, "CONTROL_POINT_STATUS": points}

    def _prepayment(self) -> Mapping[str, Any]:
        credit = self.live.credit()
        control = self.store.value(117) if 117 in self.store.numbers else {}
        remaining = float(credit.remaining)
        flags = {
            "PREPAYMENT_ACTIVE_FLAG": bool(control.get("PREPAYMENT_CONTROL_FLAGS", {}).get("PREPAYMENT_ENABLE_FLAG")),
            "LOW_CREDIT_FLAG": remaining <= float(control.get("LOW_CREDIT_THRESHOLD", 0)),
            "CREDIT_EXHAUSTED_FLAG": remaining <= float(control.get("DISCONNECT_THRESHOLD", 0)),
        }
        history = [
            {
                "CREDIT_TIME": self._time(h.time),
                "CREDIT_ACTION": int(h.action),
                "CREDIT_AMOUNT": to_ni(self._ni1, h.amount),
                "CREDIT_AFTER": to_ni(self._ni1, h.after),
            }
            for h in credit.history
        ]
        return {
            "PREPAYMENT_STATUS_FLAGS": flags,
            "REMAINING_CREDIT": to_ni(self._ni1, credit.remaining),
            "LAST_CREDIT_UPDATE": self._time(credit.last_update),
            "CREDIT_HISTORY": history,
        }

    def _registrations(self) -> Mapping[str, Any]:
        size = self.config.native_address_len
        out = []
        for r in self.live.network().registrations:
            out.append(
                {
                    "RELAY_NATIVE_ADDRESS": r.relay_address[:size].ljust(size, b"\0"),
                    "MASTER_RELAY_APTITLE": aptitle_field(r.master_relay) if r.master_relay else bytes(20),
                    "NODE_APTITLE": aptitle_field(r.node) if r.node else bytes(20),
                    "REGISTRATION_DELAY": max(0, min(r.delay_s, 0xFFFF)),
                    "REGISTRATION_PERIOD": max(0, min(r.period_s, 0xFFFFFF)),
                    "REGISTRATION_COUNT_DOWN": max(0, min(r.countdown_s, 0xFFFFFF)),
                }
            )
        return {"REGISTRATION_STATUS": out}

    def _statistics(self) -> Mapping[str, Any]:
        values = self.live.network().statistics
        rows = self.store.value(127)["STATISTICS"]
        limit = (1 << 47) - 1
        for row in rows:
            value = values.get((row["INTERFACE_ID"], row["STATISTIC_CODE"]), 0)
            row["STATISTIC_VALUE"] = max(-limit, min(value, limit))
        return {"STATISTICS": rows}
