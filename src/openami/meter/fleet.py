"""`Fleet`: many emulated meters in one process, on one port, routed by called ApTitle.

- Identities: meter *k* is the template `MeterConfig` with ApTitle last arc + *k* and serial number + *k*
  (`fleet_configs`). Everything else is shared: one `FleetEngine` steps every meter (vectorised), one
  `EngineDriver` ticks it, the table octets are built once from the template (ST1, ST5, ST6 and ST122
  are then patched per meter, and the other tables' octets stay shared until a meter's table is written),
  the bound table layouts and the device configuration are one object for all.
- `FleetRouter` is the endpoint the transports feed: it reads the called ApTitle (A2) of each APDU and
  hands it to that meter's `C1222Endpoint` (its own association: keys, sessions, replay guard). A title
  no meter has is answered UAT (sealed when the fleet holds the request's key) and counted; an APDU
  without a called title goes to the router's own association (which answers SNS to everything); bytes
  that are no APDU close the connection (a `ProtocolViolation` of the router's core).
- The head-end link is shared too: over TCP one connection carries every meter's registrations and
  notifications (answers come back through the router), over UDP the served socket sends them.
- Start: registrations are spread over ``jitter_s`` seconds (seeded), at most ``concurrency`` in flight.
  Stop: every registered meter deregisters (in parallel, bounded).

Memory: see bench/bench_meter.py (about 25–35 kB per meter in fast mode).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from openami.c1219.config import DeviceConfig
from openami.c1222.acse import APDU_TAG
from openami.c1222.aptitle import ApTitle
from openami.c1222.association import Association, AssociationConfig, Reject, Relay
from openami.c1222.association.wire import title_key
from openami.c1222.ber import decode_length, read_tlv
from openami.c1222.security import IvSource, KeyStore
from openami.errors import LocalProtocolError, ProtocolError
from openami.meter.config import Identity, MeterConfig
from openami.meter.engine import FleetEngine, LoadModel, Mode
from openami.meter.live import EngineDriver, EngineLive, default_load, engine_config
from openami.meter.node import HeadendLink, Meter, NodeSettings, RegistrationScheduler
from openami.meter.tables import TableStore, aptitle_field, build_tables
from openami.transport import DEFAULT_PORT, C1222Endpoint, Channel, Clock, TcpServer, UdpSocket, serve_tcp, serve_udp

__all__ = ["Fleet", "FleetRouter", "FleetSettings", "called_title", "fleet_configs", "patch_identity"]

_CALLED = 0xA2
_USER_INFORMATION = 0xBE


def called_title(data: bytes) -> ApTitle | None:
    """The called ApTitle (A2) of an APDU or of its first bytes; None when absent or unreadable."""
    try:
        if len(data) < 2 or data[0] != APDU_TAG:
            return None
        _, pos = decode_length(data, 1)
        while pos < len(data):
            tag, start, end = read_tlv(data, pos)
            if tag == _CALLED:
                inner, s, e = read_tlv(data, start)
                if inner not in (0x06, 0x80):
                    return None
                return ApTitle.from_content(data[s:e], relative=inner == 0x80)
            if tag == _USER_INFORMATION or tag > _CALLED:
                return None
            pos = end
    except ProtocolError:
        return None
    return None


def fleet_configs(template: MeterConfig, count: int) -> list[MeterConfig]:
    """``count`` configurations: the template with ApTitle last arc + k and (numeric) serial + k."""
    ident = template.identity
    title = ident.title
    if not title.arcs:
        raise LocalProtocolError("the template ApTitle has no arcs")
    width = len(ident.serial)
    base = int(ident.serial) if ident.serial.isdigit() else 0
    out = []
    for k in range(count):
        arcs = (*title.arcs[:-1], title.arcs[-1] + k)
        text = ("." if title.relative else "") + ".".join(str(a) for a in arcs)
        serial = f"{base + k:0{width}d}" if ident.serial.isdigit() else f"{ident.serial[: width - 6]}{k:06d}"
        out.append(replace(template, identity=replace(ident, ap_title=text, serial=serial[-16:])))
    return out


def _ident(config: MeterConfig, text: str) -> Any:
    return (int(text) if text else 0) if config.formats.id_form == 1 else text


def patch_identity(store: TableStore, identity: Identity) -> None:
    """Write ``identity``'s serial number and ApTitle into ST1, ST5, ST6 and ST122 of ``store`` (a store
    built from another meter's tables)."""
    config = store.config
    numbers = store.numbers
    store.update(1, {"MFG_SERIAL_NUMBER": _ident(config, identity.serial)})
    if 5 in numbers:
        store.update(5, {"IDENTIFICATION": _ident(config, identity.identification or identity.serial)})
    if 6 in numbers:
        store.update(6, {"DEVICE_ID": _ident(config, identity.serial)})
    if 122 in numbers:
        node = aptitle_field(identity.ap_title)
        store.update(122, {"INTERFACE_CTRL_ENTRIES": [{"NODE_APTITLE": node}] * len(config.interfaces)})


class FleetRouter(C1222Endpoint):
    """The endpoint of a fleet's transports: routes each APDU to the meter its called title names (see
    the module docstring). ``unknown`` counts APDUs for titles no meter has."""

    def __init__(self, association: Association, *, clock: Clock) -> None:
        super().__init__(association, clock=clock)
        config = association.config
        self._base = config.base
        self._own = title_key(config.ap_title, config.base)
        self._meters: dict[str, C1222Endpoint] = {}
        self.relay: Relay[str] = Relay(config.ap_title, base=config.base, keys=config.keys, iv_source=config.iv_source)
        self.unknown = 0

    def add(self, title: ApTitle, endpoint: C1222Endpoint) -> None:
        """Route APDUs called ``title`` to ``endpoint``."""
        self._meters[title_key(title, self._base)] = endpoint

    def target(self, data: bytes) -> C1222Endpoint | None:
        """The endpoint for an APDU (or its first bytes): a meter's, the router itself, or None (unknown)."""
        called = called_title(data)
        if called is None:
            return self
        key = title_key(called, self._base)
        found = self._meters.get(key)
        if found is not None:
            return found
        return self if key == self._own else None

    def deliver(self, apdu: bytes, channel: Channel) -> asyncio.Task[Any] | None:
        target = self.target(apdu)
        if target is self:
            return super().deliver(apdu, channel)
        if target is None:
            self.unknown += 1
            self.stats.apdus_received += 1
            decision = self.relay.route(apdu, self.clock.now())
            if isinstance(decision, Reject) and decision.answer is not None and channel.send_nowait(decision.answer):
                self.stats.apdus_sent += 1
            return None
        return target.deliver(apdu, channel)

    def refuse_oversized(self, prefix: bytes, size: int, channel: Channel, *, limit: int | None = None) -> bool:
        target = self.target(prefix)
        if target is self:
            return super().refuse_oversized(prefix, size, channel, limit=limit)
        if target is None:
            self.unknown += 1
            self.stats.oversized_dropped += 1
            return False
        return target.refuse_oversized(prefix, size, channel, limit=limit)

    def channel_closed(self, channel: Channel) -> None:
        super().channel_closed(channel)
        for endpoint in self._meters.values():
            if endpoint.connect is None:
                endpoint.channel_closed(channel)


@dataclass(frozen=True, kw_only=True)
class FleetSettings:
    """A fleet: ``count`` meters, registrations spread over ``jitter_s`` s with at most ``concurrency`` in
    flight, engine ``mode`` at ``speed`` stepped every ``tick_s`` s, ``seed`` for loads and jitter,
    ``gateway`` the router's own title (default: the template's title with last arc 0)."""

    count: int
    jitter_s: float = 60.0
    concurrency: int = 64
    mode: Mode = "fast"
    speed: float = 1.0
    tick_s: float = 1.0
    seed: int = 0
    start_time: int | None = None
    gateway: str | None = None


class Fleet:
    """``settings.count`` meters built from ``template`` (see the module docstring). ``progress(done,
    total)`` is called while the meters are built."""

    def __init__(
        self,
        template: MeterConfig,
        settings: FleetSettings,
        *,
        clock: Clock,
        node: NodeSettings | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        if settings.count < 1:
            raise LocalProtocolError(f"a fleet needs at least one meter, got {settings.count}")
        self.settings = settings
        self.clock = clock
        self.configs = fleet_configs(template, settings.count)
        n = settings.count
        rng = np.random.default_rng(settings.seed)
        shared = engine_config(template)
        rngs = [np.random.default_rng([settings.seed, k]) for k in range(n)]
        start = int(clock.now()) if settings.start_time is None else settings.start_time
        self.engine = FleetEngine([shared] * n, rngs, start_time=start, mode=settings.mode)
        octets, device = build_tables(template)
        built: tuple[dict[int, bytes], DeviceConfig] = (octets, device)
        iv_source = IvSource()
        self.scheduler = RegistrationScheduler(clock, settings.concurrency)
        loads: list[LoadModel] = []
        self.meters: list[Meter] = []
        gateway = settings.gateway or _gateway(template.identity.title)
        keys = KeyStore({k.key_id: k.key for k in template.security.keys})
        self.router = FleetRouter(
            Association(AssociationConfig(ap_title=ApTitle.parse(gateway), keys=keys, iv_source=iv_source)),
            clock=clock,
        )
        self.driver = EngineDriver(self.engine, [], clock=clock, speed=settings.speed, tick_s=settings.tick_s)
        for k, config in enumerate(self.configs):
            load, appliances = default_load(config, rng)
            loads.append(load)
            live = EngineLive(self.engine, k, config, appliances=appliances)
            meter = Meter(
                config,
                live,
                clock=clock,
                settings=node if node is not None else NodeSettings(),
                driver=self.driver,
                scheduler=self.scheduler,
                iv_source=iv_source,
                built=built,
            )
            meter.sync_on_request = False
            patch_identity(meter.responder.store, config.identity)
            self.router.add(meter.title, meter.endpoint)
            self.meters.append(meter)
            if progress is not None and (k + 1) % 100 == 0:
                progress(k + 1, n)
        if progress is not None:
            progress(n, n)
        self.driver.loads = loads
        self.driver.listeners.append(self._after_step)
        self._jitter = rng.uniform(0.0, max(0.0, settings.jitter_s), n)
        self._closers: list[Callable[[], Any]] = []
        self._udp: UdpSocket | None = None
        self._link: HeadendLink | None = None

    def _after_step(self) -> None:
        for meter in self.meters:
            meter.after_step()

    def meter(self, title: ApTitle) -> Meter | None:
        """The meter with ApTitle ``title``."""
        key = title_key(title, self.router.association.config.base)
        return next((m for m in self.meters if title_key(m.title, self.router.association.config.base) == key), None)

    # -- transports --------------------------------------------------------------------------------------------------
    async def serve_tcp(self, host: str | None = "0.0.0.0", port: int = DEFAULT_PORT, **options: Any) -> TcpServer:
        """Every meter over TCP on one port (options as `openami.transport.serve_tcp`)."""
        server = await serve_tcp(host, port, self.router, **options)
        self._closers.append(server.close)
        return server

    async def serve_udp(self, host: str = "0.0.0.0", port: int = DEFAULT_PORT, **options: Any) -> UdpSocket:
        """Every meter over UDP on one port."""
        sock = await serve_udp(host, port, self.router, **options)
        self._udp = sock
        self._closers.append(sock.close)
        return sock

    def use_headend(self, host: str, port: int = DEFAULT_PORT, *, udp: bool = False) -> None:
        """Every meter reaches the head-end at ``host``:``port`` through one shared link (UDP: needs
        `serve_udp` first)."""
        if udp and self._udp is None:
            raise LocalProtocolError("serve_udp first: the fleet's UDP socket carries its requests")
        self._link = HeadendLink(host, port, self.router, udp=self._udp if udp else None)
        self._closers.append(self._link.close)
        for meter in self.meters:
            meter.attach(self._link)

    # -- life cycle ----------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the engine and schedule every meter's first registration (jittered)."""
        for meter, delay in zip(self.meters, self._jitter, strict=True):
            meter.start(float(delay))
        self.driver.start()

    async def stop(self) -> None:
        """Deregister every registered meter, stop the engine and close the transports."""
        await self.scheduler.aclose()
        for meter in self.meters:
            meter.halt()
        slots = asyncio.Semaphore(max(1, self.settings.concurrency))

        async def bye(meter: Meter) -> None:
            async with slots:
                await meter.deregister()

        await asyncio.gather(*(bye(m) for m in self.meters if m.registered))
        self.driver.stop()
        for meter in self.meters:
            await meter.stop()
        for closer in reversed(self._closers):
            result = closer()
            if asyncio.iscoroutine(result):
                await result
        with contextlib.suppress(Exception):
            await self.router.aclose()

    def counts(self) -> dict[str, int]:
        """Counters summed over the meters, plus the router's transport counters (prefixed ``router_``)
        and ``unknown_title``."""
        total: dict[str, int] = {}
        for meter in self.meters:
            for name, value in meter.counts().items():
                total[name] = total.get(name, 0) + value
        for name, value in self.router.stats.__dict__.items():
            total[f"router_{name}"] = value
        total["unknown_title"] = self.router.unknown
        return total


def _gateway(title: ApTitle) -> str:
    arcs = (*title.arcs[:-1], 0)
    return ("." if title.relative else "") + ".".join(str(a) for a in arcs)
