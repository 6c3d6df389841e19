"""The meter's live side: `EngineLive`, the `openami.meter.procedures.LiveData` of one meter of a
`FleetEngine`; `EngineDriver`, which steps the engine on an injected clock (real time or accelerated);
`CachedResponder`, a responder that rebuilds live tables only when the engine has moved; and the
defaults that tie a `MeterConfig` to the engine (`engine_config`, `default_load`).

The table store and the procedures see the engine through `EngineLive`; the engine knows nothing of
C12.19. Conversions:

- Time: the engine's meter clock is integer seconds since 1970 UTC; the tables want the meter's *local*
  time as a naive `datetime` (UTC + ``MeterConfig.time_zone_offset_min``). SP10 gives local time back.
- Units: engine registers count milli-units (mWh, mvarh, mVAh); ST23 summations and load-profile values
  are in Wh / varh / VAh (floats; the table's NI or integer format rounds), demands in W, voltages in V.
- Sources: a `Source` of ``MeterConfig.sources`` maps to an engine quantity by its ST12 ID_CODE (0 W,
  1 var, 2 VA, 8 V rms, 12 A rms, 24 power factor, 33 Hz) and, for energies, its quadrants (W: Q1+Q4
  delivered, Q2+Q3 received; var: Q1+Q2 delivered, Q3+Q4 received, one quadrant → that quadrant).
  Sources the engine does not measure read 0.
- Load profile: ST64 blocks are cut from the engine's interval ring in recording order, NBR_BLK_INTS
  intervals per block (block *k* holds intervals k·N … k·N + N − 1 since the meter started); block-end
  readings are the registers at the block's last interval end. Intervals that close while the profile
  is stopped (SP17) are left out. `EngineLive.observe` counts the intervals after every engine step (from
  the ring's head, and from the interval end times when one step wrapped the ring).
- Events: the procedures log their own events (with richer arguments than the engine's), so operations
  the engine logs itself (demand reset, clock set, service switch) run with the engine's log of this
  meter swapped for a scratch log; SP3 clears the arrays of this meter (the engine has no clear
  operation) and keeps the event sequence numbers going.
- Load control: control point *k* of ``MeterConfig.control_points`` switches appliance ``appliances[k]``
  (a `SwitchedLoad` in the meter's `CompositeLoad`), on at any level > 0; the SERVICE_DISCONNECT point is
  the engine's switch. A command with a duration returns to the default state when it runs out.
- Prepayment credit (SP22) is kept here (`Decimal`, currency units); consumption does not draw on it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, cast

import numpy as np

from openami.c1219.procedures import CreditAction, EdMode, TimeDateQual
from openami.c1219.std.decade11 import ControlPointType, ControlSource
from openami.c1219.uom import TimeBase
from openami.errors import LocalProtocolError
from openami.meter.config import MeterConfig, Source
from openami.meter.engine import (
    AdcConfig,
    CompositeLoad,
    DemandConfig,
    EngineConfig,
    EventLog,
    FleetEngine,
    LoadModel,
    LoadProfileConfig,
    Register,
    SupplyConfig,
    SwitchedLoad,
    TierSwitch,
    Timebase,
    TouCalendar,
    resistive_load,
    rl_load,
)
from openami.meter.procedures import (
    ClockReading,
    ControlPointState,
    CreditRecord,
    CreditState,
    DemandReading,
    DeviceStatus,
    LoadProfileData,
    LogEntry,
    LpBlock,
    NetworkState,
    RegisterBlock,
    RegisterReadings,
)
from openami.meter.responder import Responder
from openami.transport import Cancellable, Clock

__all__ = [
    "CachedResponder",
    "EngineDriver",
    "EngineLive",
    "default_load",
    "engine_config",
    "local_time",
    "source_register",
]

ByteOrder = Literal["little", "big"]
_EPOCH = dt.datetime(1970, 1, 1)
_ENERGY = frozenset({TimeBase.BULK, TimeBase.NET_BULK})
_INSTANT = {0: "p_w", 1: "q_var", 2: "s_va", 8: "vrms_v", 12: "irms_a", 24: "pf", 33: "freq_hz"}


def local_time(meter_time: int, utc_offset_s: int) -> dt.datetime:
    """The naive local `datetime` of a meter clock reading (s since 1970 UTC)."""
    return _EPOCH + dt.timedelta(seconds=int(meter_time) + utc_offset_s)


def source_register(source: Source) -> Register | None:
    """The engine register an energy (bulk) source counts, or None (see the module docstring)."""
    if source.time_base not in _ENERGY:
        return None
    q = frozenset(source.quadrants)
    if source.id_code == 0:
        return Register.WH_RECEIVED if q and q <= {2, 3} else Register.WH_DELIVERED
    if source.id_code == 1:
        if len(q) == 1:
            return Register(Register.VARH_Q1 + min(q) - 1)
        return Register.VARH_RECEIVED if q and q <= {3, 4} else Register.VARH_DELIVERED
    return Register.VAH if source.id_code == 2 else None


def _is_voltage(source: Source) -> bool:
    return source.id_code == 8 and source.time_base not in _ENERGY


def engine_config(config: MeterConfig, **overrides: object) -> EngineConfig:
    """The `EngineConfig` matching a meter's tables: supply (ST2 voltage, frequency), class amps, TOU tiers
    and switches (ST54, every day type on day schedule 0), demand interval (ST13), load-profile interval,
    channels and depth (ST61/ST62), event-log depth, UTC offset and data order. ``overrides`` replace
    fields (e.g. ``adc``, ``calibration``)."""
    tiers = max(1, config.nbr_tiers)
    calendar = None
    if config.nbr_tiers and config.tier_switches:
        switches = tuple(TierSwitch(s.day_type, s.hour, s.minute, s.tier) for s in config.tier_switches)
        calendar = TouCalendar(switches, tuple((0, 0, 0) for _ in range(config.seasons)))
    sources = config.sources
    channels = [source_register(sources[s]) for s in config.lp_channels]
    lp = LoadProfileConfig(
        interval_s=config.lp_interval_min * 60,
        capacity=config.lp_blocks * config.lp_block_intervals,
        channels=tuple(dict.fromkeys(r for r in channels if r is not None)),
        voltage_channel=any(_is_voltage(sources[s]) for s in config.lp_channels),
    )
    fields: dict[str, object] = {
        "supply": SupplyConfig(voltage_rms=config.service_voltage_v, frequency_hz=config.service_frequency_hz),
        "adc": AdcConfig(i_max_a=float(config.class_amps)),
        "tiers": tiers,
        "calendar": calendar,
        "utc_offset_s": config.time_zone_offset_min * 60,
        "demand": DemandConfig(subinterval_s=config.demand_interval_min * 60),
        "load_profile": lp,
        "event_capacity": max(config.history_entries, config.event_entries),
        "byteorder": cast(ByteOrder, config.formats.byteorder),
    }
    fields.update(overrides)
    return EngineConfig(**fields)  # type: ignore[arg-type]


def default_load(config: MeterConfig, rng: np.random.Generator) -> tuple[CompositeLoad, dict[int, SwitchedLoad]]:
    """A household: a base load of 0.3–1.5 kW at power factor 0.95 (drawn from ``rng``) plus one switched
    resistive appliance per load-control point with a rated load (on when the point's default is on).
    Returns the load and the appliances by control-point index."""
    v, f = config.service_voltage_v, config.service_frequency_hz
    base = rl_load(float(rng.uniform(300.0, 1500.0)), 0.95, v, f)
    appliances: dict[int, SwitchedLoad] = {}
    for index, point in enumerate(config.control_points):
        if point.type != ControlPointType.SERVICE_DISCONNECT and point.rated_load_w > 0:
            appliances[index] = SwitchedLoad(resistive_load(point.rated_load_w, v), on=point.default_on)
    loads: list[LoadModel] = list(appliances.values())
    return CompositeLoad(base, loads), appliances


@dataclass
class _Point:
    level: int
    source: int = ControlSource.NONE
    last_change: dt.datetime | None = None
    until: int | None = None  # meter time (s) when a timed command ends


class EngineLive:
    """`LiveData` over meter ``index`` of ``engine`` (see the module docstring).

    ``appliances`` maps control-point indices to the switched loads of the meter's load;
    ``network`` supplies ST126/ST127 (the node sets it); ``credit`` is the starting prepayment credit.
    """

    def __init__(
        self,
        engine: FleetEngine,
        index: int,
        config: MeterConfig,
        *,
        appliances: dict[int, SwitchedLoad] | None = None,
        credit: Decimal = Decimal(0),
    ) -> None:
        self.engine = engine
        self.index = index
        self.config = config
        self.appliances = appliances if appliances is not None else {}
        self.network_source: Callable[[], NetworkState] | None = None
        self._utc = config.time_zone_offset_min * 60
        self._mode = int(EdMode.METERING)
        self._mfg_flags = 0
        self._dst = False
        sources = config.sources
        self._summations = [source_register(sources[s]) for s in config.summations]
        self._demand_w = [sources[s].id_code == 0 for s in config.demands]
        self._present_demands = [sources[s].id_code == 0 for s in config.present_demands]
        self._present_values = [_INSTANT.get(sources[s].id_code) for s in config.present_values]
        lp_cfg = engine.load_profile.config
        self._lp_map: list[int | None] = []
        for s in config.lp_channels:
            reg = source_register(sources[s])
            if reg is not None and reg in lp_cfg.channels:
                self._lp_map.append(lp_cfg.channels.index(reg))
            elif _is_voltage(sources[s]) and lp_cfg.voltage_channel:
                self._lp_map.append(len(lp_cfg.channels))
            else:
                self._lp_map.append(None)
        self._lp_active = True
        self._lp_total = 0  # intervals recorded while active, since the start
        self._lp_head = int(engine.load_profile.head[index])
        step = engine.load_profile.config.interval_s
        local = engine.meter_time(index) + self._utc
        self._lp_last_end = local // step * step - self._utc  # end of the interval before the first
        self._lp_hidden: set[int] = set()  # end times of intervals closed while stopped
        self._points = [_Point(100 if p.default_on else 0) for p in config.control_points]
        self._credit = credit
        self._credit_time: dt.datetime | None = None
        self._credit_log: deque[CreditRecord] = deque(maxlen=max(1, config.credit_entries))
        self._changes = 0

    # -- helpers ---------------------------------------------------------------------------------------------------
    def generation(self) -> tuple[int, ...]:
        """Changes whenever what the live tables show may have changed: the engine's time, this meter's
        clock, event log, ST3 flags, switch and supply, and every hook called here."""
        eng, i = self.engine, self.index
        return (
            eng.time,
            eng.meter_time(i),
            eng.event_logs[i].next_seq,
            int(eng.status[i]),
            int(eng.connected[i]) | int(eng.powered[i]) << 1,
            self._changes,
        )

    @property
    def meter_time(self) -> int:
        """The meter clock (s since 1970 UTC)."""
        return self.engine.meter_time(self.index)

    def _local(self, meter_time: int | None) -> dt.datetime | None:
        return None if meter_time is None else local_time(meter_time, self._utc)

    def _now(self) -> dt.datetime:
        return local_time(self.meter_time, self._utc)

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """Run an engine operation with this meter's event log swapped for a scratch one."""
        logs = self.engine.event_logs
        real = logs[self.index]
        logs[self.index] = EventLog(1, real.byteorder)
        try:
            yield
        finally:
            logs[self.index] = real

    def observe(self) -> int:
        """Account for the intervals the engine closed since the last call and end timed load-control
        commands; call after every engine step. Returns the number of new intervals."""
        lp = self.engine.load_profile
        cap, i = lp.config.capacity, self.index
        head, count = int(lp.head[i]), int(lp.count[i])
        new = (head - self._lp_head) % cap
        self._lp_head = head
        if count:
            newest = int(lp.end_time[i, (head - 1) % cap])
            if newest != self._lp_last_end:
                # the ring may have wrapped within one step: count the intervals by time as well
                span = (newest - self._lp_last_end) // lp.config.interval_s
                if span > new:
                    new += cap * round((span - new) / cap)
                new = new or cap
                self._lp_last_end = newest
        if new:
            if self._lp_active:
                self._lp_total += new
            else:
                ends = lp.end_time[self.index]
                self._lp_hidden.update(int(ends[(head - k - 1) % lp.config.capacity]) for k in range(new))
        now = self.meter_time
        for index, point in enumerate(self._points):
            if point.until is not None and now >= point.until:
                self.set_control_point(index, None, 0)
        return new

    # -- LiveData: readers -----------------------------------------------------------------------------------------
    def clock(self) -> ClockReading:
        return ClockReading(self._now(), dst=self._dst, tier=self.engine.tier(self.index))

    def registers(self) -> RegisterReadings:
        eng, i = self.engine, self.index
        counts = eng.registers.counts[i]
        demand = eng.demand_snapshot(i)

        def block(k: int) -> RegisterBlock:
            sums = tuple(0.0 if r is None else float(counts[k, r]) / 1000.0 for r in self._summations)
            demands = tuple(
                DemandReading(
                    (demand.max_w[k],),
                    (self._local(demand.max_time[k]),),
                    demand.cumulative_w[k],
                    demand.cumulative_w[k] + demand.max_w[k],
                )
                if watts
                else DemandReading()
                for watts in self._demand_w
            )
            return RegisterBlock(sums, demands)

        reading = eng.reading(i)
        present = tuple(float(getattr(reading, name)) if name else 0.0 for name in self._present_values)
        sub = eng.demand.config.subinterval_s
        local = self.meter_time + self._utc
        return RegisterReadings(
            total=block(0),
            tiers=tuple(block(1 + t) for t in range(eng.registers.tiers)),
            demand_resets=demand.resets,
            present_demands=tuple(demand.present_w if w else 0.0 for w in self._present_demands),
            present_values=present,
            time_remaining_s=sub - local % sub,
        )

    def status(self) -> DeviceStatus:
        return DeviceStatus(self._mode, int(self.engine.status[self.index]), self._mfg_flags)

    def load_profile(self) -> LoadProfileData:
        self.observe()
        lp = self.engine.load_profile
        records = self.engine.intervals(self.index)
        n_energy = len(lp.config.channels)
        reading = [int(v) for v in lp.start_counts[self.index]]  # registers at the newest interval end
        nbi = self.config.lp_block_intervals
        blocks: list[tuple[int, dt.datetime, tuple[float, ...], list[tuple[float, ...]]]] = []
        position = self._lp_total
        for record in reversed(records):
            visible = record.end_time not in self._lp_hidden
            if visible and position > 0:
                position -= 1
                values = tuple(0.0 if c is None else record.values[c] / 1000.0 for c in self._lp_map)
                number = position // nbi
                if not blocks or blocks[-1][0] != number:
                    if len(blocks) == self.config.lp_blocks:
                        break
                    ends = tuple(
                        0.0 if c is None else (reading[c] if c < n_energy else record.values[c]) / 1000.0
                        for c in self._lp_map
                    )
                    blocks.append((number, local_time(record.end_time, self._utc), ends, []))
                blocks[-1][3].append(values)
            for c in range(n_energy):
                reading[c] -= record.values[c]
        out = tuple(LpBlock(end, ends, tuple(reversed(ivs))) for _, end, ends, ivs in reversed(blocks))
        last = blocks[0][0] if blocks else 0
        return LoadProfileData(self._lp_active, out, last & 0xFFFFFFFF)

    def events(self) -> Sequence[LogEntry]:
        utc = self._utc
        return [
            LogEntry(local_time(e.time, utc), e.code, e.seq, e.user_id, e.argument)
            for e in self.engine.events(self.index)
        ]

    def control_points(self) -> Sequence[ControlPointState]:
        eng, i = self.engine, self.index
        reading = eng.reading(i)
        now = self.meter_time
        out = []
        for index, (point, cfg) in enumerate(zip(self._points, self.config.control_points, strict=True)):
            if cfg.type == ControlPointType.SERVICE_DISCONNECT:
                level, load = (100, reading.p_w) if eng.connected[i] else (0, 0.0)
            else:
                appliance = self.appliances.get(index)
                level = point.level
                load = cfg.rated_load_w if appliance is not None and appliance.on and eng.connected[i] else 0.0
            left = 0 if point.until is None else max(0, math.ceil((point.until - now) / 60))
            out.append(ControlPointState(level, point.source, point.last_change, left, max(0.0, load)))
        return out

    def credit(self) -> CreditState:
        return CreditState(self._credit, self._credit_time, tuple(reversed(self._credit_log)))

    def network(self) -> NetworkState:
        return self.network_source() if self.network_source is not None else NetworkState()

    # -- LiveData: hooks -------------------------------------------------------------------------------------------
    def log_event(self, code: int, user_id: int, argument: bytes) -> None:
        self._changes += 1
        self.engine.event_logs[self.index].log(self.meter_time, code, user_id, bytes(argument))

    def clear_data(self) -> None:
        self._changes += 1
        eng, i = self.engine, self.index
        eng.registers.counts[i] = 0
        eng.registers.carry[i] = 0.0
        d = eng.demand
        for array, value in ((d.max_w, 0.0), (d.max_time, -1), (d.cumulative, 0.0), (d.resets, 0), (d.present, 0.0)):
            array[i] = value
        d.restart(i, self.meter_time + self._utc)
        lp = eng.load_profile
        lp.count[i] = 0
        lp.start_counts[i] = 0
        self._lp_total, self._lp_hidden = 0, set()
        old = eng.event_logs[i]
        fresh = EventLog(eng.configs[i].event_capacity, old.byteorder)
        fresh.next_seq = old.next_seq
        eng.event_logs[i] = fresh

    def set_mode(self, mode: int) -> None:
        self._changes += 1
        self._mode = int(mode)

    def clear_status_flags(self, standard: bool) -> None:
        self._changes += 1
        if standard:
            self.engine.clear_status(self.index)
        else:
            self._mfg_flags = 0

    def demand_reset(self) -> None:
        self._changes += 1
        self.engine.demand.reset(self.index)

    def set_clock(self, when: dt.datetime, qual: TimeDateQual | None) -> None:
        self._changes += 1
        new = int((when.replace(tzinfo=None, microsecond=0) - _EPOCH).total_seconds()) - self._utc
        with self._quiet():
            self.engine.set_clock(self.index, new)
        if qual is not None:
            self._dst = qual.dst

    def start_load_profile(self) -> None:
        self._changes += 1
        self.observe()
        self._lp_active = True

    def stop_load_profile(self) -> None:
        self._changes += 1
        self.observe()
        self._lp_active = False

    def set_control_point(self, index: int, level: int | None, duration_min: int) -> bool:
        self._changes += 1
        if not 0 <= index < len(self._points):
            return False
        cfg = self.config.control_points[index]
        if level is None:
            point = _Point(100 if cfg.default_on else 0, ControlSource.NONE, self._now())
        else:
            until = self.meter_time + 60 * duration_min if duration_min else None
            point = _Point(level, ControlSource.COMMAND, self._now(), until)
        self._points[index] = point
        appliance = self.appliances.get(index)
        if appliance is not None:
            appliance.on = point.level > 0
        return True

    def set_disconnect(self, open_switch: bool) -> bool:
        self._changes += 1
        with self._quiet():
            if open_switch:
                self.engine.disconnect(self.index)
            else:
                self.engine.connect(self.index)
        index = self.config.service_disconnect
        if index is not None:
            self._points[index] = _Point(0 if open_switch else 100, ControlSource.COMMAND, self._now())
        return True

    def modify_credit(self, action: CreditAction, amount: float | Decimal, reference: int) -> Decimal:
        self._changes += 1
        value = Decimal(str(amount))
        if action == CreditAction.ADD:
            self._credit += value
        elif action == CreditAction.SUBTRACT:
            self._credit -= value
        else:
            self._credit = value
        now = self._now()
        self._credit_time = now
        self._credit_log.append(CreditRecord(now, action, value, self._credit))
        return self._credit


class EngineDriver:
    """Steps a `FleetEngine` on an injected clock (real time or accelerated).

    Simulated time is ``Timebase(engine start, clock.now() at creation, speed)`` of the clock's reading:
    ``speed`` 1 runs the meters' clocks with the wall clock, 3600 runs an hour per second. `start` steps
    the engine every ``tick_s`` seconds of the clock (the engine batches the simulated seconds elapsed);
    `sync` brings it up to date at once (before a read). ``listeners`` run after every step that moved
    simulated time. ``loads`` holds one load per meter of the engine.
    """

    def __init__(
        self,
        engine: FleetEngine,
        loads: Sequence[LoadModel],
        *,
        clock: Clock,
        speed: float = 1.0,
        tick_s: float = 1.0,
    ) -> None:
        if not (math.isfinite(tick_s) and tick_s > 0):
            raise LocalProtocolError(f"tick_s must be > 0 s, got {tick_s!r}")
        self.engine = engine
        self.loads = list(loads)
        self.clock = clock
        self.timebase = Timebase(float(engine.time), clock.now(), speed)
        self.tick_s = tick_s
        self.listeners: list[Callable[[], None]] = []
        self.steps = 0
        self._handle: Cancellable | None = None
        self._next = 0.0

    @property
    def speed(self) -> float:
        """Simulated seconds per clock second."""
        return self.timebase.factor

    def sync(self, now: float | None = None) -> int:
        """Advance the engine to the simulated time of ``now`` (default: the clock's); returns the
        simulated seconds stepped."""
        wall = self.clock.now() if now is None else now
        stepped = self.engine.advance(self.timebase.sim_time(wall), self.loads)
        if stepped:
            self.steps += 1
            for listener in self.listeners:
                listener()
        return stepped

    def start(self) -> None:
        """Step every ``tick_s`` seconds of the clock until `stop`."""
        if self._handle is None:
            self._next = self.clock.now() + self.tick_s
            self._handle = self.clock.call_at(self._next, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        self.sync()
        self._next = max(self._next + self.tick_s, self.clock.now())
        self._handle = self.clock.call_at(self._next, self._tick)


class CachedResponder(Responder):
    """A `Responder` whose live tables are rebuilt only when the engine's state has moved since the last
    rebuild (`EngineLive.generation`); ST126 and ST127 (registration count-down, traffic statistics)
    are rebuilt on every read. Answers are the same as `Responder`'s; reads of live tables are cheaper
    between engine steps (a reader polling ST23 at hundreds of requests per second)."""

    _ALWAYS = frozenset({126, 127})

    def __init__(self, config: MeterConfig, live: EngineLive, **options: Any) -> None:
        super().__init__(config, live, **options)
        self._engine_live = live
        self._fresh: dict[int, tuple[int, ...]] = {}

    def refresh(self, number: int) -> None:
        if number in self._ALWAYS:
            super().refresh(number)
            return
        generation = self._engine_live.generation()
        if self._fresh.get(number) != generation:
            super().refresh(number)
            self._fresh[number] = generation
