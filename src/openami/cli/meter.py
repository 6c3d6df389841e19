"""``openami meter``: run an emulated smart meter (``serve``) or a fleet of them on one port (``fleet``).

Both answer C12.22 on TCP (default) or UDP, register with the head-end given by ``--headend`` (and
re-register every period), push load-profile and alarm notifications to it, and deregister when stopped
by Ctrl-C or SIGTERM (or after ``--duration`` seconds). ``--security-mode`` is the mode of the messages
the meter originates and the least mode it accepts for reads, writes and procedures; modes 1 and 2 need a
``--key`` (the first one given is used). ``--password`` replaces the default passwords (READER, OPERATOR,
PROGRAMMER, MASTER) by one password with every access group.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import replace
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from openami.c1222.aptitle import ApTitle
from openami.c1222.security import SecurityMode
from openami.c1222.services import ConnectionType
from openami.cli.c1222 import parse_key
from openami.cli.common import console, fail
from openami.errors import LocalProtocolError
from openami.meter.config import Identity, Key, MeterConfig, Password, SecuritySettings
from openami.meter.engine import Mode
from openami.meter.fleet import Fleet, FleetSettings
from openami.meter.node import Meter, NodeSettings, native_address
from openami.transport import SystemClock

__all__ = ["meter_app"]

meter_app = typer.Typer(help="Emulated smart meters: one (serve) or many on one port (fleet).", no_args_is_help=True)

_KEY_HELP = "ID:HEX, a key id 0..255 and a 16-byte AES key (repeatable)"
_ENGINES = ("sampled", "fast")


@meter_app.callback()
def _group() -> None:
    """Emulated smart meters: one (serve) or many on one port (fleet)."""


# -- argument checks ---------------------------------------------------------------------------------------------
def _address(text: str, what: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 0xFFFF:
        fail(f"{what} {text!r}: expected HOST:PORT, e.g. 127.0.0.1:1153")
    return host.strip("[]"), int(port)


def _title(text: str, what: str) -> ApTitle:
    try:
        return ApTitle.parse(text)
    except LocalProtocolError:
        fail(f"{what} {text!r}: expected an ApTitle like .123.8437 or 2.16.124.113620.1.22.0.123.8437")


def _config(
    ap_title: str,
    *,
    serial: str | None,
    security_mode: int,
    keys: list[str],
    password: str | None,
    headend_title: str | None,
) -> tuple[MeterConfig, NodeSettings]:
    _title(ap_title, "--ap-title")
    if security_mode not in (0, 1, 2):
        fail(f"--security-mode {security_mode}: expected 0 (cleartext), 1 (authenticated) or 2 (encrypted)")
    parsed = [parse_key(k) for k in keys]
    if len({k for k, _ in parsed}) != len(parsed):
        fail("--key: the same key id is given twice")
    if security_mode and not parsed:
        fail(f"--security-mode {security_mode} needs a --key ID:HEX")
    mode = SecurityMode(security_mode)
    security = SecuritySettings(keys=tuple(Key(k, v) for k, v in parsed), min_read_mode=mode, min_write_mode=mode)
    if password is not None:
        raw = password.encode("latin-1", "replace")
        if not 0 < len(raw) <= 20:
            fail("--password: 1 to 20 characters")
        security = replace(security, passwords=(Password(raw, 0xFF, "cli"),))
    identity = Identity(ap_title=ap_title) if not serial else Identity(ap_title=ap_title, serial=serial)
    relay: dict[str, Any] = {}
    if headend_title is not None:
        _title(headend_title, "--headend-title")
        relay = {"master_relay": headend_title, "notify_host": headend_title}
    try:
        config = MeterConfig(identity=identity, security=security, **relay)
    except LocalProtocolError as exc:
        fail(str(exc).removeprefix("MeterConfig: "))
    settings = NodeSettings(security_mode=mode, key_id=parsed[0][0] if parsed else None)
    return config, settings


def _node(settings: NodeSettings, *, udp: bool, host: str, port: int, period: int) -> NodeSettings:
    if not 0 < period <= 0xFFFFFF:
        fail(f"--registration-period {period}: expected 1..16777215 seconds")
    advertise = host if host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    try:
        address = native_address(advertise, port)
    except ValueError:
        address = b""
    kind = (
        ConnectionType.CONNECTIONLESS_MODE_SUPPORTED | ConnectionType.ACCEPT_CONNECTIONLESS
        if udp
        else ConnectionType.CONNECTION_MODE_SUPPORTED | ConnectionType.ACCEPT_CONNECTIONS
    )
    return replace(settings, native_address=address, connection_type=kind, registration_period_s=period)


def _common(speed: float, engine: str, duration: float | None) -> None:
    if not speed > 0 or speed != speed or speed == float("inf"):
        fail(f"--speed {speed}: expected a factor > 0 (1 = real time, 60 = a minute per second)")
    if engine not in _ENGINES:
        fail(f"--engine {engine!r}: expected sampled or fast")
    if duration is not None and not duration > 0:
        fail(f"--duration {duration}: expected seconds > 0")


async def _wait(duration: float | None) -> None:
    """Until Ctrl-C, SIGTERM or ``duration`` seconds."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        if duration is None:
            await stop.wait()
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _summary(counts: dict[str, int]) -> str:
    keys = ("requests_received", "responses_sent", "registrations_ok", "notifications_sent", "bad_mac", "replays")
    return ", ".join(f"{k.replace('_', ' ')} {counts.get(k, 0)}" for k in keys)


# -- serve -------------------------------------------------------------------------------------------------------
@meter_app.command("serve")
def serve(
    ap_title: Annotated[str, typer.Option("--ap-title", help="the meter's ApTitle, e.g. .123.8437")],
    port: Annotated[int, typer.Option("--port", help="C12.22 port (0: any free port)")] = 1153,
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "0.0.0.0",
    udp: Annotated[bool, typer.Option("--udp", help="C12.22 over UDP instead of TCP")] = False,
    security_mode: Annotated[int, typer.Option("--security-mode", help="0, 1 or 2")] = 0,
    key: Annotated[list[str] | None, typer.Option("--key", help=_KEY_HELP)] = None,
    password: Annotated[str | None, typer.Option("--password", help="the one ST42 password")] = None,
    headend: Annotated[str | None, typer.Option("--headend", help="HOST:PORT of the head-end")] = None,
    headend_title: Annotated[str | None, typer.Option("--headend-title", help="its ApTitle")] = None,
    optical: Annotated[str | None, typer.Option("--optical", help="'pty' or a TCP port for C12.18")] = None,
    speed: Annotated[float, typer.Option("--speed", help="simulated seconds per second")] = 1.0,
    engine: Annotated[str, typer.Option("--engine", help="sampled (ADC samples) or fast")] = "sampled",
    serial: Annotated[str | None, typer.Option("--serial", help="manufacturer serial number")] = None,
    registration_period: Annotated[int, typer.Option("--registration-period", help="seconds")] = 3600,
    seed: Annotated[int, typer.Option("--seed", help="seed of the household load")] = 0,
    duration: Annotated[float | None, typer.Option("--duration", help="stop after this many seconds")] = None,
) -> None:
    """Run one meter: C12.22 on TCP/UDP, optionally C12.18 on a pty or TCP port, registered with a head-end."""
    _common(speed, engine, duration)
    if not 0 <= port <= 0xFFFF:
        fail(f"--port {port}: expected 0..65535")
    if optical is not None and optical != "pty" and not (optical.isdigit() and 0 <= int(optical) <= 0xFFFF):
        fail(f"--optical {optical!r}: expected 'pty' or a TCP port")
    target = _address(headend, "--headend") if headend is not None else None
    config, settings = _config(
        ap_title,
        serial=serial,
        security_mode=security_mode,
        keys=key or [],
        password=password,
        headend_title=headend_title,
    )
    settings = _node(settings, udp=udp, host=host, port=port, period=registration_period)
    try:
        asyncio.run(_serve(config, settings, host, port, udp, target, optical, speed, engine, seed, duration))
    except OSError as exc:
        fail(f"cannot serve on {host}:{port}: {exc.strerror or exc}")


async def _serve(
    config: MeterConfig,
    settings: NodeSettings,
    host: str,
    port: int,
    udp: bool,
    headend: tuple[str, int] | None,
    optical: str | None,
    speed: float,
    engine: str,
    seed: int,
    duration: float | None,
) -> None:
    clock = SystemClock()
    mode: Mode = "fast" if engine == "fast" else "sampled"
    meter = Meter.create(config, clock=clock, settings=settings, speed=speed, mode=mode, seed=seed)
    bound = (await meter.serve_udp(host, port)).port if udp else (await meter.serve_tcp(host, port)).port
    if headend is not None:
        await meter.use_headend(*headend, udp=udp)
    lines = [f"meter {meter.title} serving C12.22 on {'udp' if udp else 'tcp'} {host}:{bound}"]
    if optical == "pty":
        lines.append(f"optical port (C12.18) on {(await meter.serve_optical_pty()).path}")
    elif optical is not None:
        lines.append(
            f"optical port (C12.18) on tcp 127.0.0.1:{(await meter.serve_optical_tcp(port=int(optical))).port}"
        )
    if headend is not None:
        lines.append(f"registering with {meter.master_relay()} at {headend[0]}:{headend[1]}")
    meter.start()
    for line in lines:
        console.print(line, highlight=False)
    console.print(f"engine {engine} at {speed:g}× real time; Ctrl-C to stop", highlight=False)
    try:
        await _wait(duration)
    finally:
        await meter.stop()
    console.print(f"stopped: {_summary(meter.counts())}", highlight=False, soft_wrap=True)


# -- fleet -------------------------------------------------------------------------------------------------------
@meter_app.command("fleet")
def fleet(
    count: Annotated[int, typer.Option("--count", help="number of meters")],
    headend: Annotated[str, typer.Option("--headend", help="HOST:PORT of the head-end")],
    port: Annotated[int, typer.Option("--port", help="C12.22 port of every meter (0: any)")] = 1153,
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "0.0.0.0",
    udp: Annotated[bool, typer.Option("--udp", help="C12.22 over UDP instead of TCP")] = False,
    ap_title: Annotated[str, typer.Option("--ap-title", help="the first meter's ApTitle")] = ".123.10000",
    security_mode: Annotated[int, typer.Option("--security-mode", help="0, 1 or 2")] = 0,
    key: Annotated[list[str] | None, typer.Option("--key", help=_KEY_HELP)] = None,
    password: Annotated[str | None, typer.Option("--password", help="the one ST42 password")] = None,
    headend_title: Annotated[str | None, typer.Option("--headend-title", help="its ApTitle")] = None,
    speed: Annotated[float, typer.Option("--speed", help="simulated seconds per second")] = 1.0,
    engine: Annotated[str, typer.Option("--engine", help="fast or sampled")] = "fast",
    jitter: Annotated[float, typer.Option("--jitter", help="spread of the first registrations (s)")] = 60.0,
    registration_period: Annotated[int, typer.Option("--registration-period", help="seconds")] = 3600,
    seed: Annotated[int, typer.Option("--seed", help="seed of loads and jitter")] = 0,
    duration: Annotated[float | None, typer.Option("--duration", help="stop after this many seconds")] = None,
) -> None:
    """Run COUNT meters in one process on one port, routed by called ApTitle."""
    _common(speed, engine, duration)
    if not 1 <= count <= 1_000_000:
        fail(f"--count {count}: expected 1..1000000")
    if not 0 <= port <= 0xFFFF:
        fail(f"--port {port}: expected 0..65535")
    if not jitter >= 0:
        fail(f"--jitter {jitter}: expected seconds >= 0")
    target = _address(headend, "--headend")
    config, settings = _config(
        ap_title,
        serial=None,
        security_mode=security_mode,
        keys=key or [],
        password=password,
        headend_title=headend_title,
    )
    settings = _node(settings, udp=udp, host=host, port=port, period=registration_period)
    mode: Mode = "fast" if engine == "fast" else "sampled"
    options = FleetSettings(count=count, jitter_s=jitter, mode=mode, speed=speed, seed=seed)
    try:
        asyncio.run(_fleet(config, options, settings, host, port, udp, target, duration))
    except OSError as exc:
        fail(f"cannot serve on {host}:{port}: {exc.strerror or exc}")


async def _fleet(
    config: MeterConfig,
    options: FleetSettings,
    settings: NodeSettings,
    host: str,
    port: int,
    udp: bool,
    headend: tuple[str, int],
    duration: float | None,
) -> None:
    clock = SystemClock()
    columns = (TextColumn("building meters"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("build", total=options.count)
        group = Fleet(
            config,
            options,
            clock=clock,
            node=settings,
            progress=lambda done, total: progress.update(task, completed=done),
        )
    bound = (await group.serve_udp(host, port)).port if udp else (await group.serve_tcp(host, port)).port
    group.use_headend(*headend, udp=udp)
    group.start()
    first, last = group.meters[0].title, group.meters[-1].title
    console.print(
        f"fleet of {options.count} meters {first} … {last} serving C12.22 on {'udp' if udp else 'tcp'} {host}:{bound}",
        highlight=False,
    )
    console.print(
        f"registering with {headend[0]}:{headend[1]} over {options.jitter_s:g} s; Ctrl-C to stop", highlight=False
    )
    try:
        await _wait(duration)
    finally:
        await group.stop()
    console.print(f"stopped: {_summary(group.counts())}", highlight=False, soft_wrap=True)
