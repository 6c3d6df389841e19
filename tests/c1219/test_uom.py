"""ST12 unit-of-measure codes and `describe_uom` / `scale`.

Expected values are written from the research notes (docs/c1219-sources.md §4 and the ST12 part of §3,
which cite Aclara firmware ``uomIdCodes_t`` / ``timeBase_t`` / ``segmentation_t``, the Yukon head-end's
``MULTIPLIER_e`` and the Landis+Gyr firmware's 1997 ID_CODE list), not from the module under test.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.config import DeviceConfig
from openami.c1219.formats import Formats
from openami.c1219.layout import bind
from openami.c1219.std.decade1 import UOM_ENTRY_TBL
from openami.c1219.uom import (
    ID_CODES,
    MULTIPLIER_EXPONENTS,
    Segmentation,
    TimeBase,
    Unit,
    commodity_of,
    describe_uom,
    scale,
)
from openami.errors import LocalProtocolError

from .harness import gen_config_values

# ID_CODE → (words of the notes' quantity name, the notes' unit symbol or None where they give none)
NOTES_ID_CODES = {
    0: ("active power", "W"),
    1: ("reactive power", "VAR"),
    2: ("apparent power", "VA"),
    3: ("phasor power", "VA"),
    4: ("Q(60)", None),
    5: ("Q(45)", None),
    8: ("RMS volt", "V"),
    9: ("average volt", "V"),
    10: ("squared", "V²"),
    12: ("RMS", "A"),
    13: ("average current", "A"),
    14: ("squared", "A²"),
    16: ("THD", "%"),
    19: ("THD", "%"),
    20: ("phase angle", None),
    24: ("power factor", None),
    26: ("average", None),
    29: ("time of day", None),
    30: ("date", None),
    33: ("frequency", "Hz"),
    34: ("counter", None),
    42: ("power outage", None),
    50: ("power outages", None),
    51: ("demand resets", None),
    52: ("programmed", None),
    61: ("watchdog", None),
    62: ("diagnostic alarms", None),
    64: ("uncorrected", "m³"),
    65: ("corrected", "m³"),
    67: ("uncorrected", "ft³"),
    70: ("temperature", "°C"),
    77: ("", "therm"),
    78: ("static", "Pa"),
    79: ("differential", "Pa"),
    80: ("static", "psi"),
    86: ("", "bar"),
    87: ("humidity", None),
    88: ("odorant", "ppm"),
    128: ("", "m³"),
    129: ("", "ft³"),
    130: ("gallon", "gal"),
    131: ("imperial gallon", None),
    133: ("lead", "ppm"),
    136: ("pH", None),
    140: ("", "L"),
    145: ("", "atm"),
    190: ("local currency", None),
    191: ("", "in"),
    192: ("", "ft"),
    193: ("", "m"),
    195: ("", "dBm"),
    196: ("percent capacity", "%"),
    197: ("", "s"),
    199: ("frequency", "Hz"),
    200: ("bandwidth", "Hz"),
}
NOTES_TIME_BASES = {
    0: "BULK",
    1: "INSTANTANEOUS",
    2: "PERIOD",
    3: "SUB_BLOCK",
    4: "BLOCK_AVERAGE",
    5: "NET_BULK",
    6: "THERMAL",
    7: "EVENT",
}
NOTES_SEGMENTATION = {0: "all phases", 1: "A-B", 2: "B-C", 3: "C-A", 4: "N-G", 5: "A-N", 6: "B-N", 7: "C-N"}


def entry(id_code: int, time_base: int = 0, multiplier: int = 0, **flags: object) -> dict[str, object]:
    return {"ID_CODE": id_code, "TIME_BASE": time_base, "MULTIPLIER": multiplier, **flags}


# -- the code tables ------------------------------------------------------------------------------------
def test_multiplier_codes() -> None:
    assert dict(MULTIPLIER_EXPONENTS) == {0: 0, 1: 2, 2: 3, 3: 6, 4: 9, 5: -2, 6: -3, 7: -6}


@pytest.mark.parametrize(("code", "expected"), NOTES_ID_CODES.items())
def test_id_codes_match_the_notes(code: int, expected: tuple[str, str | None]) -> None:
    words, symbol = expected
    info = ID_CODES[code]
    assert info.code == code
    assert words.lower() in info.quantity.lower()
    if symbol is not None:
        # per-hour gas / water flows are listed by their volume in the notes (the bulk reading)
        assert symbol.lower() in (info.symbol.lower(), (info.bulk_symbol or "").lower())


def test_reserved_codes_are_not_invented() -> None:
    # the notes list no meaning for 27, 28, 63, 89..127, 146..189, 201..255
    for code in (27, 28, 63, *range(89, 128), *range(146, 190), *range(201, 256)):
        assert code not in ID_CODES


def test_time_bases_and_segmentation() -> None:
    for code, name in NOTES_TIME_BASES.items():
        assert name in TimeBase(code).name
    for code, label in NOTES_SEGMENTATION.items():
        assert Segmentation(code).label == label


def test_commodity_blocks() -> None:
    assert [commodity_of(c) for c in (0, 63, 64, 127, 128, 189, 190, 255)] == [
        "electric",
        "electric",
        "gas",
        "gas",
        "water",
        "water",
        "generic",
        "generic",
    ]


# -- describe_uom ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (entry(0, 0, 2), "kWh"),  # the notes: ID_CODE 0 with MULTIPLIER 2 is kW(h)
        (entry(0, 0, 0), "Wh"),
        (entry(0, 4, 2), "kW"),  # block average demand
        (entry(0, 1, 3), "MW"),
        (entry(1, 5, 2), "kvarh"),  # net bulk
        (entry(2, 3, 2), "kVA"),
        (entry(8, 1, 0), "V"),
        (entry(8, 2, 6), "mV"),
        (entry(12, 0, 0), "Ah"),
        (entry(33, 1, 0), "Hz"),
        (entry(16, 1, 0), "%"),
        (entry(16, 1, 5), "10^-2 %"),
        (entry(64, 0, 0), "m³"),
        (entry(64, 1, 0), "m³/h"),
        (entry(64, 0, 2), "10^3 m³"),
        (entry(24, 1, 0), "power factor (apparent power)"),
        (entry(0, 0, 2, NFS=True), "kWh [NFS]"),
        (entry(250, 0, 0), "ID_CODE 250"),
    ],
)
def test_describe_uom_text(value: dict[str, object], text: str) -> None:
    assert str(describe_uom(value)) == text


def test_describe_uom_fields() -> None:
    unit = describe_uom(
        entry(
            12,
            1,
            6,
            Q1_ACCOUNTABILITY=True,
            Q3_ACCOUNTABILITY=True,
            NET_FLOW_ACCOUNTABILITY=True,
            SEGMENTATION=5,
            HARMONIC=True,
            ID_RESOURCE=3,
            FILLER=1 << 28,
        )
    )
    assert unit == Unit(
        id_code=12,
        quantity=ID_CODES[12].quantity,
        symbol="A",
        multiplier_exponent=-3,
        time_base=TimeBase.INSTANTANEOUS,
        segmentation=Segmentation.A_N,
        quadrants=frozenset({1, 3}),
        net_flow=True,
        harmonic=True,
        id_resource=3,
        nfs=False,
        known=True,
        prefixable=True,
    )
    assert unit.commodity == "electric"
    assert unit.factor == Decimal("0.001")
    assert not describe_uom(entry(27)).known


@pytest.mark.parametrize(
    "bad",
    [
        {"TIME_BASE": 0, "MULTIPLIER": 0},
        entry(0, 8, 0),
        entry(0, 0, 8),
        entry(256),
        entry(-1),
        entry(0, SEGMENTATION=9),
        entry(0, NFS=2),
        {"ID_CODE": "0", "TIME_BASE": 0, "MULTIPLIER": 0},
        [0, 0, 0],
    ],
)
def test_describe_uom_refuses_what_is_not_an_entry(bad: object) -> None:
    with pytest.raises(LocalProtocolError):
        describe_uom(bad)  # type: ignore[arg-type]


# -- scale ----------------------------------------------------------------------------------------------
def test_scale() -> None:
    kwh = describe_uom(entry(0, 0, 2))
    assert scale(1234, kwh) == 1234000 and isinstance(scale(1234, kwh), int)
    assert scale(1.5, kwh) == 1500.0
    assert scale(Decimal("1.5"), kwh) == Decimal(1500)
    milli = describe_uom(entry(8, 1, 6))
    assert scale(1234, milli) == Decimal("1.234")
    assert scale(1234.0, milli) == 1.234
    assert scale(5, describe_uom(entry(8, 1, 7))) == Decimal("0.000005")
    for bad in ("12", None, True):
        with pytest.raises(LocalProtocolError):
            scale(bad, kwh)  # type: ignore[arg-type]


# -- every decodable entry describes ----------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(raw=st.integers(0, 2**32 - 1), value=st.integers(-(2**40), 2**40))
def test_every_st12_entry_describes(raw: int, value: int) -> None:
    config = DeviceConfig(
        {
            "GEN_CONFIG_TBL": gen_config_values(Formats()),
            "ACT_SOURCES_LIM_TBL": {"NBR_UOM_ENTRIES": 1},
        }
    )
    (decoded,) = bind(UOM_ENTRY_TBL, config).decode(raw.to_bytes(4, "little"))["UOM_ENTRY"]
    unit = describe_uom(decoded)
    assert unit.id_code == raw & 0xFF
    assert unit.multiplier_exponent == MULTIPLIER_EXPONENTS[raw >> 11 & 7]
    assert str(unit)
    assert Decimal(scale(value, unit)) == Decimal(value) * Decimal(10) ** unit.multiplier_exponent
