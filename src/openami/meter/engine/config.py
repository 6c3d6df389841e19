"""A meter's metering configuration (`EngineConfig`), built by the caller and validated here. (Not to be
confused with `openami.meter.config.MeterConfig`, the configuration of the meter's tables.)

Meters of one `FleetEngine` may differ in supply, ADC, calibration, calendar, UTC offset and thresholds;
they share ``tiers``, ``demand``, ``load_profile``, ``event_capacity`` and ``max_harmonic`` (array shapes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from openami.meter.engine.demand import DemandConfig
from openami.meter.engine.errors import EngineError
from openami.meter.engine.frontend import AdcConfig, Calibration, SupplyConfig
from openami.meter.engine.loadprofile import LoadProfileConfig
from openami.meter.engine.tou import TouCalendar

__all__ = ["EngineConfig"]


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Everything the metering engine needs to know about one meter.

    ``tiers`` TOU tiers (1–8) with the ``calendar`` choosing among them (None: tier 0 always);
    ``utc_offset_s`` local time minus UTC (s) for TOU, demand and load-profile alignment;
    ``reverse_threshold_w`` received power (W) above which reverse rotation is flagged;
    ``max_harmonic`` the highest harmonic order of voltage or current the engine represents;
    ``byteorder`` the data order of event arguments (ST0 DATA_ORDER).
    """

    supply: SupplyConfig = field(default_factory=SupplyConfig)
    adc: AdcConfig = field(default_factory=AdcConfig)
    calibration: Calibration = field(default_factory=Calibration)
    tiers: int = 4
    calendar: TouCalendar | None = None
    utc_offset_s: int = 0
    demand: DemandConfig = field(default_factory=DemandConfig)
    load_profile: LoadProfileConfig = field(default_factory=LoadProfileConfig)
    event_capacity: int = 256
    reverse_threshold_w: float = 5.0
    max_harmonic: int = 15
    byteorder: Literal["little", "big"] = "little"

    def __post_init__(self) -> None:
        if not 1 <= self.tiers <= 8:
            raise EngineError(f"tiers is 1..8, got {self.tiers}")
        if self.calendar is not None and self.calendar.max_tier >= self.tiers:
            raise EngineError(f"the calendar selects tier {self.calendar.max_tier} of only {self.tiers}")
        if not (isinstance(self.utc_offset_s, int) and abs(self.utc_offset_s) <= 14 * 3600):
            raise EngineError(f"utc_offset_s within ±14 h, got {self.utc_offset_s!r}")
        if not (math.isfinite(self.reverse_threshold_w) and self.reverse_threshold_w >= 0):
            raise EngineError("reverse_threshold_w must be >= 0")
        top = max(self.supply.frequency_hz + 5.0, 1.0)
        if not (isinstance(self.max_harmonic, int) and self.max_harmonic >= 1):
            raise EngineError(f"max_harmonic must be >= 1, got {self.max_harmonic!r}")
        if self.max_harmonic * top >= self.adc.sample_rate_hz / 2:
            raise EngineError(
                f"harmonic {self.max_harmonic} of {top} Hz reaches Nyquist at {self.adc.sample_rate_hz} samples/s"
            )
        if any(h > self.max_harmonic for h, _, _ in self.supply.harmonics):
            raise EngineError("a voltage harmonic is above max_harmonic")
        if self.byteorder not in ("little", "big"):
            raise EngineError(f"byteorder is 'little' or 'big', got {self.byteorder!r}")

    @property
    def v_lsb(self) -> float:
        """Volts per ADC code."""
        return self.adc.v_lsb(self.supply.voltage_rms)

    @property
    def i_lsb(self) -> float:
        """Amperes per ADC code."""
        return self.adc.i_lsb()
