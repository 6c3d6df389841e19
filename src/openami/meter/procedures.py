"""Procedures through ST7 / ST8, and `LiveData`: what the meter needs from its metering engine.

A write of ST7 (PROC TABLE_IDB_BFLD, SEQ_NBR, PARM) runs a standard procedure; its outcome is posted in
ST8 (PROC, SEQ_NBR, RESULT_CODE, RESP_DATA) as the request's SELECTOR says: 0 on completion, 1 only when
the result is not COMPLETED, 2 never, 3 at once (NOT_COMPLETED) and again on completion. Checks, in
order, and their RESULT_CODE: not in ST0 STD_PROC_USED or a manufacturer procedure → UNRECOGNIZED;
ST43/ST44 refuse execution → NO_AUTHORIZATION; PARM does not decode
(`openami.c1219.procedures.params`) or asks for nothing → INVALID_PARAMETER; the configuration does not
allow it → CONFLICT_WITH_SETUP; a demand reset within ST13 RESET_EXCLUSION minutes of the last →
TIMING_CONSTRAINT. A procedure given a duration (``MeterConfig.procedure_durations``, seconds) takes
effect when that time has passed (`ProcedureRunner.poll`); ST7 writes meanwhile get BSY.

What each procedure does (events go to the engine's log through `LiveData.log_event`; every completed
procedure also logs event 9 "procedure invoked" with its TABLE_IDB_BFLD as argument):

- SP3 clear data: `LiveData.clear_data`; ST25 and ST26 emptied; events 16, 18.
- SP6 change mode: ED_MODE (METERING, TEST or METER_SHOP at least) → `set_mode`; events 30–35.
- SP7 / SP8 clear standard / manufacturer status flags → `clear_status_flags`.
- SP9 remote reset: DEMAND_RESET copies ST23 to ST25 then `demand_reset` (event 20); SELF_READ adds an
  ST23 copy to ST26 (event 21); ST21 SELF_READ_DEMAND_RESET couples the two. SEASON_CHANGE is refused
  (CONFLICT_WITH_SETUP: seasons follow the ST54 calendar).
- SP10 set date/time: SET_MASK picks date, time, qualifier → `set_clock`; events 3 (old) and 4 (new)
  with LTIME_DATE arguments.
- SP12 / SP13 activate all / matching pending tables (event 28 each); SP14 / SP15 discard them (event
  29 each); SP13 / SP15 matching nothing → INVALID_PARAMETER.
- SP16 / SP17 start / stop load profile (ST64 needed).
- SP21 direct load control (ST111 DIRECT_LOAD_CONTROL_FLAG needed), PARM ``CONTROL_POINT:1 ACTION:1
  CONTROL_LEVEL:1 DURATION:2`` (`DirectLoadControlParams`). **The service disconnect switch** is the ST113
  control point of type SERVICE_DISCONNECT: on it SHED (or SET_LEVEL 0) opens the switch
  (disconnect), RESTORE (or SET_LEVEL 100) closes it (connect), RELEASE returns it to its default
  (DEFAULT_ON_FLAG: closed), other levels are INVALID_PARAMETER; it goes to `LiveData.set_disconnect`.
  CONTROL_POINT 255 (all) acts on every enabled point except the disconnect switch. Levels 1..99
  need ST111 LEVEL_CONTROL_FLAG. Event 49 with argument (point, level or 255). An engine that cannot
  switch gives NOT_COMPLETED.
- SP22 modify credit (ST111 PREPAYMENT_FLAG needed): ``ACTION:1 REFERENCE:4 AMOUNT:NI_FMAT1``
  (`ModifyCreditParams`); AMOUNT must be finite, and ≥ 0 for ADD / SUBTRACT; a non-zero REFERENCE
  seen before is not applied twice; RESP_DATA = the remaining credit (NI_FMAT1). Events 53 / 54 / 55.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from openami.c1219.ni import ni_codec
from openami.c1219.procedures import (
    ChangeEndDeviceModeParams,
    CreditAction,
    DirectLoadControlParams,
    EdMode,
    ModifyCreditParams,
    PendingEventParams,
    ProcedureParams,
    ProcedureRequest,
    RemoteResetParams,
    ResponseSelector,
    ResultCode,
    SetDateTimeParams,
    TimeDateQual,
    decode_params,
)
from openami.c1219.std.decade11 import ALL_CONTROL_POINTS, ControlPointType, ControlSource
from openami.c1219.timefmt import TimeCodec
from openami.errors import ProtocolError
from openami.meter.access import AccessControl, Clearance
from openami.meter.tables import PendingEntry, TableStore, merge, to_ni

__all__ = [
    "ClockReading",
    "ControlPointState",
    "CreditRecord",
    "CreditState",
    "DemandReading",
    "DeviceStatus",
    "LiveData",
    "LoadProfileData",
    "LogEntry",
    "LpBlock",
    "NetworkState",
    "ProcedureRunner",
    "RegisterBlock",
    "RegisterReadings",
    "RegistrationState",
]


# -- what the engine reports -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClockReading:
    """The meter clock: local ``time`` (naive, whole seconds), DST / GMT flags, TOU tier and season now."""

    time: dt.datetime
    dst: bool = False
    gmt: bool = False
    tier: int = 0
    season: int = 0


@dataclass(frozen=True)
class DemandReading:
    """One demand register: values per occurrence ([0] the largest maximum, W), their times, cumulatives."""

    values: tuple[float, ...] = ()
    times: tuple[dt.datetime | None, ...] = ()
    cumulative: float = 0.0
    continuous_cumulative: float = 0.0


@dataclass(frozen=True)
class RegisterBlock:
    """Summations (Wh, varh … in ST22 order), demands and coincident values (per demand, per occurrence)."""

    summations: tuple[float, ...] = ()
    demands: tuple[DemandReading, ...] = ()
    coincidents: tuple[tuple[float, ...], ...] = ()


@dataclass(frozen=True)
class RegisterReadings:
    """ST23 (total and per-tier blocks, demand reset count) and ST28 (present demands / values, seconds
    left in the demand interval)."""

    total: RegisterBlock = RegisterBlock()
    tiers: tuple[RegisterBlock, ...] = ()
    demand_resets: int = 0
    present_demands: tuple[float, ...] = ()
    present_values: tuple[float, ...] = ()
    time_remaining_s: int = 0


@dataclass(frozen=True)
class DeviceStatus:
    """ST3: ED_MODE bits (`EdMode`), ED_STD_STATUS1 bits (UNPROGRAMMED b0 … REVERSE_ROTATION b13), STATUS2."""

    mode: int = EdMode.METERING
    flags: int = 0
    flags2: int = 0


@dataclass(frozen=True)
class LpBlock:
    """One load-profile block: end time, block-end readings per channel, interval values per interval
    per channel (at most NBR_BLK_INTS intervals; fewer in the newest block)."""

    end_time: dt.datetime
    end_readings: tuple[float, ...]
    intervals: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class LoadProfileData:
    """Load-profile set 1: recording on/off, blocks oldest first, sequence number of the newest block."""

    active: bool = True
    blocks: tuple[LpBlock, ...] = ()
    last_block_seq: int = 0


@dataclass(frozen=True)
class LogEntry:
    """One event of the engine's log: local time, event code (ST72 numbering), sequence number, user,
    argument octets."""

    time: dt.datetime
    code: int
    seq: int
    user_id: int = 0
    argument: bytes = b""


@dataclass(frozen=True)
class ControlPointState:
    """ST112 state of one control point: level (%), `ControlSource`, last change, minutes left, load (W)."""

    level: int = 100
    source: int = ControlSource.NONE
    last_change: dt.datetime | None = None
    remaining_min: int = 0
    load_w: float = 0.0


@dataclass(frozen=True)
class CreditRecord:
    """One ST116 credit history entry."""

    time: dt.datetime
    action: CreditAction
    amount: float | Decimal
    after: float | Decimal


@dataclass(frozen=True)
class CreditState:
    """ST116: remaining credit (currency; negative in debt), last update, history newest first."""

    remaining: float | Decimal = 0.0
    last_update: dt.datetime | None = None
    history: tuple[CreditRecord, ...] = ()


@dataclass(frozen=True)
class RegistrationState:
    """One ST126 registration: titles as text (None unregistered), relay address, times in seconds."""

    node: str | None = None
    master_relay: str | None = None
    relay_address: bytes = b""
    delay_s: int = 0
    period_s: int = 0
    countdown_s: int = 0


@dataclass(frozen=True)
class NetworkState:
    """ST126 registrations and ST127 statistics ((interface, statistic code) → value)."""

    registrations: tuple[RegistrationState, ...] = ()
    statistics: Mapping[tuple[int, int], int] = field(default_factory=dict)


class LiveData(Protocol):
    """The metering engine as the table store and the procedures see it (implemented by the engine).

    Readers return the present state; hooks change it and return promptly (sans-IO: no waiting).
    """

    def clock(self) -> ClockReading: ...
    def registers(self) -> RegisterReadings: ...
    def status(self) -> DeviceStatus: ...
    def load_profile(self) -> LoadProfileData: ...
    def events(self) -> Sequence[LogEntry]: ...
    def control_points(self) -> Sequence[ControlPointState]: ...
    def credit(self) -> CreditState: ...
    def network(self) -> NetworkState: ...

    def log_event(self, code: int, user_id: int, argument: bytes) -> None:
        """Append an event (ST72 code) to the log, stamped with the meter clock."""

    def clear_data(self) -> None:
        """SP3: clear registers, demands, load profile and logs."""

    def set_mode(self, mode: int) -> None:
        """SP6: enter ED_MODE ``mode`` (`EdMode` bits)."""

    def clear_status_flags(self, standard: bool) -> None:
        """SP7 (standard) / SP8 (manufacturer): clear the ST3 status flags."""

    def demand_reset(self) -> None:
        """SP9: reset the maximum demands and count the reset."""

    def set_clock(self, when: dt.datetime, qual: TimeDateQual | None) -> None:
        """SP10: set the clock to local ``when`` (``qual`` given when SET_TIME_DATE_QUAL asked for it)."""

    def start_load_profile(self) -> None: ...
    def stop_load_profile(self) -> None: ...

    def set_control_point(self, index: int, level: int | None, duration_min: int) -> bool:
        """SP21 on load control point ``index``: level in % (None: release), for ``duration_min`` minutes
        (0 open-ended). False if the point could not be switched."""

    def set_disconnect(self, open_switch: bool) -> bool:
        """SP21 on the service disconnect switch: True opens (disconnects), False closes (connects)."""

    def modify_credit(self, action: CreditAction, amount: float | Decimal, reference: int) -> float | Decimal:
        """SP22: apply the credit change; returns the remaining credit."""


# -- the runner ----------------------------------------------------------------------------------------------
_MODE_EVENTS = ((EdMode.METERING, 30, 31), (EdMode.TEST, 32, 33), (EdMode.METER_SHOP, 34, 35))
_CREDIT_EVENTS = {CreditAction.ADD: 53, CreditAction.SUBTRACT: 54, CreditAction.SET: 55}
_HANDLED = frozenset({3, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 21, 22})

Outcome = tuple[ResultCode, bytes]


@dataclass
class _Running:
    request: ProcedureRequest
    params: ProcedureParams
    clearance: Clearance
    until: float


class ProcedureRunner:
    """Runs ST7 requests against a `TableStore`, its `AccessControl` and the engine (`LiveData`).

    ``refresh(number)`` brings a live table up to date from the engine before the runner copies it
    (the responder passes its own; the default does nothing).
    """

    def __init__(
        self,
        store: TableStore,
        access: AccessControl,
        live: LiveData,
        refresh: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.access = access
        self.live = live
        self.refresh = refresh if refresh is not None else (lambda number: None)
        self.formats = store.config.formats
        self._durations = store.config.durations
        self._running: _Running | None = None
        self._last_reset: dt.datetime | None = None
        self._references: deque[int] = deque(maxlen=64)

    # -- driver side ------------------------------------------------------------------------------------------
    def busy(self, now: float) -> bool:
        """Whether a procedure is still running at ``now`` (seconds)."""
        self.poll(now)
        return self._running is not None

    def next_timer(self) -> float | None:
        """When the running procedure completes (call `poll` then), or None."""
        return None if self._running is None else self._running.until

    def poll(self, now: float) -> None:
        """Complete the running procedure if its time has come."""
        running = self._running
        if running is not None and now >= running.until:
            self._running = None
            self._post(running.request, self._execute(running.request, running.params, running.clearance), final=True)

    def invoke(self, request: ProcedureRequest, clearance: Clearance, now: float) -> None:
        """Run (or start) ``request``; the result goes to ST8. Call only when not `busy`."""
        result, params = self._admit(request, clearance)
        if result is not None or params is None:
            self._post(request, (result or ResultCode.INVALID_PARAMETER, b""), final=True)
            return
        duration = self._durations.get(request.procedure, 0.0)
        if duration > 0:
            self._running = _Running(request, params, clearance, now + duration)
            self._post(request, (ResultCode.NOT_COMPLETED, b""), final=False)
            return
        self._post(request, self._execute(request, params, clearance), final=True)

    # -- steps ---------------------------------------------------------------------------------------------------
    def _admit(
        self, request: ProcedureRequest, clearance: Clearance
    ) -> tuple[ResultCode | None, ProcedureParams | None]:
        used = self.store.value(0)["STD_PROC_USED"]
        if request.mfg or request.procedure not in used or request.procedure not in _HANDLED:
            return ResultCode.UNRECOGNIZED, None
        if not self.access.may_execute(request.procedure, clearance):
            return ResultCode.NO_AUTHORIZATION, None
        try:
            return None, decode_params(request.procedure, request.params, self.formats)
        except ProtocolError:
            return ResultCode.INVALID_PARAMETER, None

    def _post(self, request: ProcedureRequest, outcome: Outcome, *, final: bool) -> None:
        result, data = outcome
        selector = request.selector
        if selector == ResponseSelector.NEVER:
            return
        if selector == ResponseSelector.ON_EXCEPTION and (not final or result == ResultCode.COMPLETED):
            return
        if selector == ResponseSelector.ON_COMPLETION and not final:
            return
        limit = self.store.config.max_resp_data_len
        self.store.put(8, request.response(result, data[:limit]).encode(self.formats))

    def _execute(self, request: ProcedureRequest, params: ProcedureParams, clearance: Clearance) -> Outcome:
        handlers: dict[int, Callable[[Any, Clearance], Outcome]] = {
            3: self._clear_data,
            6: self._change_mode,
            7: lambda p, c: self._clear_flags(True),
            8: lambda p, c: self._clear_flags(False),
            9: self._remote_reset,
            10: self._set_time,
            12: lambda p, c: self._activate(None, c),
            13: self._activate,
            14: lambda p, c: self._clear_pending(None, c),
            15: self._clear_pending,
            16: lambda p, c: self._load_profile(True),
            17: lambda p, c: self._load_profile(False),
            21: self._direct_load_control,
            22: self._modify_credit,
        }
        outcome = handlers[request.procedure](params, clearance)
        if outcome[0] == ResultCode.COMPLETED:
            idb = (request.procedure | request.selector << 12).to_bytes(2, self.formats.byteorder)  # type: ignore[arg-type]
            self.live.log_event(9, clearance.user_id, idb)
        return outcome

    def _log(self, code: int, clearance: Clearance, argument: bytes = b"") -> None:
        self.live.log_event(code, clearance.user_id, argument)

    def _ltime(self, when: dt.datetime) -> bytes:
        return TimeCodec("LTIME_DATE", self.formats).encode(when.replace(microsecond=0))

    # -- procedures ------------------------------------------------------------------------------------------------
    def _clear_data(self, params: object, clearance: Clearance) -> Outcome:
        self.live.clear_data()
        for number in (25, 26):
            if number in self.store.numbers:
                self.store.rebuild(number, {"LIST_STATUS": {"LIST_TYPE_FLAG": True}} if number == 26 else {})
        self._last_reset = None
        self._log(16, clearance)
        self._log(18, clearance)
        return ResultCode.COMPLETED, b""

    def _change_mode(self, params: ChangeEndDeviceModeParams, clearance: Clearance) -> Outcome:
        new = int(params.ed_mode)
        if not new & (EdMode.METERING | EdMode.TEST | EdMode.METER_SHOP):
            return ResultCode.INVALID_PARAMETER, b""
        old = int(self.live.status().mode)
        self.live.set_mode(new)
        for bit, started, stopped in _MODE_EVENTS:
            if new & bit and not old & bit:
                self._log(started, clearance)
            elif old & bit and not new & bit:
                self._log(stopped, clearance)
        return ResultCode.COMPLETED, b""

    def _clear_flags(self, standard: bool) -> Outcome:
        self.live.clear_status_flags(standard)
        return ResultCode.COMPLETED, b""

    def _remote_reset(self, params: RemoteResetParams, clearance: Clearance) -> Outcome:
        if params.season_change:
            return ResultCode.CONFLICT_WITH_SETUP, b""
        reset, read = params.demand_reset, params.self_read
        if not (reset or read):
            return ResultCode.INVALID_PARAMETER, b""
        coupling = self.store.value(21)["REG_FUNC2_FLAGS"]["SELF_READ_DEMAND_RESET"] if 21 in self.store.numbers else 0
        read = read or (reset and coupling in (1, 3) and 26 in self.store.numbers)
        reset = reset or (read and coupling in (2, 3))
        now = self.live.clock().time
        if reset and self._last_reset is not None and 13 in self.store.numbers:
            exclusion = self.store.value(13).get("RESET_EXCLUSION")
            if exclusion and now - self._last_reset < dt.timedelta(minutes=exclusion):
                return ResultCode.TIMING_CONSTRAINT, b""
        self.refresh(23)
        if read and 26 in self.store.numbers:
            self._self_read(now)
            self._log(21, clearance)
        if reset:
            if 25 in self.store.numbers:
                self.store.update(
                    25, {"REGISTER_INFO": self._info(now), "PREV_DEMAND_RESET_DATA": self.store.value(23)}
                )
            self.live.demand_reset()
            self._last_reset = now
            self._log(20, clearance)
        return ResultCode.COMPLETED, b""

    def _info(self, now: dt.datetime) -> dict[str, Any]:
        return {"END_DATE_TIME": now.replace(second=0, microsecond=0), "SEASON": self.live.clock().season}

    def _self_read(self, now: dt.datetime) -> None:
        st26 = self.store.value(26)
        entries = st26["SELF_READS_ENTRIES"]
        size, valid = len(entries), st26["NBR_VALID_ENTRIES"]
        if not size:
            return
        element = (st26["LAST_ENTRY_ELEMENT"] + 1) % size if valid else 0
        seq = (st26["LAST_ENTRY_SEQ_NBR"] + 1) & 0xFFFF if valid else 0
        entry: dict[str, Any] = {"REGISTER_INFO": self._info(now), "SELF_READ_REGISTER_DATA": self.store.value(23)}
        if "SELF_READ_SEQ_NBR" in entries[element]:
            entry["SELF_READ_SEQ_NBR"] = seq
        merge(entries[element], entry)
        st26["LIST_STATUS"]["OVERFLOW_FLAG"] = st26["LIST_STATUS"]["OVERFLOW_FLAG"] or valid == size
        st26.update(
            NBR_VALID_ENTRIES=min(size, valid + 1),
            LAST_ENTRY_ELEMENT=element,
            LAST_ENTRY_SEQ_NBR=seq,
            NBR_UNREAD_ENTRIES=min(size, st26["NBR_UNREAD_ENTRIES"] + 1),
        )
        self.store.put(26, st26)

    def _set_time(self, params: SetDateTimeParams, clearance: Clearance) -> Outcome:
        when = params.date_time
        if not isinstance(when, dt.datetime) or not (params.set_time or params.set_date or params.set_time_date_qual):
            return ResultCode.INVALID_PARAMETER, b""
        old = self.live.clock().time
        day = when.date() if params.set_date else old.date()
        clock = when.time() if params.set_time else old.time()
        new = dt.datetime.combine(day, clock)
        self.live.set_clock(new, params.time_date_qual if params.set_time_date_qual else None)
        self._log(3, clearance, self._ltime(old))
        self._log(4, clearance, self._ltime(new))
        return ResultCode.COMPLETED, b""

    def _pending_ok(self) -> bool:
        return 4 in self.store.numbers and bool(self.store.pending)

    def _matcher(self, event: PendingEventParams | None) -> Callable[[PendingEntry], bool]:
        if event is None:
            return lambda entry: True
        wanted = event.encode()
        return lambda entry: entry.event.encode() == wanted

    def _activate(self, params: PendingEventParams | None, clearance: Clearance) -> Outcome:
        if not self._pending_ok():
            return ResultCode.CONFLICT_WITH_SETUP, b""
        done = self.store.activate(self._matcher(params), self.live.clock().time)
        if params is not None and not done:
            return ResultCode.INVALID_PARAMETER, b""
        self.after_activation(done, clearance)
        return ResultCode.COMPLETED, b""

    def after_activation(self, done: Sequence[PendingEntry], clearance: Clearance) -> None:
        """Log event 28 per activated entry and run the self read / demand reset its EVENT_RCD asks for."""
        for entry in done:
            self._log(28, clearance, entry.table.to_bytes(2, self.formats.byteorder))  # type: ignore[arg-type]
        read = any(e.event.self_read for e in done)
        reset = any(e.event.demand_reset for e in done)
        if read or reset:
            self._remote_reset(RemoteResetParams(demand_reset=reset, self_read=read), clearance)

    def _clear_pending(self, params: PendingEventParams | None, clearance: Clearance) -> Outcome:
        if not self._pending_ok():
            return ResultCode.CONFLICT_WITH_SETUP, b""
        gone = self.store.clear_pending(self._matcher(params))
        if params is not None and not gone:
            return ResultCode.INVALID_PARAMETER, b""
        for entry in gone:
            self._log(29, clearance, entry.table.to_bytes(2, self.formats.byteorder))  # type: ignore[arg-type]
        return ResultCode.COMPLETED, b""

    def _load_profile(self, start: bool) -> Outcome:
        if 64 not in self.store.numbers:
            return ResultCode.CONFLICT_WITH_SETUP, b""
        if start:
            self.live.start_load_profile()
        else:
            self.live.stop_load_profile()
        return ResultCode.COMPLETED, b""

    def _lc_flags(self) -> dict[str, Any]:
        return self.store.value(111)["LOAD_CONTROL_FLAGS"] if 111 in self.store.numbers else {}

    def _direct_load_control(self, params: DirectLoadControlParams, clearance: Clearance) -> Outcome:
        flags = self._lc_flags()
        if not flags.get("DIRECT_LOAD_CONTROL_FLAG") or 113 not in self.store.numbers:
            return ResultCode.CONFLICT_WITH_SETUP, b""
        points = self.store.value(113)["CONTROL_POINT_CONFIG"]
        level = params.level
        if level not in (None, 0, 100) and not flags.get("LEVEL_CONTROL_FLAG"):
            return ResultCode.CONFLICT_WITH_SETUP, b""
        if params.control_point == ALL_CONTROL_POINTS:
            chosen = [
                i
                for i, p in enumerate(points)
                if p["CONTROL_POINT_FLAGS"]["CONTROL_ENABLED_FLAG"]
                and p["CONTROL_POINT_TYPE"] != ControlPointType.SERVICE_DISCONNECT
            ]
        elif params.control_point >= len(points):
            return ResultCode.INVALID_PARAMETER, b""
        elif not points[params.control_point]["CONTROL_POINT_FLAGS"]["CONTROL_ENABLED_FLAG"]:
            return ResultCode.CONFLICT_WITH_SETUP, b""
        else:
            chosen = [params.control_point]
        done = True
        for index in chosen:
            point = points[index]
            if point["CONTROL_POINT_TYPE"] == ControlPointType.SERVICE_DISCONNECT:
                if level not in (None, 0, 100):
                    return ResultCode.INVALID_PARAMETER, b""
                closed = point["CONTROL_POINT_FLAGS"]["DEFAULT_ON_FLAG"] if level is None else level == 100
                done = self.live.set_disconnect(not closed) and done
            else:
                done = self.live.set_control_point(index, level, params.duration) and done
            self._log(49, clearance, bytes((index, 255 if level is None else level)))
        return (ResultCode.COMPLETED if done else ResultCode.NOT_COMPLETED), b""

    def _modify_credit(self, params: ModifyCreditParams, clearance: Clearance) -> Outcome:
        if not self._lc_flags().get("PREPAYMENT_FLAG"):
            return ResultCode.CONFLICT_WITH_SETUP, b""
        amount = float(params.amount)
        if not math.isfinite(amount) or (params.action != CreditAction.SET and amount < 0):
            return ResultCode.INVALID_PARAMETER, b""
        codec = ni_codec(self.formats.ni_format1, self.formats)
        if params.reference and params.reference in self._references:
            return ResultCode.COMPLETED, codec.encode(to_ni(codec, self.live.credit().remaining))
        remaining = self.live.modify_credit(params.action, params.amount, params.reference)
        if params.reference:
            self._references.append(params.reference)
        reference = params.reference.to_bytes(4, self.formats.byteorder)  # type: ignore[arg-type]
        self._log(_CREDIT_EVENTS[params.action], clearance, reference)
        return ResultCode.COMPLETED, codec.encode(to_ni(codec, remaining))
