"""``openami meter serve`` and ``openami meter fleet``: a one-line error for every bad argument, and real
runs (``--duration``) against a fake head-end running in a thread of its own: registration at start and
deregistration at the end, over TCP and UDP."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from openami.c1222.services import Deregistration, Registration
from openami.cli.meter import meter_app
from openami.transport import SystemClock, serve_tcp, serve_udp
from tests.meter.test_node import FakeRelay, client

app = typer.Typer()  # the group mounted as ``openami meter``
app.add_typer(meter_app, name="meter")
KEY = "2:01020304050607080102030405060708"


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["meter", *args])


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--ap-title", "nope"],
        ["serve", "--ap-title", ".123.9", "--security-mode", "3"],
        ["serve", "--ap-title", ".123.9", "--security-mode", "2"],
        ["serve", "--ap-title", ".123.9", "--key", "2:abcd"],
        ["serve", "--ap-title", ".123.9", "--key", KEY, "--key", KEY],
        ["serve", "--ap-title", ".123.9", "--headend", "localhost"],
        ["serve", "--ap-title", ".123.9", "--headend", "localhost:99999"],
        ["serve", "--ap-title", ".123.9", "--speed", "0"],
        ["serve", "--ap-title", ".123.9", "--engine", "turbo"],
        ["serve", "--ap-title", ".123.9", "--optical", "/dev/ttyS0"],
        ["serve", "--ap-title", ".123.9", "--port", "70000"],
        ["serve", "--ap-title", ".123.9", "--password", "x" * 21],
        ["serve", "--ap-title", ".123.9", "--registration-period", "0"],
        ["serve", "--ap-title", ".123.9", "--duration", "-1"],
        ["serve", "--ap-title", ".123.9", "--headend-title", "bad title"],
        ["serve", "--ap-title", ".123.9", "--serial", "X" * 17],
        ["fleet", "--count", "0", "--headend", "127.0.0.1:1153"],
        ["fleet", "--count", "2", "--headend", "nowhere"],
        ["fleet", "--count", "2", "--headend", "127.0.0.1:1153", "--jitter", "-1"],
        ["fleet", "--count", "2", "--headend", "127.0.0.1:1153", "--ap-title", "1.2.x"],
    ],
)
def test_bad_arguments_give_one_line_errors(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output


def test_a_busy_port_is_a_one_line_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = invoke("serve", "--ap-title", ".123.9", "--host", "127.0.0.1", "--port", str(port), "--duration", "1")
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot serve on 127.0.0.1:")


@contextmanager
def headend(udp: bool) -> Iterator[tuple[FakeRelay, int]]:
    """A fake master relay (.123.1) on loopback, in its own thread and event loop."""
    relay = FakeRelay(period=3600)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []
    closers: list[Any] = []

    async def serve() -> None:
        endpoint = client(SystemClock(), title=".123.1")
        endpoint.on_request = relay
        if udp:
            sock = await serve_udp("127.0.0.1", 0, endpoint)
            port.append(sock.port)
            closers.append(sock.close)
        else:
            server = await serve_tcp("127.0.0.1", 0, endpoint, idle_timeout=None)
            port.append(server.port)
            closers.append(server.close)
        closers.append(endpoint.aclose)
        ready.set()

    async def shutdown() -> None:
        for closer in closers:
            result = closer()
            if asyncio.iscoroutine(result):
                await result
        await asyncio.sleep(0.05)  # let the closed connections' tasks finish

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve())
        loop.run_forever()
        loop.run_until_complete(shutdown())
        loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield relay, port[0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@pytest.mark.parametrize("udp", [False, True])
def test_serve_registers_and_deregisters(udp: bool) -> None:
    with headend(udp) as (relay, port):
        args = ["serve", "--ap-title", ".123.77", "--port", "0", "--host", "127.0.0.1", "--engine", "fast"]
        args += ["--headend", f"127.0.0.1:{port}", "--headend-title", ".123.1", "--duration", "1.0"]
        args += ["--security-mode", "1", "--key", KEY, "--password", "SECRET", "--optical", "pty"]
        result = invoke(*args, *(["--udp"] if udp else []))
        assert result.exit_code == 0, result.output
        assert f"serving C12.22 on {'udp' if udp else 'tcp'} 127.0.0.1:" in result.output
        assert "optical port (C12.18) on /dev/" in result.output
        assert "registrations ok 1" in result.output
        kinds = [type(e.requests[0]) for e in relay.seen]
        assert kinds[0] is Registration and kinds[-1] is Deregistration
        assert relay.seen[0].envelope.security_mode == 1


def test_fleet_registers_every_meter() -> None:
    with headend(False) as (relay, port):
        args = ["fleet", "--count", "3", "--headend", f"127.0.0.1:{port}", "--port", "0", "--host", "127.0.0.1"]
        result = invoke(*args, "--headend-title", ".123.1", "--jitter", "0.2", "--duration", "1.0")
        assert result.exit_code == 0, result.output
        assert "fleet of 3 meters .123.10000 … .123.10002" in result.output
        assert len(relay.of(Registration)) == 3 and len(relay.of(Deregistration)) == 3


def test_sigterm_stops_cleanly_and_deregisters() -> None:
    with headend(False) as (relay, port):
        command = [sys.executable, "-c", "from openami.cli.meter import meter_app; meter_app()", "serve"]
        command += ["--ap-title", ".123.78", "--port", "0", "--host", "127.0.0.1", "--engine", "fast"]
        command += ["--headend", f"127.0.0.1:{port}", "--headend-title", ".123.1"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(3)]
            assert "serving C12.22 on tcp 127.0.0.1:" in lines[0], lines
            deadline = time.monotonic() + 10
            while not relay.of(Registration) and time.monotonic() < deadline:
                time.sleep(0.02)
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=15)
        finally:
            process.kill()
        assert process.returncode == 0, err
        assert "stopped:" in out and "registrations ok 1" in out
        assert [type(e.requests[0]) for e in relay.seen] == [Registration, Deregistration]
