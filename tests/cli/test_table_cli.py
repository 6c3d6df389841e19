"""``openami table``: list, decode, encode, and the one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from openami.c1219.sample import residential_meter
from openami.cli import app

REAL_ST0 = (
    "120a9a455052490200131801000d0d03050d06ffadf0df033ffcf0c11fffff033effafa20185ffff1f308ffff7f85f10feff1e16"
    "dbe0a8e00803346860800afcf30024a500a001811967100082f5e0"
)
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_list_names_every_decade() -> None:
    code, out, _ = run("table", "list")
    assert code == 0
    for label in ("ST0", "ST23", "ST64", "ST76", "ST113", "ST126"):
        assert label in out


def test_decode_real_st0_as_json() -> None:
    code, out, _ = run("table", "decode", "--table", "0", "--hex", REAL_ST0, "--json")
    assert code == 0
    value = json.loads(out)
    assert value["DEVICE_CLASS"] == "EPRI"
    assert value["FORMAT_CONTROL_3"] == {"NI_FORMAT1": 10, "NI_FORMAT2": 9}
    assert value["FORMAT_CONTROL_2"]["TM_FORMAT"] == 2
    assert value["STD_PROC_USED"] == [*range(3, 13), 14, 20]


def test_encode_is_the_inverse_of_decode(tmp_path: Path) -> None:
    _, out, _ = run("table", "decode", "--table", "0", "--hex", REAL_ST0, "--json")
    source = tmp_path / "st0.json"
    source.write_text(out)
    code, hexed, _ = run("table", "encode", "--table", "0", "--json", str(source))
    assert code == 0 and hexed.strip() == REAL_ST0


@pytest.fixture(scope="module")
def device_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, bytes]]:
    device = residential_meter(np.random.default_rng(3), days=1)
    path = tmp_path_factory.mktemp("dev") / "device.json"
    path.write_text(json.dumps({f"ST{n}": b.hex() for n, b in device.tables.items()}))
    return path, device.tables


def test_decode_and_encode_with_a_device_config(device_files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, tables = device_files
    code, out, _ = run("table", "decode", "--table", "64", "--hex", tables[64].hex(), "--config", str(path), "--json")
    assert code == 0
    lp = json.loads(out)
    assert len(lp["LP_DATA_SET1"][0]["LP_INT"]) == 96
    (tmp_path / "st64.json").write_text(out)
    code, hexed, _ = run(
        "table", "encode", "--table", "64", "--json", str(tmp_path / "st64.json"), "--config", str(path)
    )
    assert code == 0 and hexed.strip() == tables[64].hex()


def test_human_output_shows_register_units(device_files) -> None:  # type: ignore[no-untyped-def]
    path, tables = device_files
    code, out, _ = run("table", "decode", "--table", "23", "--hex", tables[23].hex(), "--config", str(path))
    assert code == 0
    assert "varh" in out and "Wh" in out and "TIER_DATA_BLOCK" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--table", "0", "--hex", "zz"], "expected hexadecimal"),
        (["--table", "0", "--hex", "12"], "needs at least 19 octets"),
        (["--table", "0", "--hex", REAL_ST0 + "00"], "79 octets"),
        (["--table", "999", "--hex", "00"], "unknown standard table"),
        (["--table", "23", "--hex", "00"], "ACT_REGS_TBL"),
        (["--table", "1", "--hex", "00", "--st0", "nothex"], "--st0"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(args: list[str], expected: str) -> None:
    code, out, err = run("table", "decode", *args)
    assert code == 2
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""


def test_bad_config_and_json_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = run("table", "decode", "--table", "1", "--hex", "00", "--config", str(bad))
    assert code == 2 and "is not JSON" in err
    code, _, err = run("table", "encode", "--table", "0", "--json", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in err
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"NOT_A_FIELD": 1}))
    code, _, err = run("table", "encode", "--table", "1", "--json", str(wrong), "--st0", REAL_ST0)
    assert code == 2 and "NOT_A_FIELD" in err
