"""The sample meter's tables are consistent, and the register view labels them with ST12 units."""

from __future__ import annotations

import numpy as np
import pytest

from openami.c1219.device import config_from_tables
from openami.c1219.layout import bind
from openami.c1219.sample import INTERVALS_PER_DAY, residential_meter
from openami.c1219.std import STANDARD_TABLES
from openami.c1219.uom import TimeBase
from openami.c1219.views import labelled_registers, register_units
from openami.errors import RemoteProtocolError


@pytest.fixture(scope="module")
def device():  # type: ignore[no-untyped-def]
    return residential_meter(np.random.default_rng(7), days=3)


def _decode(device, number):  # type: ignore[no-untyped-def]
    config = config_from_tables(device.tables)
    return bind(STANDARD_TABLES[number], config).decode(device.tables[number])


def test_every_table_decodes_back_to_what_was_encoded(device) -> None:  # type: ignore[no-untyped-def]
    config = config_from_tables(device.tables)
    st0 = _decode(device, 0)
    assert set(device.tables) == set(st0["STD_TBLS_USED"])
    for number, octets in device.tables.items():
        layout = bind(STANDARD_TABLES[number], config)
        assert layout.encode(layout.decode(octets)) == octets


def test_registers_agree_with_the_load_profile(device) -> None:  # type: ignore[no-untyped-def]
    st23, st64 = _decode(device, 23), _decode(device, 64)
    blocks = st64["LP_DATA_SET1"]
    assert len(blocks) == 3
    wh = [i["INT_DATA"][0] for b in blocks for i in b["LP_INT"]]
    varh = [i["INT_DATA"][1] for b in blocks for i in b["LP_INT"]]
    assert len(wh) == 3 * INTERVALS_PER_DAY
    assert st23["TOT_DATA_BLOCK"]["SUMMATIONS"] == [sum(wh), sum(varh)]
    tiers = st23["TIER_DATA_BLOCK"]
    assert sum(t["SUMMATIONS"][0] for t in tiers) == sum(wh)
    assert blocks[-1]["END_READINGS"][0]["BLOCK_END_READ"] == sum(wh)
    assert st23["TOT_DATA_BLOCK"]["DEMANDS"][0]["DEMAND"][0] == max(t["DEMANDS"][0]["DEMAND"][0] for t in tiers)


def test_register_units_follow_st22_st16_st12(device) -> None:  # type: ignore[no-untyped-def]
    units = register_units(_decode(device, 12), _decode(device, 16), _decode(device, 22))
    assert [str(u) for u in units.summations] == ["Wh", "varh"]
    assert [str(u) for u in units.demands] == ["W"]
    assert units.demands[0] is not None and units.demands[0].time_base == TimeBase.BLOCK_AVERAGE_DEMAND
    labelled = labelled_registers(_decode(device, 23), units)
    assert labelled[0].path == "TOT_DATA_BLOCK.SUMMATIONS[0]" and str(labelled[0].unit) == "Wh"
    assert len(labelled) == 3 * 3  # total + 2 tiers, each 2 summations + 1 demand occurrence


def test_unused_and_impossible_selections(device) -> None:  # type: ignore[no-untyped-def]
    st12, st16, st22 = _decode(device, 12), _decode(device, 16), _decode(device, 22)
    unused = register_units(st12, st16, {**st22, "SUMMATION_SELECT": [0xFF, 1]})
    assert unused.summations[0] is None and str(unused.summations[1]) == "varh"
    with pytest.raises(RemoteProtocolError, match="selects source 9"):
        register_units(st12, st16, {**st22, "SUMMATION_SELECT": [9, 1]})
    no_uom = {"SOURCE_LINK": [{**link, "UOM_ENTRY_FLAG": i != 0} for i, link in enumerate(st16["SOURCE_LINK"])]}
    assert register_units(st12, no_uom, st22).summations[0] is None
