"""Building a meter's tables from its `MeterConfig`, each through its bound layout.

ST0 first (formats, which tables and procedures exist, which are writable), then the ACT_* tables in
dependency order (each extends the `DeviceConfig` the next ones bind against), then the rest. Settings
tables get values from the configuration (``MeterConfig.initial`` merged last); live tables
(`LIVE_TABLES`) start from their all-zero template and are refreshed by `openami.meter.responder` from
the metering engine. `openami.meter.tables.TableStore` holds the result.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from openami.c1219.config import DeviceConfig
from openami.c1219.device import CONFIG_TABLES
from openami.c1219.layout import bind
from openami.c1219.ni import ScaledIntCodec, ni_codec
from openami.c1219.std import STANDARD_TABLES
from openami.c1219.std.decade7 import EVENT_CODES
from openami.c1219.types import BcdCodec, Codec, IntCodec
from openami.c1222.aptitle import ApTitle
from openami.c1222.services import encode_uid
from openami.errors import LocalProtocolError, ProtocolError
from openami.meter.config import MeterConfig, Permission

__all__ = ["aptitle_field", "build_tables", "merge", "to_ni"]


_FLOAT32_MAX = 3.4028234663852886e38


def to_ni(codec: Codec, value: float | int | Decimal) -> Any:
    """``value`` in the Python type ``codec`` (an NI_FMAT codec) encodes — int, Decimal or float —
    rounded to its resolution and saturated at its range (a non-finite value becomes 0 in integer
    formats)."""
    if isinstance(codec, IntCodec | BcdCodec) and not math.isfinite(float(value)):
        value = 0
    if isinstance(codec, ScaledIntCodec):
        bound = Decimal(codec.hi).scaleb(-ScaledIntCodec.SCALE)
        return max(-bound, min(bound, Decimal(str(value)).quantize(Decimal("0.0001"))))
    if isinstance(codec, BcdCodec):
        return max(0, min(codec.hi, round(value)))
    if isinstance(codec, IntCodec):
        return max(codec.lo, min(codec.hi, round(value)))
    if codec.size == 4 and math.isfinite(float(value)):
        return max(-_FLOAT32_MAX, min(_FLOAT32_MAX, float(value)))
    return float(value)


def aptitle_field(text: str) -> bytes:
    """A 20-octet ApTitle field (decade 12): the UID element ``06``/``0D`` L arcs, zero-padded."""
    return encode_uid(ApTitle.parse(text)).ljust(20, b"\0")


def _bits(names: str, groups: int) -> dict[str, bool]:
    return {f"{names}{n}": bool(groups >> n & 1) for n in range(8)}


def merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge decoded-shape ``changes`` into ``base`` in place: records and bit fields member by member,
    lists of the same length element by element, anything else replaced; returns ``base``. Keys that
    ``base`` lacks (fields absent under this configuration) are ignored."""
    for key, value in changes.items():
        if key not in base:
            continue
        old = base[key]
        if isinstance(value, Mapping) and isinstance(old, dict):
            merge(old, value)
        elif isinstance(value, list) and isinstance(old, list) and len(old) == len(value):
            base[key] = [
                merge(o, v) if isinstance(v, Mapping) and isinstance(o, dict) else v
                for o, v in zip(old, value, strict=True)
            ]
        else:
            base[key] = value
    return base


class _Builder:
    """Puts tables one by one, keeping the `DeviceConfig` in step with the configuration tables."""

    def __init__(self, config: MeterConfig) -> None:
        self.cfg = config
        self.used = config.table_set
        self.device = DeviceConfig(formats=config.formats)
        self.octets: dict[int, bytes] = {}

    def put(self, number: int, changes: Mapping[str, Any], *, also: int | None = None) -> None:
        for n in (number, also):
            if n is None or (n not in self.used and n not in CONFIG_TABLES):
                continue
            table = STANDARD_TABLES[n]
            try:
                layout = bind(table, self.device)
                value = dict(changes) if n == 0 else merge(layout.decode(bytes(layout.size)), changes)
                merge(value, self.cfg.initial.get(n, {}))
                data = layout.encode(value)
                if n in CONFIG_TABLES:
                    self.device = self.device.with_table(table.name, layout.decode(data))
            except ProtocolError as exc:
                raise LocalProtocolError(f"MeterConfig: ST{n} cannot be built: {exc}") from None
            if n in self.used:
                self.octets[n] = data

    def size(self, number: int) -> int:
        return bind(STANDARD_TABLES[number], self.device).size

    def ni1(self, value: float) -> Any:
        return to_ni(ni_codec(self.cfg.formats.ni_format1, self.cfg.formats), value)


def build_tables(config: MeterConfig) -> tuple[dict[int, bytes], DeviceConfig]:
    """The octets of every table of ``config`` and the device configuration they define."""
    b = _Builder(config)
    st0 = _st0(config)
    b.device = DeviceConfig({"GEN_CONFIG_TBL": st0})
    b.put(0, st0)
    for step in (_identity, _sources, _registers, _security, _time, _load_profile, _logs, _load_control, _network):
        step(b)
    return b.octets, b.device


def _st0(c: MeterConfig) -> dict[str, Any]:
    f = c.formats
    tables, procedures = c.table_set, c.procedures
    return {
        "FORMAT_CONTROL_1": {"DATA_ORDER": int(f.data_order), "CHAR_FORMAT": int(f.char_format), "MODEL_SELECT": 0},
        "FORMAT_CONTROL_2": {
            "TM_FORMAT": int(f.tm_format),
            "DATA_ACCESS_METHOD": 3,
            "ID_FORM": f.id_form,
            "INT_FORMAT": int(f.int_format),
        },
        "FORMAT_CONTROL_3": {"NI_FORMAT1": f.ni_format1, "NI_FORMAT2": f.ni_format2},
        "DEVICE_CLASS": c.identity.device_class,
        "NAMEPLATE_TYPE": 2,
        "DEFAULT_SET_USED": 0,
        "MAX_PROC_PARM_LENGTH": c.max_proc_parm_length,
        "MAX_RESP_DATA_LEN": c.max_resp_data_len,
        "STD_VERSION_NO": c.std_version,
        "STD_REVISION_NO": 0,
        "DIM_STD_TBLS_USED": max(tables) // 8 + 1,
        "DIM_MFG_TBLS_USED": 0,
        "DIM_STD_PROC_USED": max(procedures, default=0) // 8 + 1,
        "DIM_MFG_PROC_USED": 0,
        "DIM_MFG_STATUS_USED": 0,
        "NBR_PENDING": c.nbr_pending if 4 in tables else 0,
        "STD_TBLS_USED": tables,
        "MFG_TBLS_USED": frozenset(),
        "STD_PROC_USED": procedures,
        "MFG_PROC_USED": frozenset(),
        "STD_TBLS_WRITE": c.writable,
        "MFG_TBLS_WRITE": frozenset(),
    }


def _ident(c: MeterConfig, text: str) -> Any:
    return (int(text) if text else 0) if c.formats.id_form == 1 else text


def _identity(b: _Builder) -> None:
    c, i = b.cfg, b.cfg.identity
    versions = ("HW_VERSION_NUMBER", "HW_REVISION_NUMBER", "FW_VERSION_NUMBER", "FW_REVISION_NUMBER")
    numbers = (i.hw_version, i.hw_revision, i.fw_version, i.fw_revision)
    ids = {"MANUFACTURER": i.manufacturer, "ED_MODEL": i.model, "MFG_SERIAL_NUMBER": _ident(c, i.serial)}
    b.put(1, {**ids, **dict(zip(versions, numbers, strict=True))})
    b.put(
        2,
        {
            "E_KH": "1.0",
            "E_KT": "1.0",
            "E_INPUT_SCALAR": 1,
            "E_ED_CONFIG": c.form,
            "E_ELEMENTS": {"E_FREQ": 2 if c.service_frequency_hz == 50 else 4, "E_NO_OF_ELEMENTS": 1},
            "E_CLASS_MAX_AMPS": str(c.class_amps),
            "E_TA": "30",
        },
    )
    b.put(3, {"ED_MODE": {"METERING_FLAG": True}})
    b.put(4, {"STANDARD_PENDING": c.pending_tables & c.table_set})
    b.put(5, {"IDENTIFICATION": _ident(c, i.identification or i.serial)})
    b.put(
        6,
        {
            "OWNER_NAME": i.owner_name,
            "UTILITY_DIV": i.utility_div,
            "SERVICE_POINT_ID": _ident(c, i.service_point_id),
            "ELEC_ADDR": _ident(c, ""),
            "DEVICE_ID": _ident(c, i.serial),
            "UTIL_SER_NO": _ident(c, ""),
            "CUSTOMER_ID": _ident(c, i.customer_id),
            "TARIFF_ID": i.tariff_id,
        },
    )
    b.put(7, {})
    b.put(8, {})


def _sources(b: _Builder) -> None:
    c = b.cfg
    demand_sources = [n for n, s in enumerate(c.sources) if s.time_base in (3, 4)] if 13 in b.used else []
    b.put(
        11,
        {
            "SOURCE_FLAGS": {"BLOCK_DEMAND_FLAG": True, "RESET_EXCLUDE_FLAG": c.reset_exclusion_min is not None},
            "NBR_UOM_ENTRIES": len(c.sources),
            "NBR_DEMAND_CTRL_ENTRIES": len(demand_sources),
            "NBR_CONSTANTS_ENTRIES": len(c.sources) if 15 in b.used else 0,
            "CONSTANTS_SELECTOR": 2,
            "NBR_SOURCES": len(c.sources),
        },
        also=10,
    )
    uoms = []
    for s in c.sources:
        entry: dict[str, Any] = {"ID_CODE": s.id_code, "TIME_BASE": int(s.time_base), "MULTIPLIER": s.multiplier}
        entry.update({f"Q{q}_ACCOUNTABILITY": q in s.quadrants for q in range(1, 5)})
        uoms.append(entry)
    b.put(12, {"UOM_ENTRY": uoms})
    exclusion = {} if c.reset_exclusion_min is None else {"RESET_EXCLUSION": c.reset_exclusion_min}
    b.put(13, {**exclusion, "INTERVAL_VALUE": [{"INT_LENGTH": c.demand_interval_min} for _ in demand_sources]})
    b.put(15, {"SELECTION": [{"MULTIPLIER": b.ni1(1), "OFFSET": b.ni1(0)} for _ in c.sources]})
    links = [
        {
            "UOM_ENTRY_FLAG": True,
            "DEMAND_CTRL_FLAG": n in demand_sources,
            "CONSTANTS_FLAG": 15 in b.used,
            "PULSE_ENGR_FLAG": True,
        }
        for n in range(len(c.sources))
    ]
    b.put(16, {"SOURCE_LINK": links})


def _registers(b: _Builder) -> None:
    c = b.cfg
    b.put(
        21,
        {
            "REG_FUNC1_FLAGS": {
                "DATE_TIME_FIELD_FLAG": True,
                "DEMAND_RESET_CTR_FLAG": True,
                "DEMAND_RESET_LOCK_FLAG": c.reset_exclusion_min is not None,
                "TIME_REMAINING_FLAG": True,
            },
            "REG_FUNC2_FLAGS": {
                "SELF_READ_SEQ_NBR_FLAG": True,
                "SELF_READ_DEMAND_RESET": int(c.self_read_on_demand_reset),
            },
            "NBR_SELF_READS": c.nbr_self_reads if 26 in b.used else 0,
            "NBR_SUMMATIONS": len(c.summations),
            "NBR_DEMANDS": len(c.demands),
            "NBR_COIN_VALUES": len(c.coincidents),
            "NBR_OCCUR": c.nbr_occur,
            "NBR_TIERS": c.nbr_tiers,
            "NBR_PRESENT_DEMANDS": len(c.present_demands),
            "NBR_PRESENT_VALUES": len(c.present_values),
        },
        also=20,
    )
    b.put(
        22,
        {
            "SUMMATION_SELECT": list(c.summations),
            "DEMAND_SELECT": list(c.demands),
            "MIN_OR_MAX_FLAGS": frozenset(range(len(c.demands))),
            "COINCIDENT_SELECT": [s for s, _ in c.coincidents],
            "COIN_DEMAND_ASSOC": [d for _, d in c.coincidents],
        },
    )
    for number in (23, 24, 25, 28):
        b.put(number, {})
    b.put(26, {"LIST_STATUS": {"LIST_TYPE_FLAG": True}})
    b.put(27, {"PRESENT_DEMAND_SELECT": list(c.present_demands), "PRESENT_VALUE_SELECT": list(c.present_values)})


def _entry(p: Permission) -> dict[str, Any]:
    return {
        "TABLE_IDC": {
            "TBL_PROC_NBR": p.number,
            "STD_VS_MFG_FLAG": False,
            "PROC_FLAG": p.procedure,
            "ANY_READ": p.any_read,
            "ANY_WRITE": p.any_write,
        },
        "READ_ACCESS": _bits("GROUP_PERM_", p.read_groups),
        "WRITE_ACCESS": _bits("GROUP_PERM_", p.write_groups),
    }


def _security(b: _Builder) -> None:
    s = b.cfg.security
    keys = {k.key_id: k.key for k in s.keys}
    nbr_keys = max(keys, default=-1) + 1
    limits = {
        "NBR_PASSWORDS": len(s.passwords),
        "PASSWORD_LEN": s.password_len,
        "NBR_KEYS": nbr_keys,
        "KEY_LEN": s.key_len,
        "NBR_PERM_USED": len(s.permissions),
    }
    b.put(41, limits, also=40)
    b.put(
        42,
        {
            "SECURITY_ENTRIES": [
                {
                    "PASSWORD": p.password.ljust(s.password_len, b" "),
                    "ACCESS_PERMISSIONS": _bits("GROUP_PERM_", p.groups),
                }
                for p in s.passwords
            ]
        },
    )
    b.put(43, {"TABLE_DEFAULT": _entry(s.table_default), "PROCEDURE_DEFAULT": _entry(s.procedure_default)})
    b.put(44, {"ACCESS_CONTROL": [_entry(p) for p in s.permissions]})
    b.put(45, {"KEY_ENTRIES": [{"KEY": keys.get(n, bytes(s.key_len))} for n in range(nbr_keys)]})
    b.put(46, {"KEY_ENTRIES": [{"KEY_TYPE": 0, "KEY": keys.get(n, bytes(s.key_len))} for n in range(nbr_keys)]})


def _time(b: _Builder) -> None:
    c = b.cfg

    def limits(size: int) -> dict[str, Any]:
        return {
            "TIME_FUNC_FLAG2": {"CAP_TM_ZN_OFFSET_FLAG": True},
            "CALENDAR_FUNC": {"NBR_SEASONS": c.seasons, "NBR_SPECIAL_SCHED": 0},
            "NBR_TIER_SWITCHES": len(c.tier_switches),
            "CALENDAR_TBL_SIZE": size,
        }

    b.put(51, limits(0), also=50)
    b.put(51, limits(b.size(54)), also=50)
    b.put(52, {})
    two = dt.time(2, 0)
    b.put(
        53, {"DST_TIME_EFF": two, "DST_TIME_AMT": 60, "TIME_ZONE_OFFSET": c.time_zone_offset_min, "STD_TIME_EFF": two}
    )
    switches = [
        {"TIER_SWITCH": {"NEW_TIER": s.tier, "SWITCH_MIN": s.minute, "SWITCH_HOUR": s.hour}, "DAY_SCH_NUM": s.day_type}
        for s in c.tier_switches
    ]
    b.put(54, {"TIER_SWITCHES": switches})
    b.put(55, {})
    b.put(56, {})


_LP_FMAT_FLAGS = {1: "UINT8", 2: "UINT16", 4: "UINT32", 8: "INT8", 16: "INT16", 32: "INT32", 64: "NI_FMAT1"}


def _load_profile(b: _Builder) -> None:
    c = b.cfg
    flag = "INV_" + _LP_FMAT_FLAGS.get(c.lp_int_format, "NI_FMAT2") + "_FLAG"

    def limits(memory: int) -> dict[str, Any]:
        return {
            "LP_MEMORY_LEN": memory,
            "LP_FLAGS": {"BLK_END_READ_FLAG": True, "SIMPLE_INT_STATUS_FLAG": True},
            "LP_FMATS": {flag: True},
            "NBR_BLKS_SET1": c.lp_blocks,
            "NBR_BLK_INTS_SET1": c.lp_block_intervals,
            "NBR_CHNS_SET1": len(c.lp_channels),
            "MAX_INT_TIME_SET1": c.lp_interval_min,
        }

    b.put(61, limits(0), also=60)
    selects = [
        {"CHNL_FLAG": {"END_RDG_FLAG": True}, "LP_SOURCE_SELECT": s, "END_BLK_RDG_SOURCE_SELECT": s}
        for s in c.lp_channels
    ]
    b.put(62, {"LP_SEL_SET1": selects, "INT_FMT_CDE1": c.lp_int_format})
    if 64 in b.used:
        b.put(61, limits(b.size(64)), also=60)
    b.put(63, {"LP_STATUS_SET1": {"LP_SET_STATUS_FLAGS": {"LIST_TYPE": True}}})
    b.put(64, {})


def _logs(b: _Builder) -> None:
    c = b.cfg
    b.put(
        71,
        {
            "LOG_FLAGS": {"EVENT_NUMBER_FLAG": True, "HIST_DATE_TIME_FLAG": True, "HIST_SEQ_NBR_FLAG": True},
            "NBR_STD_EVENTS": (max(EVENT_CODES) + 8) // 8,
            "NBR_MFG_EVENTS": 0,
            "HIST_DATA_LENGTH": c.log_data_length,
            "EVENT_DATA_LENGTH": c.log_data_length,
            "NBR_HISTORY_ENTRIES": c.history_entries,
            "NBR_EVENT_ENTRIES": c.event_entries,
        },
        also=70,
    )
    b.put(72, {"STD_EVENTS_SUPPORTED": frozenset(EVENT_CODES)})
    for number, events in ((73, c.history_events), (75, c.event_log_events)):
        monitored = {
            "STD_EVENTS_MONITORED_FLAGS": events,
            "STD_TBLS_MONITORED_FLAGS": c.writable,
            "STD_PROC_MONITORED_FLAGS": c.procedures,
        }
        b.put(number, monitored)
    b.put(74, {"HIST_FLAGS": {"LIST_TYPE": True}})
    b.put(76, {"EVENT_FLAGS": {"LIST_TYPE": True}})


def _load_control(b: _Builder) -> None:
    c = b.cfg
    b.put(
        111,
        {
            "LOAD_CONTROL_FLAGS": {
                "DIRECT_LOAD_CONTROL_FLAG": 21 in c.procedures,
                "SCHEDULE_CONTROL_FLAG": c.schedule_entries > 0,
                "CONDITION_CONTROL_FLAG": c.conditions > 0,
                "PREPAYMENT_FLAG": c.prepayment,
                "BILLING_CONTROL_FLAG": True,
                "LEVEL_CONTROL_FLAG": c.level_control,
            },
            "NBR_CONTROL_POINTS": len(c.control_points),
            "NBR_SCHEDULE_ENTRIES": c.schedule_entries,
            "NBR_CONDITIONS": c.conditions,
            "NBR_PRICE_TIERS": c.nbr_tiers,
            "NBR_CREDIT_ENTRIES": c.credit_entries,
        },
        also=110,
    )
    b.put(112, {})
    points = [
        {
            "CONTROL_POINT_FLAGS": {
                "CONTROL_ENABLED_FLAG": p.enabled,
                "INTERRUPTIBLE_FLAG": p.interruptible,
                "DEFAULT_ON_FLAG": p.default_on,
                "PREPAYMENT_DISCONNECT_FLAG": p.prepayment_disconnect,
            },
            "CONTROL_POINT_TYPE": int(p.type),
            "PRIORITY": p.priority,
            "LOAD_SOURCE_SELECT": 255,
            "RATED_LOAD": b.ni1(p.rated_load_w),
            "PRICE_LIMIT": b.ni1(0),
        }
        for p in c.control_points
    ]
    b.put(113, {"CONTROL_POINT_CONFIG": points})
    b.put(114, {})
    b.put(115, {})
    b.put(116, {})
    b.put(
        117,
        {
            "PREPAYMENT_CONTROL_FLAGS": {"PREPAYMENT_ENABLE_FLAG": c.prepayment, "AUTO_DISCONNECT_FLAG": True},
            "LOW_CREDIT_THRESHOLD": b.ni1(c.low_credit_threshold),
            "DISCONNECT_THRESHOLD": b.ni1(0),
        },
    )
    prices = [{"PRICE": b.ni1(p)} for p in c.tier_prices]
    b.put(118, {"CURRENCY_CODE": c.currency_code, "BILLING_PERIOD_START_DAY": 1, "TIER_PRICES": prices})


def _network(b: _Builder) -> None:
    c = b.cfg
    b.put(
        121,
        {
            "NETWORK_FLAGS": {
                "STATIC_APTITLE_FLAG": True,
                "STATIC_MASTER_RELAY_FLAG": True,
                "CLIENT_RESPONSE_CTRL_FLAG": True,
            },
            "NBR_INTERFACES": len(c.interfaces),
            "NBR_REGISTRATIONS": c.registrations,
            "NBR_EXCEPTION_HOSTS": 1 if 123 in b.used else 0,
            "NBR_EXCEPTION_EVENTS": 4,
            "NBR_STATISTICS": len(c.interfaces) * len(c.statistics) if 127 in b.used else 0,
            "NATIVE_ADDRESS_LEN": c.native_address_len,
        },
        also=120,
    )
    node, master = aptitle_field(c.identity.ap_title), aptitle_field(c.master_relay)
    ctrl = {"NODE_APTITLE": node, "MASTER_RELAY_APTITLE": master, "NBR_RETRIES": 3, "RESPONSE_TIMEOUT": 30}
    b.put(122, {"INTERFACE_CTRL_ENTRIES": [ctrl for _ in c.interfaces]})
    host = {
        "APTITLE_NOTIFY": aptitle_field(c.notify_host),
        "MAX_NUMBER_OF_RETRIES": 3,
        "RETRY_DELAY": 30,
        "EXCLUSION_PERIOD": 60,
        "EVENT_REPORTED": [1, 2, 20, 47],
    }
    b.put(123, {"EXCEPTION_REPORT": [host]})
    status = {
        "INTERFACE_STATUS_FLAGS": {"INTERFACE_ENABLED_FLAG": True, "LINK_UP_FLAG": True},
        "BROADCAST_ADDRESS": b"\xff" * c.native_address_len,
        "MAX_APDU_SIZE": min(c.max_response_size, 0xFFFF),
    }
    b.put(125, {"INTERFACE_STATUS": [{"INTERFACE_NAME": name, **status} for name in c.interfaces]})
    b.put(126, {})
    stats = [
        {"INTERFACE_ID": i, "STATISTIC_CODE": int(code)} for i in range(len(c.interfaces)) for code in c.statistics
    ]
    b.put(127, {"STATISTICS": stats})
