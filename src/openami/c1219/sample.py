"""A consistent set of tables for a residential single-phase meter, for demos, examples and tests.

`residential_meter(rng, start, days)` builds ST0 (the formats and which tables exist), ST1, ST11/12/16
(four sources: Wh and varh delivered, W block demand, RMS volts), ST21/22/23 (two summations, one demand,
two TOU tiers), ST52 (clock), ST61–64 (15-minute load profile of Wh and varh, one block a day) from a
synthetic household load shape. Every table is built through its bound layout, so the octets are what a
real meter of that configuration would send.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from openami.c1219.config import DeviceConfig
from openami.c1219.device import config_from_tables
from openami.c1219.formats import Formats, TmFormat
from openami.c1219.layout import bind
from openami.c1219.std import STANDARD_TABLES

__all__ = ["SampleDevice", "household_load_w", "residential_meter"]

TABLES_USED = frozenset({0, 1, 11, 12, 16, 21, 22, 23, 52, 61, 62, 63, 64})
INTERVAL_MIN = 15
INTERVALS_PER_DAY = 24 * 60 // INTERVAL_MIN
ON_PEAK_HOURS = range(17, 21)
"""Tier 1 (on-peak) hours; the rest of the day is tier 0."""


@dataclass(frozen=True)
class SampleDevice:
    """Table octets by number, the device configuration, and the decoded values they were built from."""

    tables: dict[int, bytes]
    config: DeviceConfig
    values: dict[int, dict[str, Any]]


def household_load_w(rng: np.random.Generator, days: int) -> np.ndarray:
    """Mean active power per 15-minute interval, shape (days * 96,), float64, W.

    A base load of about 350 W, a morning and a larger evening peak, and multiplicative noise.
    """
    hours = (np.arange(days * INTERVALS_PER_DAY) % INTERVALS_PER_DAY) * INTERVAL_MIN / 60.0
    shape = 350 + 900 * np.exp(-0.5 * ((hours - 7.5) / 1.2) ** 2) + 1800 * np.exp(-0.5 * ((hours - 19) / 1.8) ** 2)
    load: np.ndarray = np.maximum(50.0, shape * rng.lognormal(0.0, 0.2, hours.shape))
    return load


def _template(number: int, config: DeviceConfig) -> dict[str, Any]:
    layout = bind(STANDARD_TABLES[number], config)
    return layout.decode(bytes(layout.size))


def _merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def _uom(id_code: int, time_base: int, multiplier: int = 0, quadrants: tuple[int, ...] = (1, 4)) -> dict[str, Any]:
    entry: dict[str, Any] = {"ID_CODE": id_code, "TIME_BASE": time_base, "MULTIPLIER": multiplier}
    for q in range(1, 5):
        entry[f"Q{q}_ACCOUNTABILITY"] = q in quadrants
    return entry


def residential_meter(
    rng: np.random.Generator,
    start: dt.datetime = dt.datetime(2026, 11, 1),
    days: int = 2,
    serial: str = "OAMI0000000001",
) -> SampleDevice:
    """The tables of a meter that has run ``days`` days from ``start`` (whole days, local time)."""
    formats = Formats(ni_format1=10, ni_format2=8, tm_format=TmFormat.UINT8)
    config = DeviceConfig(formats=formats)
    values: dict[int, dict[str, Any]] = {}
    tables: dict[int, bytes] = {}

    def put(number: int, changes: Mapping[str, Any]) -> None:
        nonlocal config
        value = _merge(_template(number, config), changes)
        tables[number] = bind(STANDARD_TABLES[number], config).encode(value)
        values[number] = value
        config = config_from_tables({n: tables[n] for n in tables})

    st0 = _st0(formats)
    config = DeviceConfig({"GEN_CONFIG_TBL": st0})
    put(0, st0)
    put(
        1,
        {
            "MANUFACTURER": "OAMI",
            "ED_MODEL": "RES-1PH ",
            "HW_VERSION_NUMBER": 1,
            "FW_VERSION_NUMBER": 1,
            "MFG_SERIAL_NUMBER": serial.ljust(16)[:16],
        },
    )
    put(11, {"SOURCE_FLAGS": {"BLOCK_DEMAND_FLAG": True}, "NBR_UOM_ENTRIES": 4, "NBR_SOURCES": 4})
    put(12, {"UOM_ENTRY": [_uom(0, 0), _uom(1, 0, quadrants=(1, 2)), _uom(0, 4), _uom(8, 1, quadrants=())]})
    put(16, {"SOURCE_LINK": [{"UOM_ENTRY_FLAG": True} for _ in range(4)]})
    put(
        21,
        {
            "REG_FUNC1_FLAGS": {"DATE_TIME_FIELD_FLAG": True, "DEMAND_RESET_CTR_FLAG": True},
            "NBR_SUMMATIONS": 2,
            "NBR_DEMANDS": 1,
            "NBR_OCCUR": 1,
            "NBR_TIERS": 2,
        },
    )
    put(22, {"SUMMATION_SELECT": [0, 1], "DEMAND_SELECT": [2], "MIN_OR_MAX_FLAGS": frozenset({0})})

    load_w = household_load_w(rng, days)
    var = load_w * rng.uniform(0.25, 0.45, load_w.shape)
    wh = np.round(load_w * INTERVAL_MIN / 60).astype(np.int64)
    varh = np.round(var * INTERVAL_MIN / 60).astype(np.int64)
    times = [start + dt.timedelta(minutes=INTERVAL_MIN * (i + 1)) for i in range(len(wh))]
    tier = np.array([(t - dt.timedelta(minutes=1)).hour in ON_PEAK_HOURS for t in times])
    peak = int(np.argmax(load_w))

    def block(mask: np.ndarray) -> dict[str, Any]:
        sub = np.where(mask)[0]
        top = sub[np.argmax(load_w[sub])] if sub.size else peak
        return {
            "SUMMATIONS": [int(wh[mask].sum()), int(varh[mask].sum())],
            "DEMANDS": [{"EVENT_TIME": [times[top]], "DEMAND": [round(float(load_w[top]))]}],
            "COINCIDENTS": [],
        }

    everything = np.ones_like(tier)
    put(
        23,
        {"NBR_DEMAND_RESETS": 0, "TOT_DATA_BLOCK": block(everything), "TIER_DATA_BLOCK": [block(~tier), block(tier)]},
    )
    now = start + dt.timedelta(days=days)
    put(52, {"CLOCK_CALENDAR": now, "TIME_DATE_QUAL": {"DAY_OF_WEEK": (now.weekday() + 1) % 7}})

    lp_flags = {"EXTENDED_INT_STATUS_FLAG": True, "BLK_END_READ_FLAG": True}
    put(
        61,
        {
            "LP_MEMORY_LEN": 0,
            "LP_FLAGS": lp_flags,
            "LP_FMATS": {"INV_UINT16_FLAG": True},
            "NBR_BLKS_SET1": days,
            "NBR_BLK_INTS_SET1": INTERVALS_PER_DAY,
            "NBR_CHNS_SET1": 2,
            "MAX_INT_TIME_SET1": INTERVAL_MIN,
        },
    )
    put(
        62,
        {
            "LP_SEL_SET1": [
                {"CHNL_FLAG": {"END_RDG_FLAG": True}, "LP_SOURCE_SELECT": s, "END_BLK_RDG_SOURCE_SELECT": s}
                for s in (0, 1)
            ],
            "INT_FMT_CDE1": 2,
        },
    )
    put(
        63,
        {
            "LP_STATUS_SET1": {
                "NBR_VALID_BLOCKS": days,
                "LAST_BLOCK_ELEMENT": days - 1,
                "LAST_BLOCK_SEQ_NBR": days - 1,
                "NBR_VALID_INT": INTERVALS_PER_DAY,
            }
        },
    )
    blocks = []
    for d in range(days):
        day = slice(d * INTERVALS_PER_DAY, (d + 1) * INTERVALS_PER_DAY)
        blocks.append(
            {
                "BLK_END_READ": None,
                "BLK_END_TIME": times[day.stop - 1],
                "END_READINGS": [
                    {"BLOCK_END_READ": int(wh[: day.stop].sum())},
                    {"BLOCK_END_READ": int(varh[: day.stop].sum())},
                ],
                "LP_INT": [
                    {"EXTENDED_INT_STATUS": [0, 0], "INT_DATA": [int(a), int(b)]}
                    for a, b in zip(wh[day], varh[day], strict=True)
                ],
            }
        )
    template = _template(64, config)
    for b, t in zip(blocks, template["LP_DATA_SET1"], strict=True):
        for key in list(b):
            if key not in t:
                del b[key]
    put(64, {"LP_DATA_SET1": blocks})
    return SampleDevice(tables, config, values)


def _st0(formats: Formats) -> dict[str, Any]:
    return {
        "FORMAT_CONTROL_1": {
            "DATA_ORDER": int(formats.data_order),
            "CHAR_FORMAT": int(formats.char_format),
            "MODEL_SELECT": 0,
        },
        "FORMAT_CONTROL_2": {
            "TM_FORMAT": int(formats.tm_format),
            "DATA_ACCESS_METHOD": 3,
            "ID_FORM": formats.id_form,
            "INT_FORMAT": int(formats.int_format),
        },
        "FORMAT_CONTROL_3": {"NI_FORMAT1": formats.ni_format1, "NI_FORMAT2": formats.ni_format2},
        "DEVICE_CLASS": "OAMI",
        "NAMEPLATE_TYPE": 2,
        "DEFAULT_SET_USED": 0,
        "MAX_PROC_PARM_LENGTH": 32,
        "MAX_RESP_DATA_LEN": 32,
        "STD_VERSION_NO": 2,
        "STD_REVISION_NO": 0,
        "DIM_STD_TBLS_USED": 16,
        "DIM_MFG_TBLS_USED": 0,
        "DIM_STD_PROC_USED": 3,
        "DIM_MFG_PROC_USED": 0,
        "DIM_MFG_STATUS_USED": 0,
        "NBR_PENDING": 0,
        "STD_TBLS_USED": TABLES_USED,
        "MFG_TBLS_USED": frozenset(),
        "STD_PROC_USED": frozenset({3, 6, 7, 9, 10, 12, 13, 14, 15, 16, 17, 21, 22}),
        "MFG_PROC_USED": frozenset(),
        "STD_TBLS_WRITE": frozenset({7, 22, 52}),
        "MFG_TBLS_WRITE": frozenset(),
    }
