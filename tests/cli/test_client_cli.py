"""``openami read`` / ``write`` / ``procedure`` against a meter on loopback TCP and UDP, modes 0/1/2.

The meter (`tests.client.test_reader.MeterServer`) runs on its own event loop in a thread, since the
command runs ``asyncio.run`` itself. Bad arguments and meter errors each give one ``error:`` line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import typer
from typer.testing import CliRunner

from openami.c1219.procedures import SetDateTimeParams, TimeDateQual
from openami.c1222.security import SecurityMode
from openami.cli.client import STATE_ENV, register

from ..client.test_reader import KEY, KEY_ID, LOOPBACK, METER, WRONG_KEY, MeterServer

T = TypeVar("T")
LIMIT = 20.0  # seconds for any one step on the meter's loop

app = typer.Typer()
register(app)
runner = CliRunner()


class ThreadedMeter:
    """A `MeterServer` on its own event loop in a daemon thread."""

    def __init__(self, mode: SecurityMode, udp: bool) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = self.call(lambda: MeterServer(mode))
        self.port = asyncio.run_coroutine_threadsafe(self.server.start(udp), self.loop).result(LIMIT)

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the meter's loop (its state is only touched there) and return its result."""

        async def inside() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(inside(), self.loop).result(LIMIT)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(LIMIT)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(LIMIT)
        self.loop.close()


@pytest.fixture(autouse=True)
def state_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "client-state.json"
    monkeypatch.setenv(STATE_ENV, str(path))
    return path


COMBINATIONS = [(udp, mode) for udp in (False, True) for mode in SecurityMode]


def _label(combination: tuple[bool, SecurityMode]) -> str:
    return f"{'udp' if combination[0] else 'tcp'}-mode{int(combination[1])}"


@pytest.fixture(params=COMBINATIONS, ids=_label)
def meter(request: pytest.FixtureRequest) -> Iterator[tuple[ThreadedMeter, list[str]]]:
    """A running meter and the common options reaching it (transport, mode, key, short timeouts)."""
    udp, mode = request.param
    running = ThreadedMeter(mode, udp)
    options = [f"{LOOPBACK}:{running.port}", "--called-ap-title", str(METER), "--timeout", "3", "--retries", "1"]
    if udp:
        options.append("--udp")
    if mode:
        options += ["--security-mode", str(int(mode)), "--key", f"{KEY_ID}:{KEY.hex()}"]
    try:
        yield running, options
    finally:
        running.close()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_error_line(code: int, err: str) -> str:
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    return lines[0]


# -- reads, writes, procedures ---------------------------------------------------------------------------------------
def test_read_full_offset_and_index(meter: tuple[ThreadedMeter, list[str]], state_file: Path) -> None:
    running, options = meter
    running.call(lambda: running.server.live.consume(420, 100, 1680))
    code, out, err = run("read", *options, "--table", "23", "--json")
    assert code == 0, err
    shape = json.loads(out)
    assert set(shape) >= {"table", "data_hex", "decoded"} and shape["table"] == 23
    assert shape["decoded"]["TOT_DATA_BLOCK"]["SUMMATIONS"] == [420.0, 100.0]
    assert bytes.fromhex(shape["data_hex"]) == running.call(lambda: running.server.responder.store.read(23))

    span = running.call(lambda: running.server.responder.store.layout(23).locate("TOT_DATA_BLOCK.SUMMATIONS[1]"))
    code, out, err = run(
        "read", *options, "-t", "ST23", "--offset", str(span.offset), "--count", str(span.size), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["decoded"] == 100.0 and json.loads(out)["element"] == "TOT_DATA_BLOCK.SUMMATIONS[1]"
    code, out, err = run("read", *options, "-t", "CURRENT_REG_DATA_TBL", "--index", "1.0.0", "--count", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["decoded"] == [420.0, 100.0]

    code, out, err = run("read", *options, "--table", "23")
    assert code == 0, err
    assert "CURRENT_REG_DATA_TBL" in out and "SUMMATIONS" in out and "420.0" in out
    state = json.loads(state_file.read_text())  # each run reserved fresh invocation ids and IVs
    assert len(state) == 1 and all(isinstance(v, int) for v in next(iter(state.values())).values())


def test_write_json_and_hex_then_read_back(meter: tuple[ThreadedMeter, list[str]], tmp_path: Path) -> None:
    running, options = meter
    code, out, err = run("read", *options, "--table", "6", "--json")
    assert code == 0, err
    st6 = json.loads(out)["decoded"]
    st6["UTILITY_DIV"] = "NORTH DIVISION".ljust(20)
    source = tmp_path / "st6.json"
    source.write_text(json.dumps(st6))
    code, out, err = run("write", *options, "--table", "6", "--json", str(source), "--password", "PROGRAMMER")
    assert code == 0, err
    assert "wrote" in out
    code, out, err = run("read", *options, "--table", "6", "--json")
    assert json.loads(out)["decoded"]["UTILITY_DIV"] == "NORTH DIVISION".ljust(20)

    span = running.call(lambda: running.server.responder.store.layout(6).locate("CUSTOMER_ID"))
    hexed = b"CUST-42".hex()
    code, out, err = run(
        "write", *options, "-t", "6", "--hex", hexed, "--offset", str(span.offset), "--password", "MASTER"
    )
    assert code == 0, err
    code, out, err = run("read", *options, "-t", "6", "--offset", str(span.offset), "--count", "7", "--json")
    assert code == 0, err
    assert json.loads(out)["data_hex"] == hexed


def test_procedures_sp9_and_sp10(meter: tuple[ThreadedMeter, list[str]]) -> None:
    running, options = meter
    running.call(lambda: running.server.live.consume(100, 10, 999))
    operator = ["--password", "OPERATOR", "--user-id", "6"]
    code, out, err = run("procedure", *options, "--number", "9", "--params", "01", *operator)
    assert code == 0, err
    assert "SP9 REMOTE_RESET" in out and "COMPLETED" in out and "response data: -" in out
    assert running.call(lambda: running.server.live.resets) == 1

    when = dt.datetime(2027, 1, 2, 3, 4, 5)
    formats = running.server.responder.config.formats
    params = SetDateTimeParams(when, TimeDateQual.for_datetime(when)).encode(formats).hex()
    code, out, err = run("procedure", *options, "-n", "10", "--params", params, *operator, "--json")
    assert code == 0, err
    shape = json.loads(out)
    assert (shape["procedure"], shape["result"], shape["result_code"], shape["data_hex"]) == (10, "COMPLETED", 0, "")
    assert running.call(lambda: running.server.live.now) == when

    code, out, _ = run("procedure", *options, "-n", "9", "--params", "ff", *operator)
    assert code == 1 and "INVALID_PARAMETER" in out


# -- errors from the meter -----------------------------------------------------------------------------------------
def test_meter_errors_are_one_line(meter: tuple[ThreadedMeter, list[str]]) -> None:
    running, options = meter
    line = one_error_line(*run("read", *options, "--table", "24")[::2])
    assert "ONP" in line and "ST24" in line
    line = one_error_line(*run("read", *options, "--table", "23", "--password", "GUESS")[::2])
    assert "ERR" in line and "password" in line
    line = one_error_line(*run("procedure", *options, "--number", "9", "--params", "01")[::2])
    assert "ISC" in line and "ST7" in line
    assert running.call(lambda: running.server.live.resets) == 0


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
def test_a_wrong_key_is_one_error_line(udp: bool) -> None:
    running = ThreadedMeter(SecurityMode.ENCRYPTED, udp)
    try:
        target = [f"{LOOPBACK}:{running.port}", "--called-ap-title", str(METER), "--timeout", "0.3", "--retries", "0"]
        wrong = ["--security-mode", "2", "--key", f"{KEY_ID}:{WRONG_KEY.hex()}", *(["--udp"] if udp else [])]
        code, _, err = run("read", *target, *wrong, "--table", "1")
        line = one_error_line(code, err)
        assert "no answer" in line and "check the key" in line
    finally:
        running.close()


# -- bad arguments (nothing is sent) -----------------------------------------------------------------------------
HERE = f"{LOOPBACK}:9"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["read", "localhost:99999", "-t", "23"], "port"),
        (["read", "localhost:abc", "-t", "23"], "port"),
        (["read", "localhost:\u00b2", "-t", "23"], "port"),
        (["read", ":1153", "-t", "23"], "HOST:PORT"),
        (["read", "[::1:1153", "-t", "23"], "HOST:PORT"),
        (["read", HERE, "-t", "999"], "unknown table"),
        (["read", HERE, "-t", "FOO_TBL"], "unknown table"),
        (["read", HERE, "-t", "23", "--security-mode", "2", "--key", "2:0102"], "--key"),
        (["read", HERE, "-t", "23", "--security-mode", "1", "--key", "nope"], "--key"),
        (["read", HERE, "-t", "23", "--security-mode", "2"], "--key"),
        (["read", HERE, "-t", "23", "--security-mode", "3"], "--security-mode"),
        (["read", HERE, "-t", "23", "--user-id", "3"], "--password"),
        (["read", HERE, "-t", "23", "--password", "P" * 21], "--password"),
        (["read", HERE, "-t", "23", "--offset", "4"], "--count"),
        (["read", HERE, "-t", "23", "--index", "1.x"], "--index"),
        (["read", HERE, "-t", "23", "--index", "1.\u00b2"], "--index"),
        (["read", HERE, "-t", "23", "--index", "1.2.3.4.5.6.7.8.9.10"], "--index"),
        (["read", HERE, "-t", "23", "--index", "1", "--offset", "2"], "exclude"),
        (["read", HERE, "-t", "MT9999"], "--table"),
        (["read", HERE, "-t", "23", "--called-ap-title", "1.x"], "--called-ap-title"),
        (["write", HERE, "-t", "6", "--hex", "zz"], "--hex"),
        (["write", HERE, "-t", "6"], "--hex"),
        (["procedure", HERE, "-n", "9", "--params", "0g"], "--params"),
        (["procedure", HERE, "-n", "4096"], "--number"),
    ],
)
def test_bad_arguments_are_one_error_line(args: list[str], needle: str) -> None:
    code, _, err = run(*args)
    assert code == 2
    assert needle in one_error_line(code, err)


def test_nothing_listening_is_one_error_line() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]
    code, _, err = run("read", f"{LOOPBACK}:{port}", "-t", "1")
    assert code == 1 and "cannot reach" in one_error_line(code, err)


def test_register_adds_the_three_commands() -> None:
    names: list[Any] = [c.name for c in app.registered_commands]
    assert names == ["read", "write", "procedure"]


# -- the state file -------------------------------------------------------------------------------------------------
def test_each_run_reserves_fresh_invocation_ids_and_ivs(state_file: Path) -> None:
    running = ThreadedMeter(SecurityMode.CLEARTEXT, False)
    try:
        target = [f"{LOOPBACK}:{running.port}", "--called-ap-title", str(METER), "--calling-ap-title", ".123.91"]
        seen = []
        for _ in range(3):
            code, _, err = run("read", *target, "-t", "1")
            assert code == 0, err
            (entry,) = json.loads(state_file.read_text()).values()
            seen.append(entry)
        ids = [e["next_invocation_id"] for e in seen]
        steps = [(later - earlier) % 2**32 for earlier, later in itertools.pairwise(ids)]
        assert steps[0] == steps[1] > 0  # one block of invocation ids per run
        assert seen[0]["last_iv"] < seen[1]["last_iv"] < seen[2]["last_iv"]
    finally:
        running.close()


def test_an_unusable_state_file_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv(STATE_ENV, str(blocker / "state.json"))
    running = ThreadedMeter(SecurityMode.CLEARTEXT, False)
    try:
        code, out, err = run("read", f"{LOOPBACK}:{running.port}", "--called-ap-title", str(METER), "-t", "1", "--json")
        assert code == 0 and json.loads(out)["table"] == 1
        assert err.startswith("warning:")
        corrupt = tmp_path / "corrupt.json"
        corrupt.write_text("{not json")
        monkeypatch.setenv(STATE_ENV, str(corrupt))
        code, _, err = run("read", f"{LOOPBACK}:{running.port}", "--called-ap-title", str(METER), "-t", "1")
        assert code == 0, err
        assert isinstance(json.loads(corrupt.read_text()), dict)
    finally:
        running.close()
