"""`Meter`: the emulated smart meter as a running C12.22 node (and its C12.18 optical port).

A meter owns its table store and responder (`openami.meter.responder`), an `EngineLive` view of its
metering engine, an association core and a `C1222Endpoint`:

- Requests are answered by the responder after the engine is brought up to date (`EngineDriver.sync`);
  Security passwords are checked against ST42 (failures counted); keys come from ST45/ST46.
- Registration: at `start` (after ``delay``) and then every registration period the master relay grants,
  the meter sends C12.22 Registration (node type END_DEVICE, device class = ST0 DEVICE_CLASS, its ApTitle,
  an electronic serial number made from ST1's serial, its native address, the period it asks for) to the
  master relay named in ST122 (interface 0); a refused or unanswered registration is retried after
  ``registration_retry_s``. The answer fills ST126 (node and relay titles, relay address, delay, period,
  count-down); a title other than ours goes to ST122 NODE_APTITLE. `stop` deregisters.
- Notifications (calling AE qualifier NOTIFICATION, the node's security mode and key, ED class included,
  answered 'always' so the core retries) go to the ST123 notification host: when load-profile intervals
  close, ``Full Write ST63`` + ``Partial Write ST64`` of the newest block (offset and length of that
  block under the meter's own layout); when an event listed in ST123 EVENT_REPORTED is logged,
  ``Full Write ST3`` + ``Full Write ST76`` (ST74 without ST76).
- ST127 statistics: octets and APDUs sent / received, APDUs dropped, framing errors, open sessions,
  registrations sent / failed / denied and deregistrations.

Transports: `serve_tcp` / `serve_udp` (C12.22, one meter per port; `openami.meter.fleet` routes many
meters on one port), `serve_optical_pty` / `serve_optical_tcp` (C12.18), `use_headend` (where the head-end
is: one TCP connection reused, or datagrams from the served UDP socket). Every clock read goes through the
injected `Clock`; the engine may run faster (``speed``) while the protocol clock stays real, so IV-based
replay windows hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from openami.c1218.server import PsemServer, ServerSession
from openami.c1219.config import DeviceConfig
from openami.c1219.std.decade12 import StatisticCode
from openami.c1222.acse import AeQualifier
from openami.c1222.aptitle import ApTitle
from openami.c1222.association import AssociationConfig, RequestReceived
from openami.c1222.association.wire import same_title
from openami.c1222.security import IvSource, ReplayGuard
from openami.c1222.services import (
    Deregistration,
    FullWrite,
    NodeType,
    PartialWriteOffset,
    RegistrationResponse,
    Request,
    Response,
    decode_uid,
)
from openami.c1222.services import Registration as RegistrationRequest
from openami.errors import LocalProtocolError, ProtocolError
from openami.meter.config import MeterConfig
from openami.meter.engine import FleetEngine, Mode
from openami.meter.live import CachedResponder, EngineDriver, EngineLive, default_load, engine_config
from openami.meter.node_parts import (
    HeadendLink,
    NodeCounters,
    NodeSettings,
    RegistrationScheduler,
    Tap,
    _NodeAssociation,
    native_address,
)
from openami.meter.procedures import NetworkState, RegistrationState
from openami.meter.responder import Responder
from openami.meter.tables import aptitle_field
from openami.transport import (
    DEFAULT_PORT,
    C1222Endpoint,
    Clock,
    OpticalPty,
    OpticalTcpServer,
    SystemClock,
    TcpServer,
    TransportError,
    UdpSocket,
    open_udp,
    serve_optical_pty,
    serve_optical_tcp,
    serve_tcp,
    serve_udp,
)

__all__ = ["HeadendLink", "Meter", "NodeCounters", "NodeSettings", "RegistrationScheduler", "Tap", "native_address"]

"""Sees every APDU the core receives ("in") and builds ("out"): for captures."""


class Meter:
    """One emulated meter as a C12.22 node (see the module docstring). Make a stand-alone one with
    `Meter.create`; a fleet passes a shared ``driver`` (it steps the engine and calls `after_step`),
    a shared ``scheduler`` and prebuilt tables (``built``)."""

    def __init__(
        self,
        config: MeterConfig,
        live: EngineLive,
        *,
        clock: Clock,
        settings: NodeSettings = NodeSettings(),
        driver: EngineDriver | None = None,
        own_driver: bool = False,
        scheduler: RegistrationScheduler | None = None,
        iv_source: IvSource | None = None,
        built: tuple[Mapping[int, bytes], DeviceConfig] | None = None,
    ) -> None:
        self.config = config
        self.live = live
        self.clock = clock
        self.settings = settings
        self.driver = driver
        self.title = config.identity.title
        self.counters = NodeCounters()
        self.responder: Responder = CachedResponder(config, live, built=built)
        live.network_source = self._network
        self.device_class = config.identity.device_class.encode("latin-1")[:4].ljust(4, b" ")
        serial = config.identity.serial
        self.esn = ApTitle((int(serial) if serial.isdigit() else zlib.crc32(serial.encode()),), relative=True)
        self.association = _NodeAssociation(
            AssociationConfig(
                ap_title=self.title,
                keys=self.responder.keys,
                key_id=settings.key_id,
                security_mode=settings.security_mode,
                iv_source=iv_source if iv_source is not None else IvSource(),
                replay_guard=ReplayGuard(),
                authenticator=self._authenticate,
                ed_class=self.device_class,
                response_timeout=settings.response_timeout_s,
                retries=settings.retries,
                max_apdu_size=settings.max_apdu_size,
            ),
            self.counters,
        )
        self.endpoint = C1222Endpoint(self.association, clock=clock, on_request=self._on_request)
        self.sync_on_request = True
        self._own_driver = own_driver
        self._own_scheduler = scheduler is None
        self.scheduler = scheduler if scheduler is not None else RegistrationScheduler(clock, 1)
        self._c1218 = self.responder.c1218_handler
        self._udp: UdpSocket | None = None
        self._link: HeadendLink | None = None
        self._closers: list[Callable[[], Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._registration = RegistrationState(period_s=settings.registration_period_s)
        self._registered = False
        self._next_registration: float | None = None
        self._event_seq = live.engine.event_logs[live.index].next_seq
        self._stopping = False
        self._started = False
        self._cache: dict[int, tuple[int, Any]] = {}

    @classmethod
    def create(
        cls,
        config: MeterConfig,
        *,
        clock: Clock | None = None,
        settings: NodeSettings = NodeSettings(),
        speed: float = 1.0,
        mode: Mode = "sampled",
        seed: int = 0,
        start_time: int | None = None,
        tick_s: float = 1.0,
    ) -> Meter:
        """A stand-alone meter with its own one-meter engine (household load from `default_load`, seeded);
        its clock starts at ``start_time`` (s since 1970 UTC; default: the clock's reading)."""
        clock = clock if clock is not None else SystemClock()
        rng = np.random.default_rng(seed)
        load, appliances = default_load(config, rng)
        start = int(clock.now()) if start_time is None else start_time
        engine = FleetEngine([engine_config(config)], [rng], start_time=start, mode=mode)
        live = EngineLive(engine, 0, config, appliances=appliances)
        driver = EngineDriver(engine, [load], clock=clock, speed=speed, tick_s=tick_s)
        return cls(config, live, clock=clock, settings=settings, driver=driver, own_driver=True)

    # -- transports --------------------------------------------------------------------------------------------------
    async def serve_tcp(self, host: str | None = "0.0.0.0", port: int = DEFAULT_PORT, **options: Any) -> TcpServer:
        """Answer C12.22 over TCP (options as `openami.transport.serve_tcp`)."""
        server = await serve_tcp(host, port, self.endpoint, **options)
        self._closers.append(server.close)
        return server

    async def serve_udp(self, host: str = "0.0.0.0", port: int = DEFAULT_PORT, **options: Any) -> UdpSocket:
        """Answer C12.22 over UDP; the socket also carries our requests when the head-end is over UDP."""
        sock = await serve_udp(host, port, self.endpoint, **options)
        self._udp = sock
        self._closers.append(sock.close)
        return sock

    async def use_headend(self, host: str, port: int = DEFAULT_PORT, *, udp: bool = False) -> None:
        """Reach the master relay and notification host at ``host``:``port`` (UDP: from the served socket,
        or a new one)."""
        sock = self._udp
        if udp and sock is None:
            sock = await open_udp(self.endpoint)
            self._closers.append(sock.close)
        link = HeadendLink(host, port, self.endpoint, udp=sock if udp else None)
        self._closers.append(link.close)
        self.attach(link)

    def attach(self, link: HeadendLink) -> None:
        """Reach the head-end through ``link`` (a fleet shares one)."""
        self._link = link
        self.endpoint.connect = link

    def psem_server(self) -> PsemServer:
        """A C12.18 core answering from this meter's tables (ST42 passwords, no EPSEM minimums)."""
        return PsemServer(None, self._optical, authorize=self._authorize)

    async def serve_optical_pty(self) -> OpticalPty:
        """The optical port on a pseudo-terminal (`OpticalPty.path` is the device a reader opens)."""
        pty = await serve_optical_pty(self.psem_server(), clock=self.clock)
        self._closers.append(pty.close)
        return pty

    async def serve_optical_tcp(self, host: str | None = "127.0.0.1", port: int = 0) -> OpticalTcpServer:
        """The optical port behind a TCP socket (one C12.18 session per connection)."""
        server = await serve_optical_tcp(host, port, self.psem_server, clock=self.clock)
        self._closers.append(server.close)
        return server

    # -- life cycle ----------------------------------------------------------------------------------------------
    def start(self, delay: float = 0.0) -> None:
        """Start stepping the engine (when it is ours) and register after ``delay`` seconds."""
        if self._started:
            return
        self._started = True
        if self._own_driver and self.driver is not None:
            self.driver.listeners.append(self.after_step)
            self.driver.start()
        if self.settings.register and self.endpoint.connect is not None:
            self.scheduler.schedule(self, self.clock.now() + max(0.0, delay))

    def halt(self) -> None:
        """Stop registering and notifying (the first step of `stop`)."""
        self._stopping = True

    async def stop(self) -> None:
        """Deregister (bounded by ``stop_timeout_s``), stop the engine and close every transport."""
        self.halt()
        if self._own_scheduler:
            await self.scheduler.aclose()
        await self.deregister()
        if self._own_driver and self.driver is not None:
            self.driver.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for closer in reversed(self._closers):
            result = closer()
            if asyncio.iscoroutine(result):
                await result
        await self.endpoint.aclose()

    @property
    def registered(self) -> bool:
        return self._registered

    def sync(self, now: float | None = None) -> None:
        """Bring the engine up to ``now`` (the clock by default)."""
        if self.driver is not None:
            self.driver.sync(now)

    def after_step(self) -> None:
        """After an engine step: count closed intervals, run due procedures / pending tables, push
        notifications for new intervals and reported events."""
        new = self.live.observe()
        now = self.clock.now()
        self.responder.poll(now)
        log = self.live.engine.event_logs[self.live.index]
        fresh = (log.next_seq - self._event_seq) & 0xFFFF
        self._event_seq = log.next_seq
        if self._stopping or not self.settings.notify or self.endpoint.connect is None:
            return
        if new:
            self._spawn(self.push_intervals())
        if fresh:
            reported = self._exception_report()[1]
            if any(e.code in reported for e in log.entries[-fresh:]):
                self._spawn(self.push_alarm())

    def counts(self) -> dict[str, int]:
        """Every counter: the core's `Stats`, the transport's `TransportStats` and `NodeCounters`."""
        return {**asdict(self.association.stats), **asdict(self.endpoint.stats), **asdict(self.counters)}

    # -- requests --------------------------------------------------------------------------------------------------
    def _authenticate(self, user_id: int | None, password: bytes) -> int | None:
        groups = self.responder.access.authenticator(user_id, password)
        if groups is None:
            self.counters.password_failures += 1
        return groups

    def _authorize(self, request: Request, session: ServerSession) -> Response:
        answer = self.responder.access.authorize(request, session)
        if not answer.ok:
            self.counters.password_failures += 1
        return answer

    async def _on_request(self, event: RequestReceived) -> Sequence[Response]:
        now = self.clock.now()
        if self.sync_on_request:
            self.sync(now)
        return self.responder.handle(event, now)

    def _optical(self, request: Request, session: ServerSession) -> Response:
        now = self.clock.now()
        if self.sync_on_request:
            self.sync(now)
        self.responder.poll(now)
        return self._c1218(request, session)

    # -- registration ------------------------------------------------------------------------------------------
    def _table(self, number: int) -> Any:
        store = self.responder.store
        version = store.version(number)
        cached = self._cache.get(number)
        if cached is None or cached[0] != version:
            cached = (version, store.value(number))
            self._cache[number] = cached
        return cached[1]

    def _title_field(self, raw: bytes, fallback: str) -> ApTitle:
        try:
            return decode_uid(bytes(raw), 0)[0]
        except ProtocolError:
            return ApTitle.parse(fallback)

    def master_relay(self) -> ApTitle:
        """The master relay of interface 0 (ST122), else ``MeterConfig.master_relay``."""
        if 122 not in self.responder.store.numbers:
            return ApTitle.parse(self.config.master_relay)
        entry = self._table(122)["INTERFACE_CTRL_ENTRIES"][0]
        return self._title_field(entry["MASTER_RELAY_APTITLE"], self.config.master_relay)

    def _exception_report(self) -> tuple[ApTitle, frozenset[int]]:
        if 123 not in self.responder.store.numbers:
            return ApTitle.parse(self.config.notify_host), frozenset()
        host = self._table(123)["EXCEPTION_REPORT"][0]
        codes = frozenset(int(c) for c in host["EVENT_REPORTED"] if c)
        return self._title_field(host["APTITLE_NOTIFY"], self.config.notify_host), codes

    def notify_host(self) -> ApTitle:
        """The notification host (ST123, first host), else ``MeterConfig.notify_host``."""
        return self._exception_report()[0]

    def registration_request(self) -> RegistrationRequest:
        s = self.settings
        period = max(0, min(s.registration_period_s, 0xFFFFFF))
        return RegistrationRequest(
            NodeType.END_DEVICE, s.connection_type, self.device_class, self.title, self.esn, s.native_address, period
        )

    async def register(self) -> bool:
        """Send one Registration to the master relay; True when it was granted."""
        master = self.master_relay()
        self.counters.registrations_sent += 1
        try:
            result = await self.endpoint.request(master, [self.registration_request()])
        except (TransportError, LocalProtocolError):
            self.counters.registrations_failed += 1
            return False
        answer = result.responses[0] if result.responses else None
        if not isinstance(answer, RegistrationResponse):
            self.counters.registrations_denied += 1
            return False
        self.counters.registrations_ok += 1
        self._registered = True
        period = answer.registration_period or self.settings.registration_period_s
        relay = self._link.address if self._link is not None else b""
        self._registration = RegistrationState(
            str(answer.ap_title), str(master), relay, answer.registration_delay, period
        )
        store = self.responder.store
        if not same_title(answer.ap_title, self.title, self.association.config.base) and 122 in store.numbers:
            entries = len(self._table(122)["INTERFACE_CTRL_ENTRIES"])
            node = aptitle_field(str(answer.ap_title))
            store.update(122, {"INTERFACE_CTRL_ENTRIES": [{"NODE_APTITLE": node}] * entries})
        return True

    async def registration_round(self) -> float | None:
        """Register once; returns when the next round is due (the period, or the retry delay), or None
        when stopping."""
        if self._stopping:
            return None
        ok = await self.register()
        period = self._registration.period_s if ok else 0
        when = self.clock.now() + (period if period > 0 else self.settings.registration_retry_s)
        self._next_registration = None if self._stopping else when
        return self._next_registration

    async def deregister(self) -> None:
        """Send Deregistration to the master relay (answer awaited at most ``stop_timeout_s``)."""
        if not self._registered or self.endpoint.connect is None:
            return
        self._registered = False
        self._next_registration = None
        self.counters.deregistrations += 1
        request = self.endpoint.request(self.master_relay(), [Deregistration(self.title)])
        with contextlib.suppress(TransportError, LocalProtocolError, TimeoutError):
            await asyncio.wait_for(request, self.settings.stop_timeout_s)
        self._registration = RegistrationState(period_s=self.settings.registration_period_s)

    def _network(self) -> NetworkState:
        countdown = 0
        if self._next_registration is not None:
            countdown = max(0, int(self._next_registration - self.clock.now()))
        stats = self.endpoint.stats
        c = self.counters
        values = {
            StatisticCode.BYTES_SENT: c.octets_sent,
            StatisticCode.BYTES_RECEIVED: c.octets_received,
            StatisticCode.PDUS_SENT: stats.apdus_sent,
            StatisticCode.PDUS_RECEIVED: stats.apdus_received,
            StatisticCode.PDUS_DROPPED: stats.dropped + stats.oversized_dropped,
            StatisticCode.FRAMING_ERRORS: stats.framing_errors,
            StatisticCode.ACTIVE_ASSOCIATIONS: len(self.association.server_sessions()),
            StatisticCode.REGISTRATIONS_SENT: c.registrations_sent,
            StatisticCode.REGISTRATIONS_DENIED: c.registrations_denied,
            StatisticCode.REGISTRATIONS_FAILED: c.registrations_failed,
            StatisticCode.DEREGISTRATIONS_REQUESTED: c.deregistrations,
        }
        interfaces = len(self.config.interfaces)
        table = {(i, int(code)): value for i in range(interfaces) for code, value in values.items()}
        return NetworkState((replace(self._registration, countdown_s=countdown),), table)

    # -- notifications ---------------------------------------------------------------------------------------------
    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def notify(self, services: Sequence[Request]) -> bool:
        """Send ``services`` to the notification host as a notification; True when acknowledged ok."""
        self.counters.notifications_sent += 1
        try:
            result = await self.endpoint.request(self.notify_host(), services, ae_qualifier=AeQualifier.NOTIFICATION)
        except (TransportError, LocalProtocolError):
            self.counters.notifications_failed += 1
            return False
        if not result.ok:
            self.counters.notifications_failed += 1
        return result.ok

    def interval_services(self) -> list[Request]:
        """ST63 in full and the newest ST64 block (a partial write at its offset); empty without blocks."""
        store, responder = self.responder.store, self.responder
        if not {63, 64} <= store.numbers:
            return []
        responder.refresh(63)
        responder.refresh(64)
        status = store.value(63)["LP_STATUS_SET1"]
        if not status["NBR_VALID_BLOCKS"]:
            return []
        span = store.layout(64).locate(f"LP_DATA_SET1[{status['LAST_BLOCK_ELEMENT']}]")
        data = store.read(64, span.offset, span.size)
        return [FullWrite(63, store.get(63)), PartialWriteOffset(64, span.offset, data)]

    def alarm_services(self) -> list[Request]:
        """ST3 and the event log (ST76, else ST74), in full."""
        store = self.responder.store
        out: list[Request] = []
        for number in (3, 76 if 76 in store.numbers else 74):
            if number in store.numbers:
                self.responder.refresh(number)
                out.append(FullWrite(number, store.get(number)))
        return out

    async def push_intervals(self) -> None:
        services = self.interval_services()
        if services:
            self.counters.interval_notifications += 1
            await self.notify(services)

    async def push_alarm(self) -> None:
        services = self.alarm_services()
        if services:
            self.counters.alarm_notifications += 1
            await self.notify(services)
