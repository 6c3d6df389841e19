"""`MeterConfig`: everything an emulated meter's C12.19 tables are built from.

One frozen value says who the meter is (ST1/ST5/ST6, its ApTitle), how its tables are encoded (ST0
formats), which standard tables and procedures it has and which tables may be written (ST0 sets), every
dimension the ACT_* tables publish (registers ST21, sources ST11, load profile ST61, logs ST71, security
ST41, time ST51, load control ST111, network ST121), its nameplate (ST2) and its security settings
(ST42 passwords and their access groups, ST43/ST44 permissions, ST45 keys). `openami.meter.tables`
turns it into table octets; nothing here touches bytes.

Access groups are the eight ST42 ACCESS_PERMISSIONS bits. openami's default meter uses four of them:
`GROUP_READ` (bit 0), `GROUP_OPERATE` (bit 1: run field procedures), `GROUP_PROGRAM` (bit 2: write
settings tables) and `GROUP_MASTER` (bit 7: everything, passwords and keys included).

Units: times in minutes or seconds as named, power in W, voltage in V, frequency in Hz, money in the
ST118 currency's major unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openami.c1219.device import CONFIG_TABLES
from openami.c1219.formats import Formats, TmFormat
from openami.c1219.std import STANDARD_TABLES
from openami.c1219.std.decade7 import EVENT_CODES
from openami.c1219.std.decade11 import ControlPointType
from openami.c1219.std.decade12 import StatisticCode
from openami.c1219.uom import TimeBase
from openami.c1222.aptitle import ApTitle
from openami.c1222.security import MAX_KEY_ID, SecurityMode
from openami.errors import LocalProtocolError

__all__ = [
    "DEFAULT_FORMATS",
    "DEFAULT_PROCEDURES",
    "DEFAULT_SOURCES",
    "DEFAULT_WRITABLE",
    "GROUP_MASTER",
    "GROUP_OPERATE",
    "GROUP_PROGRAM",
    "GROUP_READ",
    "LIVE_TABLES",
    "SUPPORTED_PROCEDURES",
    "ControlPoint",
    "Identity",
    "Key",
    "MeterConfig",
    "Password",
    "Permission",
    "SecuritySettings",
    "Source",
    "TierSwitch",
]

GROUP_READ = 0x01
GROUP_OPERATE = 0x02
GROUP_PROGRAM = 0x04
GROUP_MASTER = 0x80

LIVE_TABLES = frozenset({3, 4, 8, 23, 24, 25, 26, 28, 52, 55, 56, 63, 64, 74, 76, 112, 116, 125, 126, 127})
"""Tables whose contents the meter itself keeps up to date (never writable by a client)."""

SUPPORTED_PROCEDURES = frozenset({3, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 21, 22})
"""Standard procedures `openami.meter.procedures` runs."""

DEFAULT_PROCEDURES = SUPPORTED_PROCEDURES
DEFAULT_WRITABLE = frozenset({6, 7, 22, 42, 43, 44, 45, 53, 54, 73, 75, 113, 114, 115, 117, 118, 122, 123})
"""ST0 STD_TBLS_WRITE of the default meter (settings tables; ST7 to run procedures)."""

_ZERO_DECODING_NI = frozenset(range(0, 13)) - {2, 3}
"""NI formats whose all-zero octets decode (templates are built from zeros; FLOAT_CHAR ones do not)."""


@dataclass(frozen=True, kw_only=True)
class Identity:
    """Who the meter is: ST0 DEVICE_CLASS (4 characters), ST1 (MANUFACTURER 4, ED_MODEL ≤ 8, versions,
    MFG_SERIAL_NUMBER ≤ 16), ST5 IDENTIFICATION (``identification`` or the serial, ≤ 20), ST6 strings
    (≤ 20 each, TARIFF_ID ≤ 8), and the C12.22 ``ap_title`` (dotted text, ``.123.8437`` is relative)."""

    manufacturer: str = "OAMI"
    model: str = "RES-1PH"
    serial: str = "00000000000001"
    hw_version: int = 1
    hw_revision: int = 0
    fw_version: int = 1
    fw_revision: int = 0
    device_class: str = "OAMI"
    ap_title: str = ".123.8437"
    identification: str | None = None
    owner_name: str = "OPENAMI UTILITY"
    utility_div: str = ""
    service_point_id: str = ""
    customer_id: str = ""
    tariff_id: str = "RES-TOU"

    @property
    def title(self) -> ApTitle:
        return ApTitle.parse(self.ap_title)


@dataclass(frozen=True)
class Source:
    """One data source (ST16 entry with an ST12 unit): ID_CODE, TIME_BASE, MULTIPLIER (code), quadrants."""

    name: str
    id_code: int
    time_base: int = TimeBase.BULK
    multiplier: int = 0
    quadrants: tuple[int, ...] = (1, 4)


DEFAULT_SOURCES = (
    Source("Wh delivered", 0, TimeBase.BULK),
    Source("varh", 1, TimeBase.BULK, quadrants=(1, 2)),
    Source("W demand", 0, TimeBase.BLOCK_AVERAGE_DEMAND),
    Source("V rms", 8, TimeBase.INSTANTANEOUS, quadrants=()),
    Source("A rms", 12, TimeBase.INSTANTANEOUS, quadrants=()),
)
"""Sources 0..4: Wh, varh (bulk), W block demand, V and A (instantaneous)."""


@dataclass(frozen=True)
class Password:
    """An ST42 entry: the password (≤ PASSWORD_LEN octets, stored blank-padded) and its access groups."""

    password: bytes
    groups: int
    label: str = ""


@dataclass(frozen=True)
class Key:
    """An ST45 entry: AES-128 ``key`` (16 octets) under C12.22 key id ``key_id``."""

    key_id: int
    key: bytes = field(repr=False)


@dataclass(frozen=True)
class Permission:
    """An ST43/ST44 entry: who may read / write a table, or see the result of / execute a procedure."""

    number: int
    procedure: bool = False
    read_groups: int = 0
    write_groups: int = 0
    any_read: bool = False
    any_write: bool = False


def _default_permissions() -> tuple[Permission, ...]:
    master_only = GROUP_MASTER
    program = GROUP_PROGRAM | GROUP_MASTER
    operate = GROUP_OPERATE | GROUP_MASTER
    return (
        Permission(7, any_read=True, write_groups=GROUP_OPERATE | GROUP_PROGRAM | GROUP_MASTER),
        Permission(42, read_groups=master_only, write_groups=master_only),
        Permission(43, any_read=True, write_groups=master_only),
        Permission(44, any_read=True, write_groups=master_only),
        Permission(45, read_groups=master_only, write_groups=master_only),
        Permission(46, read_groups=master_only, write_groups=master_only),
        Permission(3, procedure=True, any_read=True, write_groups=master_only),
        Permission(6, procedure=True, any_read=True, write_groups=program),
        Permission(10, procedure=True, any_read=True, write_groups=operate | GROUP_PROGRAM),
        *(Permission(p, procedure=True, any_read=True, write_groups=program) for p in (12, 13, 14, 15)),
        Permission(22, procedure=True, any_read=True, write_groups=master_only),
    )


@dataclass(frozen=True, kw_only=True)
class SecuritySettings:
    """ST41–ST46 contents, and the lowest EPSEM security mode a read / a write or procedure needs.

    Defaults: passwords READER (reads), OPERATOR (reads, field procedures), PROGRAMMER (reads, settings,
    pending tables) and MASTER (everything); tables readable by anyone unless ST44 says otherwise.
    """

    passwords: tuple[Password, ...] = (
        Password(b"READER", GROUP_READ, "reader"),
        Password(b"OPERATOR", GROUP_READ | GROUP_OPERATE, "operator"),
        Password(b"PROGRAMMER", GROUP_READ | GROUP_PROGRAM, "programmer"),
        Password(b"MASTER", 0xFF, "master"),
    )
    keys: tuple[Key, ...] = ()
    password_len: int = 20
    key_len: int = 16
    table_default: Permission = Permission(
        0, any_read=True, read_groups=0xFF, write_groups=GROUP_PROGRAM | GROUP_MASTER
    )
    procedure_default: Permission = Permission(
        0, procedure=True, any_read=True, read_groups=0xFF, write_groups=GROUP_OPERATE | GROUP_MASTER
    )
    permissions: tuple[Permission, ...] = field(default_factory=_default_permissions)
    min_read_mode: SecurityMode = SecurityMode.CLEARTEXT
    min_write_mode: SecurityMode = SecurityMode.CLEARTEXT


@dataclass(frozen=True)
class ControlPoint:
    """An ST113 control point (the ``SERVICE_DISCONNECT`` type is the meter's connect/disconnect switch)."""

    type: ControlPointType = ControlPointType.LOAD_RELAY
    priority: int = 128
    rated_load_w: float = 0.0
    interruptible: bool = True
    default_on: bool = True
    prepayment_disconnect: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class TierSwitch:
    """An ST54 tier switch: from ``hour``:``minute`` tier ``tier`` is in force on day type ``day_type``."""

    hour: int
    minute: int
    tier: int
    day_type: int = 0


DEFAULT_FORMATS = Formats(ni_format1=0, ni_format2=0, tm_format=TmFormat.UINT8)
"""Little-endian, ISO 646 characters, UINT8 date fields, FLOAT64 for NI_FMAT1 and NI_FMAT2."""

_DEFAULT_SWITCHES = (TierSwitch(0, 0, 0), TierSwitch(17, 0, 1), TierSwitch(21, 0, 0))


@dataclass(frozen=True, kw_only=True)
class MeterConfig:
    """The configuration of one emulated meter (see the module docstring); `validate` runs on creation.

    ``tables`` None means every standard table the dimensions make meaningful (`default_tables`).
    ``initial`` holds decoded-shape values merged over the built tables (table number → fields), for
    settings the dataclass does not name. ``procedure_durations`` (procedure → seconds) makes a
    procedure run that long: ST7 writes are answered BSY meanwhile. ``max_request_size`` /
    ``max_response_size`` bound one service body (octets; RQTL / RSTL beyond).
    """

    identity: Identity = Identity()
    formats: Formats = DEFAULT_FORMATS
    std_version: int = 2
    sources: tuple[Source, ...] = DEFAULT_SOURCES
    summations: tuple[int, ...] = (0, 1)
    demands: tuple[int, ...] = (2,)
    coincidents: tuple[tuple[int, int], ...] = ()
    nbr_occur: int = 1
    nbr_tiers: int = 4
    nbr_self_reads: int = 2
    self_read_on_demand_reset: bool = True
    present_demands: tuple[int, ...] = (2,)
    present_values: tuple[int, ...] = (3, 4)
    demand_interval_min: int = 15
    reset_exclusion_min: int | None = None
    lp_channels: tuple[int, ...] = (0, 1)
    lp_interval_min: int = 15
    lp_blocks: int = 2
    lp_block_intervals: int = 96
    lp_int_format: int = 4
    history_entries: int = 32
    event_entries: int = 32
    log_data_length: int = 6
    history_events: frozenset[int] = frozenset(EVENT_CODES) - {0, 7}
    event_log_events: frozenset[int] = frozenset(EVENT_CODES) - {0}
    seasons: int = 1
    tier_switches: tuple[TierSwitch, ...] = _DEFAULT_SWITCHES
    time_zone_offset_min: int = 0
    control_points: tuple[ControlPoint, ...] = (
        ControlPoint(ControlPointType.SERVICE_DISCONNECT, 255, 0.0, interruptible=False, prepayment_disconnect=True),
        ControlPoint(ControlPointType.WATER_HEATER, 10, 4500.0),
    )
    level_control: bool = True
    prepayment: bool = True
    schedule_entries: int = 4
    conditions: int = 2
    credit_entries: int = 4
    tier_prices: tuple[float, ...] = (0.12, 0.30, 0.12, 0.12)
    currency_code: int = 840
    low_credit_threshold: float = 5.0
    interfaces: tuple[str, ...] = ("WAN",)
    native_address_len: int = 6
    registrations: int = 1
    statistics: tuple[int, ...] = (
        StatisticCode.BYTES_SENT,
        StatisticCode.BYTES_RECEIVED,
        StatisticCode.PDUS_SENT,
        StatisticCode.PDUS_RECEIVED,
    )
    master_relay: str = ".123.1"
    notify_host: str = ".123.4"
    service_voltage_v: float = 240.0
    service_frequency_hz: float = 60.0
    class_amps: int = 200
    form: str = "2S"
    security: SecuritySettings = SecuritySettings()
    tables: frozenset[int] | None = None
    writable: frozenset[int] = DEFAULT_WRITABLE
    procedures: frozenset[int] = DEFAULT_PROCEDURES
    pending_tables: frozenset[int] = frozenset({6, 54, 113, 117, 118})
    nbr_pending: int = 4
    max_proc_parm_length: int = 32
    max_resp_data_len: int = 32
    max_request_size: int = 0xFFFF
    max_response_size: int = 0xFFFF
    procedure_durations: tuple[tuple[int, float], ...] = ()
    initial: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    # -- derived ----------------------------------------------------------------------------------------
    def default_tables(self) -> frozenset[int]:
        """The standard tables this configuration gives the meter when ``tables`` is None."""
        out = set(range(0, 9)) | {10, 11, 12, 13, 15, 16, 20, 21, 22, 23, 25, 27, 28}
        out |= {40, 41, 42, 43, 44, 45, 50, 51, 52, 53, 54, 55, 56, 60, 61, 62, 63, 64}
        out |= {70, 71, 72, 73, 74, 75, 76, 110, 111, 112, 113, 114, 115, 116, 117, 118}
        out |= {120, 121, 122, 123, 125, 126, 127}
        if self.nbr_self_reads:
            out.add(26)
        if not self.nbr_pending:
            out.discard(4)
        return frozenset(out)

    @property
    def table_set(self) -> frozenset[int]:
        """ST0 STD_TBLS_USED."""
        return self.tables if self.tables is not None else self.default_tables()

    @property
    def durations(self) -> dict[int, float]:
        return dict(self.procedure_durations)

    @property
    def service_disconnect(self) -> int | None:
        """Index of the SERVICE_DISCONNECT control point (the connect/disconnect switch), or None."""
        for index, point in enumerate(self.control_points):
            if point.type == ControlPointType.SERVICE_DISCONNECT:
                return index
        return None

    # -- validation ---------------------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise `LocalProtocolError` naming the first inconsistency."""
        tables = self.table_set
        _check(tables <= set(STANDARD_TABLES), f"tables without a definition: {sorted(tables - set(STANDARD_TABLES))}")
        _check({0, 1, 7, 8} <= tables, "ST0, ST1, ST7 and ST8 are mandatory")
        _check(self.writable <= tables, f"writable tables not in the table set: {sorted(self.writable - tables)}")
        frozen = self.writable & (set(CONFIG_TABLES) | LIVE_TABLES)
        _check(not frozen, f"configuration and live tables cannot be writable: {sorted(frozen)}")
        _check(self.procedures <= SUPPORTED_PROCEDURES, f"unsupported procedures {sorted(self.procedures)}")
        _check(7 in self.writable or not self.procedures, "procedures need ST7 in the writable set")
        pending_bad = self.pending_tables & (set(CONFIG_TABLES) | LIVE_TABLES | {7})
        _check(not pending_bad, f"tables that cannot be pending: {sorted(pending_bad)}")
        _check(self.pending_tables <= tables, "pending tables must be in the table set")
        _check(self.formats.ni_format1 in _ZERO_DECODING_NI, "NI_FORMAT1 FLOAT_CHAR/reserved is not supported")
        _check(self.formats.ni_format2 in _ZERO_DECODING_NI, "NI_FORMAT2 FLOAT_CHAR/reserved is not supported")
        _check(self.formats.tm_format != TmFormat.NO_CLOCK, "the meter needs a clock (TM_FORMAT 1..4)")
        nbr_sources = len(self.sources)
        for what in ("summations", "demands", "present_demands", "present_values", "lp_channels"):
            bad = [s for s in getattr(self, what) if not 0 <= s < nbr_sources]
            _check(not bad, f"{what} select sources {bad}; there are {nbr_sources}")
        for source, demand in self.coincidents:
            _check(0 <= source < nbr_sources and 0 <= demand < len(self.demands), f"bad coincident {source, demand}")
        _check(self.lp_int_format in (1, 2, 4, 8, 16, 32, 64, 128), "lp_int_format is an ST62 INT_FMT code")
        _check(len(self.lp_channels) >= 1 and self.lp_blocks >= 1 and self.lp_block_intervals >= 1, "empty LP")
        _check(self.nbr_tiers <= 8 and len(self.tier_prices) == self.nbr_tiers, "one price per tier, ≤ 8 tiers")
        _check(all(0 <= s.tier < max(1, self.nbr_tiers) for s in self.tier_switches), "tier switch past NBR_TIERS")
        _check(1 <= self.seasons <= 15, "1..15 seasons")
        _check(self.log_data_length <= 255 and self.history_entries >= 1 and self.event_entries >= 1, "log sizes")
        _check(len(self.control_points) <= 254, "at most 254 control points (255 means all)")
        _check(len(self.interfaces) >= 1 and self.registrations >= 1, "one interface and registration at least")
        for text in (self.identity.ap_title, self.master_relay, self.notify_host):
            _check(len(ApTitle.parse(text).acse_value()) <= 20, f"ApTitle {text} is over 20 octets")
        ident = self.identity
        _check(len(ident.manufacturer) <= 4 and len(ident.model) <= 8, "MANUFACTURER ≤ 4, ED_MODEL ≤ 8")
        _check(len(ident.serial) <= 16 and len(ident.identification or ident.serial) <= 20, "serial ≤ 16")
        if self.formats.id_form == 1:
            _check(ident.serial.isdigit() and (ident.identification or ident.serial).isdigit(), "BCD ids")
        self._validate_security()
        _check(self.max_request_size >= 16 and self.max_response_size >= 16, "max sizes ≥ 16 octets")
        _check(all(d >= 0 for _, d in self.procedure_durations), "procedure durations ≥ 0 s")
        _check(set(self.initial) <= tables, "initial values for tables not in the table set")

    def _validate_security(self) -> None:
        sec = self.security
        _check(1 <= sec.password_len <= 20, "PASSWORD_LEN 1..20 (the Security service carries 20)")
        _check(sec.key_len == 16, "KEY_LEN must be 16 (AES-128)")
        for p in sec.passwords:
            _check(len(p.password.rstrip(b" \0")) > 0 and len(p.password) <= sec.password_len, f"password {p.label}")
            _check(0 <= p.groups <= 0xFF, f"password {p.label}: groups are 8 bits")
        ids = [k.key_id for k in sec.keys]
        _check(len(ids) == len(set(ids)), "duplicate key ids")
        for k in sec.keys:
            _check(0 <= k.key_id <= MAX_KEY_ID and len(k.key) == 16 and any(k.key), f"key {k.key_id}")
        for perm in (sec.table_default, sec.procedure_default, *sec.permissions):
            _check(0 <= perm.number <= 0x7FF, f"permission number {perm.number}")
            _check(0 <= perm.read_groups <= 0xFF and 0 <= perm.write_groups <= 0xFF, "permission groups are 8 bits")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise LocalProtocolError(f"MeterConfig: {message}")
