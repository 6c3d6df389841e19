"""`Appliance`: a HAN end device — a small C12.22 node with its own C12.19 tables and a load model.

Its tables come from a small `MeterConfig` (`appliance_config`): ST0, ST1 (identity), ST3, ST5, ST7/ST8
(procedures: SP21 only), ST41–ST44 (the default meter's passwords and permissions: anyone reads,
OPERATOR / MASTER run procedures), ST11/ST12/ST16 (two sources: source 0 Wh delivered, bulk; source 1 W,
instantaneous), ST21–ST23 (one summation: source 0, Wh; no demands, no tiers), ST28 (one present value:
source 1, W), ST111–ST113 (one control point: a LOAD_RELAY carrying the policy's priority, rated load,
interruptible and default-on flags). A `Responder` answers reads, writes and procedures; the appliance
is its `LiveData`.

SP21 on control point 0 (or 255, all): level 0 switches the appliance off, 100 on, RELEASE returns it to
its policy's ``default_on``; a DURATION (minutes) returns it to the default when it runs out (checked
by `Appliance.advance`).

Energy: `Appliance.advance(now, voltage, frequency_hz)` integrates the load model once per whole
simulated second since the last call: P = Re Σ V_h·I_h* (W), energy += P·1 s / 3600 (Wh). The present
value (ST28) is the power of the last second.

Time: ``now`` is seconds since 1970-01-01 UTC; the tables' clock is that instant as naive UTC.
Identity on the HAN: ``han_address`` (16-bit short address given by the meter's `PermitJoin`) is the
native address of its Registration, two octets big-endian. The electronic serial number is the relative
ApTitle ``.<serial>`` (the serial must be decimal digits).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from openami.c1219.procedures import CreditAction, TimeDateQual
from openami.c1219.std.decade11 import ControlPointType, ControlSource
from openami.c1219.uom import TimeBase
from openami.c1222.aptitle import ApTitle
from openami.c1222.services import ConnectionType, Deregistration, NodeType, Registration
from openami.errors import LocalProtocolError
from openami.han.loads import Switchable, complex_power
from openami.han.policies import AppliancePolicy
from openami.meter.config import ControlPoint, Identity, MeterConfig, Source
from openami.meter.engine.loads import LoadModel, Spectrum
from openami.meter.procedures import (
    ClockReading,
    ControlPointState,
    CreditState,
    DeviceStatus,
    LoadProfileData,
    LogEntry,
    NetworkState,
    RegisterBlock,
    RegisterReadings,
)
from openami.meter.responder import Responder

__all__ = [
    "APPLIANCE_TABLES",
    "DEFAULT_CONNECTION",
    "Appliance",
    "ApplianceIdentity",
    "appliance_config",
]

APPLIANCE_TABLES = frozenset({0, 1, 3, 5, 7, 8, 11, 12, 16, 21, 22, 23, 28, 41, 42, 43, 44, 111, 112, 113})
"""The standard tables every appliance has."""

DEFAULT_CONNECTION = ConnectionType.CONNECTIONLESS_MODE_SUPPORTED | ConnectionType.ACCEPT_CONNECTIONLESS
"""Registration connection type of an appliance: connectionless, accepts connectionless messages."""

_EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True, kw_only=True)
class ApplianceIdentity:
    """Who an appliance is: ``kind`` (e.g. "heater", ≤ 8 characters: ST1 ED_MODEL), ``ap_title`` (dotted),
    ``serial`` (decimal digits, ≤ 16), ``install_code`` (octets given to the meter out of band, may be
    empty), ``device_class`` (4 ASCII characters: ST0 DEVICE_CLASS and the Registration device class),
    ``manufacturer`` (≤ 4)."""

    kind: str
    ap_title: str
    serial: str
    install_code: bytes = b""
    device_class: str = "OAHN"
    manufacturer: str = "OAMI"

    def __post_init__(self) -> None:
        if not self.serial.isdigit() or len(self.serial) > 16:
            raise LocalProtocolError(f"serial must be 1..16 decimal digits, got {self.serial!r}")
        if len(self.device_class) != 4 or not self.device_class.isascii():
            raise LocalProtocolError(f"device class is 4 ASCII characters, got {self.device_class!r}")
        if not 1 <= len(self.kind) <= 8:
            raise LocalProtocolError(f"kind is 1..8 characters, got {self.kind!r}")
        ApTitle.parse(self.ap_title)

    @property
    def title(self) -> ApTitle:
        """The ApTitle."""
        return ApTitle.parse(self.ap_title)

    @property
    def esn(self) -> ApTitle:
        """Electronic serial number as a relative ApTitle ``.<serial>``."""
        return ApTitle((int(self.serial),), relative=True)


def appliance_config(identity: ApplianceIdentity, policy: AppliancePolicy) -> MeterConfig:
    """The small `MeterConfig` of an appliance (see the module docstring)."""
    point = ControlPoint(
        ControlPointType.LOAD_RELAY,
        policy.priority,
        policy.rated_w,
        interruptible=policy.interruptible,
        default_on=policy.default_on,
    )
    return MeterConfig(
        identity=Identity(
            manufacturer=identity.manufacturer,
            model=identity.kind,
            serial=identity.serial,
            device_class=identity.device_class,
            ap_title=identity.ap_title,
        ),
        sources=(Source("Wh delivered", 0, TimeBase.BULK), Source("W", 0, TimeBase.INSTANTANEOUS, quadrants=())),
        summations=(0,),
        demands=(),
        present_demands=(),
        present_values=(1,),
        lp_channels=(0,),
        nbr_tiers=0,
        tier_prices=(),
        tier_switches=(),
        nbr_self_reads=0,
        control_points=(point,),
        level_control=False,
        prepayment=False,
        tables=APPLIANCE_TABLES,
        writable=frozenset({7, 113}),
        procedures=frozenset({21}),
        pending_tables=frozenset(),
        nbr_pending=0,
    )


class Appliance:
    """A HAN appliance (see the module docstring). ``load`` is its load model; ``on`` its initial switch
    state (default: the policy's ``default_on``); ``now`` its start time (s since 1970 UTC)."""

    def __init__(
        self,
        identity: ApplianceIdentity,
        load: LoadModel,
        policy: AppliancePolicy | None = None,
        *,
        on: bool | None = None,
        now: float = 0.0,
        registration_period_s: int = 3600,
    ) -> None:
        self.identity = identity
        self.load = load
        self.policy = policy if policy is not None else AppliancePolicy()
        self.config = appliance_config(identity, self.policy)
        self.registration_period_s = registration_period_s
        self.han_address: int | None = None
        self.energy_wh = 0.0
        self.power_w = 0.0
        self.q_var = 0.0
        self.now = float(now)
        self._t = float(now)
        self.on = self.policy.default_on if on is None else on
        self.source: int = ControlSource.NONE
        self.last_change: dt.datetime | None = None
        self._until: float | None = None
        self.mode = 0
        self.log: list[LogEntry] = []
        if isinstance(load, Switchable):
            load.switched(self._t, self.on)
        self.responder = Responder(self.config, self)

    # -- identity and registration -------------------------------------------------------------------------------
    @property
    def ap_title(self) -> ApTitle:
        """The appliance's ApTitle."""
        return self.identity.title

    @property
    def native_address(self) -> bytes:
        """The HAN short address as 2 octets big-endian (raises if not joined)."""
        if self.han_address is None:
            raise LocalProtocolError("the appliance has not joined a HAN: no native address")
        return self.han_address.to_bytes(2, "big")

    def registration_request(self, connection_type: ConnectionType = DEFAULT_CONNECTION) -> Registration:
        """The C12.22 Registration this appliance sends through its meter (node type END_DEVICE)."""
        return Registration(
            NodeType.END_DEVICE,
            connection_type,
            self.identity.device_class.encode("ascii"),
            self.ap_title,
            self.identity.esn,
            self.native_address,
            self.registration_period_s,
        )

    def deregistration_request(self) -> Deregistration:
        """The C12.22 Deregistration of this appliance's ApTitle."""
        return Deregistration(self.ap_title)

    # -- the switch and the load ---------------------------------------------------------------------------------
    def switch(self, on: bool, now: float | None = None, *, source: int = ControlSource.COMMAND) -> None:
        """Switch ON/OFF at ``now`` (default: the appliance's time), logging event 49 on a change."""
        t = self._t if now is None else float(now)
        if on != self.on:
            self.on = on
            self.last_change = self._clock_at(t)
            self.log_event(49, 0, bytes((0, 100 if on else 0)))
            if isinstance(self.load, Switchable):
                self.load.switched(t, on)
        self.source = source

    def advance(self, now: float, voltage: Spectrum, frequency_hz: float) -> None:
        """Integrate the load over whole seconds up to ``now`` (see the module docstring); a command's
        duration that runs out returns the switch to the policy's default at that second."""
        while self._t + 1.0 <= now:
            if self._until is not None and self._t >= self._until:
                self._until = None
                self.switch(self.policy.default_on, self._t, source=ControlSource.NONE)
            s = complex_power(voltage, self.current(self._t, voltage, frequency_hz))
            self.power_w, self.q_var = s.real, s.imag
            self.energy_wh += self.power_w / 3600.0
            self._t += 1.0
        self.now = max(self.now, float(now))

    def current(self, t: float, voltage: Spectrum, frequency_hz: float) -> Spectrum:
        """`LoadModel`: the load's current while switched on, nothing while off (adds to the meter's load)."""
        return self.load.current(t, voltage, frequency_hz) if self.on else Spectrum.zero()

    def _clock_at(self, t: float) -> dt.datetime:
        return _EPOCH + dt.timedelta(seconds=int(t))

    # -- LiveData: readers ---------------------------------------------------------------------------------------
    def clock(self) -> ClockReading:
        return ClockReading(self._clock_at(self.now))

    def registers(self) -> RegisterReadings:
        return RegisterReadings(total=RegisterBlock(summations=(self.energy_wh,)), present_values=(self.power_w,))

    def status(self) -> DeviceStatus:
        return DeviceStatus() if not self.mode else DeviceStatus(mode=self.mode)

    def load_profile(self) -> LoadProfileData:
        return LoadProfileData(active=False)

    def events(self) -> Sequence[LogEntry]:
        return self.log

    def control_points(self) -> Sequence[ControlPointState]:
        left = 0 if self._until is None else max(0, int((self._until - self.now + 59) // 60))
        level = 100 if self.on else 0
        return (ControlPointState(level, self.source, self.last_change, left, self.power_w if self.on else 0.0),)

    def credit(self) -> CreditState:
        return CreditState()

    def network(self) -> NetworkState:
        return NetworkState()

    # -- LiveData: hooks -----------------------------------------------------------------------------------------
    def log_event(self, code: int, user_id: int, argument: bytes) -> None:
        self.log.append(LogEntry(self._clock_at(self.now), code, len(self.log) + 1, user_id, bytes(argument)))
        del self.log[:-64]

    def clear_data(self) -> None:
        self.energy_wh, self.log = 0.0, []

    def set_mode(self, mode: int) -> None:
        self.mode = mode

    def clear_status_flags(self, standard: bool) -> None:
        return None

    def demand_reset(self) -> None:
        return None

    def set_clock(self, when: dt.datetime, qual: TimeDateQual | None) -> None:
        return None  # the appliance's time is the meter's simulated time

    def start_load_profile(self) -> None:
        return None

    def stop_load_profile(self) -> None:
        return None

    def set_control_point(self, index: int, level: int | None, duration_min: int) -> bool:
        if index != 0:
            return False
        on = self.policy.default_on if level is None else level > 0
        self.switch(on, self.now, source=ControlSource.NONE if level is None else ControlSource.COMMAND)
        self._until = self.now + 60.0 * duration_min if duration_min and level is not None else None
        return True

    def set_disconnect(self, open_switch: bool) -> bool:
        return False  # an appliance has no service disconnect switch

    def modify_credit(self, action: CreditAction, amount: float | Decimal, reference: int) -> float | Decimal:
        return 0.0
