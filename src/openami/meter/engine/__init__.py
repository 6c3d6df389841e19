"""The meter's metering engine: a simulated metering front end (ΣΔ ADC sampling of voltage and current
at 4096 samples/s, 16-bit, calibrated) and the metrology built on it — rms values, active/reactive/
apparent power, power factor, frequency; energy registers per TOU tier; block and sliding demand;
load-profile intervals; event log and ST3 status — for one meter (`MeteringEngine`) or a fleet
(`FleetEngine`), sampled or fast (analytic), on injected simulated time (`Timebase`).

Modules: `loads` (spectra, load models), `frontend` (supply, ADC, calibration, synthesis),
`measurement`, `registers`, `demand`, `tou`, `loadprofile`, `events`, `config`, `fleet`, `meter`,
`timebase`.
"""

from __future__ import annotations

from openami.meter.engine.config import EngineConfig
from openami.meter.engine.demand import DemandConfig, DemandSnapshot
from openami.meter.engine.errors import EngineError
from openami.meter.engine.events import EventCode, EventLog, EventRecord, StatusFlag
from openami.meter.engine.fleet import FleetEngine, Mode, Reading
from openami.meter.engine.frontend import AdcConfig, Calibration, FrequencyDrift, SupplyConfig
from openami.meter.engine.loadprofile import IntervalRecord, IntervalStatus, LoadProfileConfig
from openami.meter.engine.loads import (
    CompositeLoad,
    ConstantPowerLoad,
    CurrentSourceLoad,
    ImpedanceLoad,
    LoadModel,
    ScheduleLoad,
    Spectrum,
    SwitchedLoad,
    harmonic_load,
    resistive_load,
    rl_load,
)
from openami.meter.engine.meter import MeteringEngine
from openami.meter.engine.registers import Register, RegisterSnapshot
from openami.meter.engine.timebase import Timebase
from openami.meter.engine.tou import SeasonStart, SpecialDate, TierSwitch, TouCalendar

__all__ = [
    "AdcConfig",
    "Calibration",
    "CompositeLoad",
    "ConstantPowerLoad",
    "CurrentSourceLoad",
    "DemandConfig",
    "DemandSnapshot",
    "EngineConfig",
    "EngineError",
    "EventCode",
    "EventLog",
    "EventRecord",
    "FleetEngine",
    "FrequencyDrift",
    "ImpedanceLoad",
    "IntervalRecord",
    "IntervalStatus",
    "LoadModel",
    "LoadProfileConfig",
    "MeteringEngine",
    "Mode",
    "Reading",
    "Register",
    "RegisterSnapshot",
    "ScheduleLoad",
    "SeasonStart",
    "SpecialDate",
    "Spectrum",
    "StatusFlag",
    "SupplyConfig",
    "SwitchedLoad",
    "TierSwitch",
    "Timebase",
    "TouCalendar",
    "harmonic_load",
    "resistive_load",
    "rl_load",
]
