"""`MeterClient`: a meter reader's C12.22 client — table reads, writes and procedures over TCP or UDP.

One client talks to one meter (its ``called`` ApTitle at ``host``:``port``) through a
`openami.transport.C1222Endpoint`. Every request is one EPSEM; with a ``password`` it starts with a
sessionless Security service (``51 password:20 [user-id:2]``), whose ok the meter leaves implied.

Decoding: the first read of a standard table also reads ST0 GEN_CONFIG_TBL and then whichever ACT_*
tables the table's layout names (ST11, ST21, ST61 …, found by binding until nothing is missing); the
raw configuration tables are cached per client (per meter) and dropped when one of them is written.
A partial read decodes the element its octets cover (`element_at`, `Layout.locate_index`); octets
that do not decode give ``decoded`` None and a ``note``, never an exception.

Procedures: ST7 is written (full write, ``SEQ_NBR`` from a per-client counter, response selector
"on completion") and ST8 read in the same EPSEM; until ST8 echoes the request it is read again every
``procedure_poll`` seconds, for at most ``procedure_timeout`` seconds.

Errors (all `ClientError`): `ResponseError` (a non-ok response code, carried as `ResponseCode`),
`ResponseTimeout` (no answer after the retries — a meter drops requests whose MAC does not verify,
so a wrong key shows this way), `MacError` (an answer arrived but did not verify under our key, or
named a key id we do not hold), `BadAnswer` (an answer that does not decode or fit the request),
`ConnectError`, `ProcedureTimeout`. Misuse of the API raises `openami.errors.LocalProtocolError`.

Replay protection: meters remember each peer's invocation ids (A8) and IVs for minutes. A client
that is created again and again (a command-line tool) must not repeat them: pass the persisted
``iv_source`` / ``first_invocation_id`` (read `last_iv` / `next_invocation_id` when done); by
default the first A8 is random and IVs follow the clock.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from openami.c1219.config import DeviceConfig
from openami.c1219.device import CONFIG_TABLES, config_from_tables, decode_self_describing
from openami.c1219.expr import UnboundReference
from openami.c1219.layout import Layout, bind
from openami.c1219.procedures import ProcedureRequest, ProcedureResponse, ResponseSelector
from openami.c1219.std import STANDARD_TABLES
from openami.c1222.aptitle import ApTitle
from openami.c1222.association import (
    Association,
    AssociationConfig,
    BadMac,
    Event,
    ReplayRefused,
    ResponseRefused,
    UnknownKey,
)
from openami.c1222.codes import ResponseCode
from openami.c1222.security import IvSource, KeyStore, SecurityMode
from openami.c1222.services import (
    ErrorResponse,
    FullRead,
    FullWrite,
    PartialReadIndex,
    PartialReadOffset,
    PartialWriteIndex,
    PartialWriteOffset,
    ReadResponse,
    Request,
    Response,
    Security,
    format_table_id,
)
from openami.client.decode import TableRead, decode_read, element_at
from openami.errors import LocalProtocolError, ProtocolError
from openami.transport import (
    DEFAULT_PORT,
    BadResponse,
    C1222Endpoint,
    Channel,
    Clock,
    ConnectionClosed,
    ConnectionFailed,
    RequestTimeout,
    TcpDialer,
    UdpDialer,
    UdpSocket,
    open_udp,
)

__all__ = [
    "DEFAULT_CALLED",
    "DEFAULT_CALLING",
    "BadAnswer",
    "ClientError",
    "ConnectError",
    "MacError",
    "MeterClient",
    "ProcedureTimeout",
    "ResponseError",
    "ResponseTimeout",
    "TableRead",
    "decode_read",
    "element_at",
]

DEFAULT_CALLED = ".123.8437"
"""The ApTitle of openami's default emulated meter (`openami.meter.config.Identity`)."""
DEFAULT_CALLING = ".123.90"
"""The reader's own ApTitle unless told otherwise (distinct from the head-end's default ``.123.4``)."""

_ID_SPACE = 1 << 32


# ------------------------------------------------------------------------------------------- errors


class ClientError(Exception):
    """Base class of what a `MeterClient` call can fail with (besides API misuse)."""


class ConnectError(ClientError):
    """The meter could not be reached (connection refused, closed, unknown host)."""


class ResponseTimeout(ClientError):
    """No answer after ``attempts`` transmissions of ``timeout`` seconds each."""

    def __init__(self, message: str, *, attempts: int, timeout: float) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.timeout = timeout


class MacError(ClientError):
    """An answer from the meter failed its MAC check under key ``key_id`` (or named a key we lack)."""

    def __init__(self, message: str, *, key_id: int) -> None:
        super().__init__(message)
        self.key_id = key_id


class BadAnswer(ClientError):
    """An answer that does not decode, or does not fit the request (too few responses)."""


class ProcedureTimeout(ClientError):
    """ST8 did not report the procedure's result within the client's ``procedure_timeout``."""


class ResponseError(ClientError):
    """A non-ok response ``code`` to ``service`` (e.g. ``"read ST23"``); ``extra`` holds its octets."""

    def __init__(self, code: ResponseCode, service: str, extra: bytes = b"", detail: str = "") -> None:
        text = f"{service}: {code.name} ({code.description})"
        super().__init__(f"{text}; {detail}" if detail else text)
        self.code = code
        self.service = service
        self.extra = extra


def _describe(request: Request) -> str:
    """``"read ST23"``, ``"write ST6"``, ``"Security (password)"`` …, for messages."""
    if isinstance(request, Security):
        return "Security (password)"
    table = getattr(request, "table", None)
    if table is None:
        return type(request).__name__
    kind = "read" if isinstance(request, FullRead | PartialReadOffset | PartialReadIndex) else "write"
    return f"{kind} {format_table_id(table)}"


# ------------------------------------------------------------------------------------------- client


class MeterClient:
    """A C12.22 client for one meter. Use ``async with MeterClient(...) as client:``.

    ``host``/``port``: the meter (TCP, or UDP with ``udp``); ``called``/``calling``: ApTitles (dotted
    text or `ApTitle`); ``security_mode`` 0/1/2 with ``keys`` (key id → 16-octet AES key) and
    ``key_id`` (default: the only key given); ``password`` (≤ 20 octets, text is Latin-1) and
    ``user_id`` for the sessionless Security service. Times in seconds: ``response_timeout`` per
    attempt, ``retries`` re-sends, ``procedure_timeout`` / ``procedure_poll`` for ST8.
    """

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        udp: bool = False,
        called: ApTitle | str = DEFAULT_CALLED,
        calling: ApTitle | str = DEFAULT_CALLING,
        security_mode: SecurityMode | int = SecurityMode.CLEARTEXT,
        keys: Mapping[int, bytes] | None = None,
        key_id: int | None = None,
        password: bytes | str | None = None,
        user_id: int | None = None,
        response_timeout: float = 5.0,
        retries: int = 2,
        procedure_timeout: float = 30.0,
        procedure_poll: float = 0.25,
        iv_source: IvSource | None = None,
        first_invocation_id: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.udp = udp
        self.called = called if isinstance(called, ApTitle) else ApTitle.parse(called)
        self.calling = calling if isinstance(calling, ApTitle) else ApTitle.parse(calling)
        try:
            self.security_mode = SecurityMode(security_mode)
        except ValueError:
            raise LocalProtocolError(f"security mode must be 0, 1 or 2, got {security_mode!r}") from None
        store = KeyStore(keys or {})
        if key_id is None and self.security_mode is not SecurityMode.CLEARTEXT:
            if len(store) != 1:
                raise LocalProtocolError(f"security mode {int(self.security_mode)} needs one key (or a key_id)")
            key_id = store.key_ids()[0]
        if key_id is not None and key_id not in store:
            raise LocalProtocolError(f"no key with id {key_id}")
        if isinstance(password, str):
            try:
                password = password.encode("latin-1")
            except UnicodeEncodeError:
                raise LocalProtocolError("the password must be Latin-1 text") from None
        if user_id is not None and password is None:
            raise LocalProtocolError("a user id goes with a password (the Security service)")
        self.password: bytes | None = password
        self.user_id = user_id
        if password is not None:
            Security(password, user_id)  # validates length and user id now
        self.procedure_timeout = procedure_timeout
        self.procedure_poll = procedure_poll
        self.iv_source = iv_source if iv_source is not None else IvSource()
        first = first_invocation_id if first_invocation_id is not None else secrets.randbelow(_ID_SPACE)
        self._config = AssociationConfig(
            ap_title=self.calling,
            keys=store,
            key_id=key_id,
            security_mode=self.security_mode,
            iv_source=self.iv_source,
            response_timeout=response_timeout,
            retries=retries,
            max_sessions=0,
        )
        self._association = Association(self._config, first_invocation_id=first)
        self._clock = clock
        self._seq = first & 0xFF
        self._endpoint: C1222Endpoint | None = None
        self._tcp: TcpDialer | None = None
        self._udp: UdpSocket | None = None
        self._alarm: asyncio.Future[ClientError] | None = None
        self._refusals: list[str] = []
        self._raw_config: dict[int, bytes] = {}
        self._device: DeviceConfig | None = None

    # ----------------------------------------------------------------------------------- life cycle

    @property
    def address(self) -> str:
        """``host:port/tcp`` or ``/udp``, for messages."""
        return f"{self.host}:{self.port}/{'udp' if self.udp else 'tcp'}"

    @property
    def last_iv(self) -> int | None:
        """The last IV this client issued (persist it, pass ``IvSource(last)`` next time)."""
        return self.iv_source.last

    @property
    def next_invocation_id(self) -> int:
        """The A8 the next request will carry (persist it, pass it as ``first_invocation_id``)."""
        return self._association.next_invocation_id

    async def connect(self) -> None:
        """Open the socket (TCP: connect now, so an unreachable meter fails here with `ConnectError`)."""
        if self._endpoint is not None:
            return
        endpoint = C1222Endpoint(self._association, clock=self._clock, on_event=self._observe)
        self._endpoint = endpoint
        try:
            if self.udp:
                address, bind_host = await self._resolve()
                self._udp = await open_udp(endpoint, bind_host, 0)
                endpoint.connect = UdpDialer(self._udp, {self.called: (address, self.port)})
            else:
                self._tcp = TcpDialer(endpoint, {self.called: (self.host, self.port)})
                endpoint.connect = self._tcp
                await self._tcp(self.called)
        except (ConnectionFailed, OSError) as exc:
            await self.close()
            raise ConnectError(f"cannot reach {self.address}: {exc}") from None

    async def _resolve(self) -> tuple[str, str]:
        """The meter's address and the local address to bind (loopback for a loopback meter)."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
        if not infos:
            raise OSError(f"no address for {self.host}")
        address = str(infos[0][4][0])
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.version == 6:
            return address, "::1" if ip.is_loopback else "::"
        return address, "127.0.0.1" if ip.is_loopback else "0.0.0.0"

    async def close(self) -> None:
        """Close the connection or socket (the client can connect again afterwards)."""
        endpoint, self._endpoint = self._endpoint, None
        if endpoint is not None:
            await endpoint.aclose()
        if self._tcp is not None:
            self._tcp.close()
            self._tcp = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    async def __aenter__(self) -> MeterClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ----------------------------------------------------------------------------------- requests

    def _observe(self, event: Event, channel: Channel | None) -> None:
        if isinstance(event, BadMac | UnknownKey):
            what = "did not verify (MAC check failed)" if isinstance(event, BadMac) else "names a key id we lack"
            error = MacError(
                f"an answer from {event.peer or self.called} under key id {event.key_id} {what}: check the key",
                key_id=event.key_id,
            )
            if self._alarm is not None and not self._alarm.done():
                self._alarm.set_result(error)
        elif isinstance(event, ResponseRefused):
            self._refusals.append(event.reason)
        elif isinstance(event, ReplayRefused):
            self._refusals.append(f"answer refused as a replay ({event.reason})")

    async def request(self, services: Sequence[Request]) -> list[Response]:
        """Send ``services`` in one EPSEM (after a Security service when a password is set) and return
        their ok responses; the first non-ok one raises `ResponseError`."""
        endpoint = self._endpoint
        if endpoint is None:
            raise LocalProtocolError("connect() first (or use 'async with')")
        security = [Security(self.password, self.user_id)] if self.password is not None else []
        sent: list[Request] = [*security, *services]
        loop = asyncio.get_running_loop()
        alarm: asyncio.Future[ClientError] = loop.create_future()
        self._alarm = alarm
        self._refusals.clear()
        task = loop.create_task(endpoint.request(self.called, sent))
        waiting: set[asyncio.Future[Any]] = {task, alarm}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._alarm = None
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if alarm.done():
            raise alarm.result()
        try:
            answer = task.result()
        except RequestTimeout as exc:
            raise self._timeout(exc.event.attempts) from None
        except BadResponse as exc:
            raise BadAnswer(f"undecodable answer from {self.called}: {exc.event.detail}") from None
        except (ConnectionClosed, ConnectionFailed) as exc:
            raise ConnectError(f"{self.address}: {exc}") from None
        responses = list(answer.responses)
        for i, request in enumerate(sent):
            if i >= len(responses):
                raise BadAnswer(f"the meter answered {len(responses)} of {len(sent)} services")
            response = responses[i]
            if not response.ok:
                code = response.code if isinstance(response, ErrorResponse) else ResponseCode.ERR
                extra = response.extra if isinstance(response, ErrorResponse) else b""
                detail = "the meter refused the password" if isinstance(request, Security) else ""
                raise ResponseError(ResponseCode(code), _describe(request), extra, detail)
        return responses[len(security) :]

    def _timeout(self, attempts: int) -> ResponseTimeout:
        timeout = self._config.response_timeout
        text = f"no answer from {self.called} at {self.address} after {attempts} attempt(s) of {timeout:g} s"
        if self._refusals:
            text += f"; answers were refused: {'; '.join(self._refusals)}"
        elif self.security_mode is not SecurityMode.CLEARTEXT:
            text += (
                f" (security mode {int(self.security_mode)}: a meter silently drops requests whose MAC does not"
                " verify, whose key id it lacks, or that repeat an IV it has seen — check the key and the mode)"
            )
        else:
            text += " (check the address, the transport (TCP or UDP) and the meter's ApTitle)"
        return ResponseTimeout(text, attempts=attempts, timeout=timeout)

    async def read_octets(
        self, table: int, offset: int | None = None, count: int | None = None, index: Sequence[int] | None = None
    ) -> bytes:
        """The raw octets of a full read, a partial read by ``offset`` (``count`` octets), or by ``index``
        (``count`` elements, default 1)."""
        request: Request
        if index is not None:
            if offset is not None:
                raise LocalProtocolError("read by offset or by index, not both")
            request = PartialReadIndex(table, tuple(index), 1 if count is None else count)
        elif offset is not None:
            if count is None:
                raise LocalProtocolError("a read by offset needs a count of octets")
            request = PartialReadOffset(table, offset, count)
        elif count is not None:
            raise LocalProtocolError("a count goes with an offset or an index")
        else:
            request = FullRead(table)
        (response,) = await self.request([request])
        if not isinstance(response, ReadResponse):  # pragma: no cover - reads decode to ReadResponse
            raise BadAnswer(f"{_describe(request)}: not a read response")
        return response.data

    # ----------------------------------------------------------------------------------- tables

    async def config(self) -> DeviceConfig:
        """The meter's configuration from its ST0 and the ACT_* tables read so far (ST0 read once)."""
        if 0 not in self._raw_config:
            self._raw_config[0] = await self.read_octets(0)
            self._device = None
        if self._device is None:
            try:
                self._device = config_from_tables(self._raw_config)
            except ProtocolError as exc:
                raise BadAnswer(f"the meter's configuration tables do not decode: {exc}") from None
        return self._device

    async def layout(self, table: int) -> Layout:
        """The bound layout of standard table ``table``, reading the configuration tables it needs.

        Raises `LocalProtocolError` for a table openami has no definition of, `ResponseError` when a
        configuration table cannot be read."""
        definition = STANDARD_TABLES.get(table)
        if definition is None:
            raise LocalProtocolError(f"no definition of {format_table_id(table)}")
        for _ in range(len(CONFIG_TABLES) + 1):
            device = await self.config()
            try:
                if table == 0:
                    return decode_self_describing(definition, self._raw_config[0], device)[1]
                return bind(definition, device)
            except UnboundReference as missing:
                needed = _config_table(missing.name)
                if needed is None or needed in self._raw_config:
                    raise
                self._raw_config[needed] = await self.read_octets(needed)
                self._device = None
        raise LocalProtocolError(f"{definition.label}: its configuration does not resolve")  # pragma: no cover

    async def read(
        self, table: int, offset: int | None = None, count: int | None = None, index: Sequence[int] | None = None
    ) -> TableRead:
        """Read a table (full, by ``offset`` + ``count`` octets, or by ``index`` + ``count`` elements) and
        decode it with the table engine (see the module docstring); bad octets give a ``note``."""
        data = await self.read_octets(table, offset, count, index)
        if offset is None and index is None and table in CONFIG_TABLES and table in STANDARD_TABLES:
            self._raw_config[table] = data
            self._device = None
        layout, note = None, None
        if table in STANDARD_TABLES:
            try:
                layout = await self.layout(table)
            except (ProtocolError, ResponseError, BadAnswer) as exc:
                note = f"cannot bind {format_table_id(table)} to the meter's configuration: {exc}"
        else:
            note = f"openami has no definition of {format_table_id(table)}"
        return decode_read(table, layout, data, offset=offset, index=index, count=count or 1, note=note)

    async def encode(self, table: int, value: Any, index: Sequence[int] | None = None) -> bytes:
        """The octets of a JSON-shaped ``value`` (as in `TableRead.json`) for the whole table or, with
        ``index``, for the element there. Raises `LocalProtocolError` for a value that does not fit."""
        layout = await self.layout(table)
        if index is None:
            if not isinstance(value, Mapping):
                raise LocalProtocolError(f"a whole {format_table_id(table)} is a JSON object of its fields")
            return layout.encode(layout.from_json(value))
        span = layout.locate_index(tuple(index))
        out = bytearray()
        span.node.encode_into(span.node.from_json(value), out)
        return bytes(out)

    async def write(self, table: int, data: Any, offset: int | None = None, index: Sequence[int] | None = None) -> None:
        """Write to the whole table, at ``offset`` or at the element at ``index``: ``data`` is octets
        (bytes) or a JSON-shaped value (as in `TableRead.json`, encoded through the layout; not with
        ``offset``). Non-ok answers raise `ResponseError`."""
        if offset is not None and index is not None:
            raise LocalProtocolError("write by offset or by index, not both")
        if not isinstance(data, bytes | bytearray):
            if offset is not None:
                raise LocalProtocolError("a JSON value is written whole or at an index, not at an offset")
            data = await self.encode(table, data, index)
        request: Request
        if index is not None:
            request = PartialWriteIndex(table, tuple(index), bytes(data))
        elif offset is not None:
            request = PartialWriteOffset(table, offset, bytes(data))
        else:
            request = FullWrite(table, bytes(data))
        await self.request([request])
        if table in self._raw_config:
            self._raw_config = {} if table == 0 else {n: b for n, b in self._raw_config.items() if n != table}
            self._device = None

    # ----------------------------------------------------------------------------------- procedures

    async def procedure(
        self, number: int, params: bytes = b"", *, mfg: bool = False, seq_nbr: int | None = None
    ) -> ProcedureResponse:
        """Run procedure ``number`` (SP, or MFG with ``mfg``): write ST7, read ST8 until it answers.

        The ST8 result code is a value (`ProcedureResponse.result`); ST7/ST8 refused raise
        `ResponseError`, no result within ``procedure_timeout`` `ProcedureTimeout`."""
        formats = (await self.config()).formats
        if seq_nbr is None:
            seq_nbr, self._seq = self._seq, (self._seq + 1) & 0xFF
        call = ProcedureRequest(number, mfg, ResponseSelector.ON_COMPLETION, seq_nbr, bytes(params))
        _, read = await self.request([FullWrite(7, call.encode(formats)), FullRead(8)])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.procedure_timeout
        while True:
            if not isinstance(read, ReadResponse):  # pragma: no cover - reads decode to ReadResponse
                raise BadAnswer("read ST8: not a read response")
            try:
                result = ProcedureResponse.decode(read.data, formats)
            except ProtocolError as exc:
                raise BadAnswer(f"ST8 does not decode: {exc}") from None
            if result.answers(call):
                return result
            if loop.time() >= deadline:
                limit = f"{self.procedure_timeout:g} s"
                raise ProcedureTimeout(f"ST8 did not report {call} within {limit} (it holds {result})")
            await asyncio.sleep(self.procedure_poll)
            (read,) = await self.request([FullRead(8)])


def _config_table(name: str) -> int | None:
    """The configuration table a dotted name such as ``ACT_REGS_TBL.NBR_TIERS`` lives in."""
    table_name = name.split(".")[0]
    for number in CONFIG_TABLES:
        definition = STANDARD_TABLES.get(number)
        if definition is not None and definition.name == table_name:
            return number
    return None
