"""`MeteringEngine`: the metering engine of one meter.

A thin view of a one-meter `FleetEngine` (the same code path: a single meter batches consecutive seconds
instead of meters). See `openami.meter.engine.fleet` for time, modes, accuracy and randomness.
"""

from __future__ import annotations

import numpy as np

from openami.meter.engine.config import EngineConfig
from openami.meter.engine.demand import DemandSnapshot
from openami.meter.engine.events import EventRecord, StatusFlag
from openami.meter.engine.fleet import FleetEngine, Mode, Reading
from openami.meter.engine.loadprofile import IntervalRecord
from openami.meter.engine.loads import LoadModel
from openami.meter.engine.registers import Register, RegisterSnapshot

__all__ = ["MeteringEngine"]


class MeteringEngine:
    """One meter's metering engine: ``MeteringEngine(config, rng, start_time=…)``, then
    ``advance(to_time, load)`` on simulated time, operations (power, clock, demand reset, service
    switch, tamper, logged table writes and procedures) and views (reading, registers, demand, tier,
    load profile, events, ST3 status)."""

    __slots__ = ("fleet",)

    def __init__(
        self,
        config: EngineConfig,
        rng: np.random.Generator,
        *,
        start_time: int,
        mode: Mode = "sampled",
        chunk_rows: int = 64,
    ) -> None:
        self.fleet = FleetEngine([config], [rng], start_time=start_time, mode=mode, chunk_rows=chunk_rows)

    @property
    def config(self) -> EngineConfig:
        """The meter's configuration."""
        return self.fleet.configs[0]

    @property
    def time(self) -> int:
        """Simulated time (s) reached."""
        return self.fleet.time

    @property
    def meter_time(self) -> int:
        """The meter's clock (s since 1970 UTC)."""
        return self.fleet.meter_time(0)

    def advance(self, to_time: float, load: LoadModel) -> int:
        """Step whole seconds up to ``to_time`` (simulated s) with ``load``; returns the seconds stepped."""
        return self.fleet.advance(to_time, [load])

    # operations
    def power_fail(self) -> None:
        """Supply off (see `FleetEngine.power_fail`)."""
        self.fleet.power_fail(0)

    def power_restore(self) -> None:
        """Supply back on."""
        self.fleet.power_restore(0)

    def disconnect(self, user_id: int = 0) -> None:
        """Open the service switch."""
        self.fleet.disconnect(0, user_id)

    def connect(self, user_id: int = 0) -> None:
        """Close the service switch."""
        self.fleet.connect(0, user_id)

    def set_clock(self, new_time: int, user_id: int = 0) -> None:
        """Set the meter's clock (s since 1970 UTC)."""
        self.fleet.set_clock(0, new_time, user_id)

    def demand_reset(self, user_id: int = 0) -> DemandSnapshot:
        """Demand reset; returns the values before it."""
        return self.fleet.demand_reset(0, user_id)

    def tamper(self, argument: bytes = b"", user_id: int = 0) -> None:
        """Record a tamper attempt."""
        self.fleet.tamper(0, argument, user_id)

    def table_written(self, table_idb: int, user_id: int = 0) -> EventRecord:
        """Log a table write."""
        return self.fleet.table_written(0, table_idb, user_id)

    def procedure_invoked(self, proc_idb: int, user_id: int = 0) -> EventRecord:
        """Log a procedure invocation."""
        return self.fleet.procedure_invoked(0, proc_idb, user_id)

    def clear_status(self, flags: int = -1) -> None:
        """Clear latched ST3 status bits."""
        self.fleet.clear_status(0, flags)

    # views
    @property
    def reading(self) -> Reading:
        """The last simulated second."""
        return self.fleet.reading(0)

    @property
    def tier(self) -> int:
        """The TOU tier in force now."""
        return self.fleet.tier(0)

    @property
    def registers(self) -> RegisterSnapshot:
        """Energy registers (milli-units)."""
        return self.fleet.register_snapshot(0)

    def register(self, register: Register, tier: int | None = None) -> int:
        """One register's count (milli-units), total or of ``tier``."""
        return self.fleet.registers.value(0, register, tier)

    @property
    def demand(self) -> DemandSnapshot:
        """Demand values."""
        return self.fleet.demand_snapshot(0)

    @property
    def intervals(self) -> tuple[IntervalRecord, ...]:
        """Stored load-profile intervals, oldest first."""
        return self.fleet.intervals(0)

    @property
    def events(self) -> tuple[EventRecord, ...]:
        """The event log, oldest first."""
        return self.fleet.events(0)

    @property
    def status(self) -> StatusFlag:
        """Latched ST3 ED_STD_STATUS1 flags."""
        return StatusFlag(int(self.fleet.status[0]))
