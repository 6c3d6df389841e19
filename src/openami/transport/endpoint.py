"""`C1222Endpoint`: one C12.22 node on asyncio, an `Association` driven over `Channel` s.

Transports — TCP connections (`openami.transport.tcp`), UDP peers (`openami.transport.udp`), in-memory
pipes (`openami.transport.memory`) — hand it whole APDUs (`C1222Endpoint.deliver`); it feeds them to
the core with the clock's ``now`` and writes what the core emits: answers go back on the channel the
request came on (or, when that channel has closed and a ``connect`` callback is set, on a new one — C12.22
allows it), retries on the channel of the request. A `ProtocolViolation` closes the channel that
carried the bad bytes and nothing else; the core, shared by every channel, carries on.

Sizes: an APDU over ``association.config.max_apdu_size`` bytes (tag and length included) is refused by
the transport through `C1222Endpoint.refuse_oversized`, which answers RQTL (carrying our maximum) when
the APDU's header shows a request it can answer. Responses too large for that same maximum are replaced
by RSTL inside the core (`Association.respond`, which knows only its own maximum, not the peer's).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from openami.c1222.acse import APDU_TAG, AeQualifier, C1222Auth, Message
from openami.c1222.aptitle import ApTitle
from openami.c1222.association import (
    Association,
    ClientSession,
    Event,
    FailReason,
    ProtocolViolation,
    RequestFailed,
    RequestPresumedOk,
    RequestReceived,
    ResponseReceived,
    Transmit,
)
from openami.c1222.association.wire import build_apdu, same_title
from openami.c1222.ber import decode_length, encode_tlv, read_tlv
from openami.c1222.codes import ResponseCode
from openami.c1222.epsem import EpsemControl, ResponseControl
from openami.c1222.security import SecurityMode
from openami.c1222.services import ErrorResponse, Request, Response
from openami.errors import LocalProtocolError, ProtocolError

from .driver import (
    BadResponse,
    Channel,
    Clock,
    ConnectionClosed,
    ConnectionFailed,
    CoreTimer,
    RequestTimeout,
    SystemClock,
    TransportError,
    TransportStats,
)

__all__ = ["HEADER_PREFIX", "C1222Endpoint", "Connector", "EventObserver", "RequestHandler"]

_log = logging.getLogger(__name__)

HEADER_PREFIX = 1024
"""Bytes of an oversized APDU kept to read its header (titles, A8, key id, EPSEM control) for RQTL."""

RequestHandler = Callable[[RequestReceived], Awaitable[Sequence[Response]]]
"""The application's answer to a request: one `Response` per entry of ``event.requests``."""
EventObserver = Callable[[Event, Channel | None], None]
"""Sees every core event and the channel it came on (None: from a timer)."""
Connector = Callable[[ApTitle], Awaitable[Channel]]
"""Opens (or reuses) a channel to a peer by its ApTitle; raises `ConnectionFailed` or `OSError`."""


@dataclass
class _Route:
    peer: ApTitle
    channel: Channel
    future: asyncio.Future[ResponseReceived | None]


# ------------------------------------------------------------------------------------------- endpoint


class C1222Endpoint:
    """One C12.22 node on asyncio: an `Association` driven over `Channel` s.

    Server side: set ``on_request`` (``async (RequestReceived) -> Sequence[Response]``); without it
    every application service is answered SNS. Client side: `request` (response control 'always') and
    `send` ('never' / 'on exception') — with ``via`` a channel, or without it through ``connect``.
    ``on_event`` sees every core event. A channel closing fails the requests routed through it with
    `ConnectionClosed` unless ``connect`` is set (the core's retries then go out on a new channel).
    """

    def __init__(
        self,
        association: Association,
        *,
        clock: Clock | None = None,
        on_request: RequestHandler | None = None,
        on_event: EventObserver | None = None,
        connect: Connector | None = None,
    ) -> None:
        self.association = association
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.on_request = on_request
        self.on_event = on_event
        self.connect = connect
        self.stats = TransportStats()
        self._routes: dict[int, _Route] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._answers: set[asyncio.Task[Any]] = set()
        self._timer = CoreTimer(self.clock, association.next_timer, self._on_timer)

    @property
    def max_apdu(self) -> int:
        """The largest APDU accepted or sent (bytes, tag and length included): the core's maximum."""
        return self.association.config.max_apdu_size

    @property
    def answering(self) -> int:
        """Requests being answered (handler running or answer being written)."""
        return len(self._answers)

    # ----------------------------------------------------------------------------------- client

    async def request(
        self,
        peer: ApTitle,
        services: Sequence[Request],
        *,
        via: Channel | None = None,
        mode: SecurityMode | None = None,
        key_id: int | None = None,
        session: ClientSession | None = None,
        ae_qualifier: AeQualifier | None = None,
    ) -> ResponseReceived:
        """Send ``services`` to ``peer`` in one request and wait for the matched response (the core
        retries). Raises `RequestTimeout`, `BadResponse`, `ConnectionClosed`, `ConnectionFailed`,
        `LocalProtocolError` (bad arguments); non-ok response codes are values in the result."""
        result = await self._call(peer, services, via, ResponseControl.ALWAYS, mode, key_id, session, ae_qualifier)
        if result is None:  # pragma: no cover - the core answers 'always' requests or fails them
            raise TransportError("no response event for a request with response control 'always'")
        return result

    async def send(
        self,
        peer: ApTitle,
        services: Sequence[Request],
        *,
        response_control: ResponseControl = ResponseControl.NEVER,
        via: Channel | None = None,
        mode: SecurityMode | None = None,
        key_id: int | None = None,
        session: ClientSession | None = None,
        ae_qualifier: AeQualifier | None = None,
    ) -> ResponseReceived | None:
        """A request answered 'never' (returns None once written) or 'on exception' (the error
        response, or None when none came within the core's response timeout)."""
        return await self._call(peer, services, via, response_control, mode, key_id, session, ae_qualifier)

    async def _call(
        self,
        peer: ApTitle,
        services: Sequence[Request],
        via: Channel | None,
        control: ResponseControl,
        mode: SecurityMode | None,
        key_id: int | None,
        session: ClientSession | None,
        ae_qualifier: AeQualifier | None,
    ) -> ResponseReceived | None:
        channel = via if via is not None else await self._open(peer)
        if channel.closed:
            raise ConnectionClosed(f"{channel.name} is closed")
        invocation_id, data = self.association.request(
            peer,
            services,
            now=self.clock.now(),
            mode=mode,
            key_id=key_id,
            response_control=control,
            ae_qualifier=ae_qualifier,
            session=session,
        )
        if control is ResponseControl.NEVER:
            await channel.send(data)
            self.stats.apdus_sent += 1
            return None
        future: asyncio.Future[ResponseReceived | None] = asyncio.get_running_loop().create_future()
        self._routes[invocation_id] = _Route(peer, channel, future)
        self._timer.arm()
        try:
            await channel.send(data)
            self.stats.apdus_sent += 1
            return await future
        finally:
            self._routes.pop(invocation_id, None)
            if not future.done() or future.cancelled():
                future.cancel()
                self.association.cancel(invocation_id)
                self._timer.arm()

    async def _open(self, peer: ApTitle) -> Channel:
        if self.connect is None:
            raise ConnectionFailed(f"no channel to {peer}: pass via= or set connect")
        try:
            return await self.connect(peer)
        except OSError as exc:
            raise ConnectionFailed(f"cannot reach {peer}: {exc}") from exc

    # ----------------------------------------------------------------------------------- transports

    def deliver(self, apdu: bytes, channel: Channel) -> asyncio.Task[Any] | None:
        """Hand one whole APDU received on ``channel`` to the core; returns the task answering it (if
        it is a request for the application), so a transport can bound the answers in flight."""
        self.stats.apdus_received += 1
        events = self.association.receive(apdu, self.clock.now())
        task = self._dispatch(events, channel)
        self._timer.arm()
        return task

    def channel_closed(self, channel: Channel) -> None:
        """A transport's channel has closed: requests routed through it fail unless ``connect`` is set."""
        if self.connect is not None:
            return
        for invocation_id, route in list(self._routes.items()):
            if route.channel is channel and not route.future.done():
                route.future.set_exception(ConnectionClosed(f"{channel.name} closed before the response"))
                self.association.cancel(invocation_id)
        self._timer.arm()

    def refuse_oversized(self, prefix: bytes, size: int, channel: Channel, *, limit: int | None = None) -> bool:
        """An APDU of ``size`` bytes, over the transport's ``limit`` (default and at most `max_apdu`),
        arrived on ``channel``; ``prefix`` holds its first bytes (up to `HEADER_PREFIX`). Answers RQTL
        carrying ``limit`` when the header shows a request addressed to us (calling title and A8
        present, no A4) whose key id we hold, sealed like the request would be answered (its security
        mode and key id, a fresh IV; the request itself cannot be verified). Returns True when the
        APDU is dealt with (answered, or its response control is 'never') and the stream may go on
        after skipping it; False when the transport should close the connection (or drop the
        datagram)."""
        parsed = _scan_header(prefix)
        config = self.association.config
        limit = min(self.max_apdu, limit) if limit is not None else self.max_apdu
        if parsed is None:
            self.stats.oversized_dropped += 1
            return False
        message, control = parsed
        request_id = message.calling_invocation_id
        if (
            message.called_invocation_id is not None
            or message.calling is None
            or request_id is None
            or (message.called is not None and not same_title(message.called, config.ap_title, config.base))
        ):
            self.stats.oversized_dropped += 1
            return False
        if control.response_control is ResponseControl.NEVER:
            return True
        mode = control.security_mode
        secured = mode is not SecurityMode.CLEARTEXT
        key_id = message.auth.key_id if isinstance(message.auth, C1222Auth) else None
        if secured and (key_id is None or key_id not in config.keys):
            self.stats.oversized_dropped += 1
            return False
        now = self.clock.now()
        try:
            data = build_apdu(
                called=message.calling,
                calling=config.ap_title,
                # responses' A8 are not checked by replay guards; this one only names our answer
                calling_invocation_id=self.association.next_invocation_id,
                called_invocation_id=request_id,
                services=[ErrorResponse.too_large(ResponseCode.RQTL, min(limit, 0xFFFFFFFF)).encode()],
                control=EpsemControl(security_mode=mode, ed_class_included=config.ed_class is not None),
                keys=config.keys,
                key_id=key_id if secured else None,
                iv=config.iv_source.next_iv(now) if secured else None,
                ed_class=config.ed_class,
                application_context=config.application_context,
                base=config.base,
            )
        except ProtocolError as exc:
            _log.debug("cannot answer an oversized APDU: %s", exc)
            self.stats.oversized_dropped += 1
            return False
        if channel.send_nowait(data):
            self.stats.rqtl_sent += 1
            self.stats.apdus_sent += 1
        else:
            self.stats.dropped += 1
        return True

    async def aclose(self) -> None:
        """Stop timers, cancel answers in progress and fail waiting requests with `ConnectionClosed`
        (the endpoint is not to be used afterwards; close its transports separately)."""
        self._timer.close()
        for invocation_id, route in self._routes.items():
            if not route.future.done():
                route.future.set_exception(ConnectionClosed("endpoint closed"))
                self.association.cancel(invocation_id)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ----------------------------------------------------------------------------------- internals

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _on_timer(self, now: float) -> None:
        self._dispatch(self.association.handle_timer(now), None)

    def _dispatch(self, events: list[Event], channel: Channel | None) -> asyncio.Task[Any] | None:
        task = None
        for event in events:
            if isinstance(event, Transmit):
                self._transmit(event, channel)
            elif isinstance(event, ResponseReceived):
                self._settle(event.invocation_id, event, None)
            elif isinstance(event, RequestPresumedOk):
                self._settle(event.invocation_id, None, None)
            elif isinstance(event, RequestFailed):
                kind = RequestTimeout if event.reason is FailReason.TIMEOUT else BadResponse
                self._settle(event.invocation_id, None, kind(event))
            elif isinstance(event, RequestReceived) and channel is not None:
                task = self._spawn(self._answer(event, channel))
                self._answers.add(task)
                task.add_done_callback(self._answers.discard)
            elif isinstance(event, ProtocolViolation) and channel is not None:
                self.stats.violations += 1
                channel.close(f"protocol violation: {event.detail}")
            if self.on_event is not None:
                try:
                    self.on_event(event, channel)
                except Exception:  # an observer's bug must not stop the transport
                    _log.exception("on_event observer raised")
        return task

    def _settle(self, invocation_id: int, result: ResponseReceived | None, error: Exception | None) -> None:
        route = self._routes.get(invocation_id)
        if route is None or route.future.done():
            return
        if error is not None:
            route.future.set_exception(error)
        else:
            route.future.set_result(result)

    def _transmit(self, event: Transmit, channel: Channel | None) -> None:
        """A duplicate's cached answer (``channel``: where the duplicate came) or a retry of ours."""
        route = None
        target = channel
        if channel is None and event.invocation_id is not None:
            route = self._routes.get(event.invocation_id)
            target = route.channel if route is not None else None
        if target is not None and not target.closed:
            if target.send_nowait(event.data):
                self.stats.apdus_sent += 1
            else:
                self.stats.dropped += 1
        elif route is not None and self.connect is not None:
            self._spawn(self._resend(route, event.data))
        else:
            self.stats.dropped += 1

    async def _resend(self, route: _Route, data: bytes) -> None:
        try:
            route.channel = await self._open(route.peer)
            await route.channel.send(data)
            self.stats.apdus_sent += 1
        except TransportError as exc:
            _log.debug("retry to %s not sent: %s", route.peer, exc)
            self.stats.dropped += 1

    async def _answer(self, event: RequestReceived, channel: Channel) -> None:
        handler = self.on_request
        try:
            if handler is None:
                responses: Sequence[Response] = [ErrorResponse(ResponseCode.SNS)] * len(event.requests)
            elif not event.requests:
                responses = []
            else:
                responses = await handler(event)
        except asyncio.CancelledError:
            self.association.drop(event)
            raise
        except Exception:
            _log.exception("request handler raised; answering ERR")
            self.stats.handler_errors += 1
            responses = [ErrorResponse(ResponseCode.ERR)] * len(event.requests)
        now = self.clock.now()
        try:
            data = self.association.respond(event, responses, now)
        except LocalProtocolError as exc:
            _log.error("request handler answered wrongly (%s); answering ERR", exc)
            self.stats.handler_errors += 1
            data = self.association.respond(event, [ErrorResponse(ResponseCode.ERR)] * len(event.requests), now)
        finally:
            self._timer.arm()
        if data is not None:
            await self._reply(data, event.peer, channel)

    async def _reply(self, data: bytes, peer: ApTitle, channel: Channel) -> None:
        if not channel.closed:
            try:
                await channel.send(data)
                self.stats.apdus_sent += 1
                return
            except ConnectionClosed:
                pass
        if self.connect is None:
            self.stats.dropped += 1
            return
        try:  # C12.22 lets an answer come back on another connection
            other = await self._open(peer)
            await other.send(data)
            self.stats.apdus_sent += 1
        except TransportError as exc:
            _log.debug("answer to %s not sent: %s", peer, exc)
            self.stats.dropped += 1


# ------------------------------------------------------------------------------------------- header scan

_USER_INFORMATION = 0xBE
_AUTH_TAG = 0xAC


def _scan_header(prefix: bytes) -> tuple[Message, EpsemControl] | None:
    """The header of an APDU from its first bytes: the elements before user information (BE), decoded
    by `Message.decode` on a stand-in APDU with an empty EPSEM, and the EPSEM control byte when the
    prefix reaches it (else mode 2 if an AC element is present — never weaker than the request — or
    mode 0). None when the prefix does not reach BE or its elements do not decode."""
    try:
        if len(prefix) < 2 or prefix[0] != APDU_TAG:
            return None
        _, pos = decode_length(prefix, 1)
        elements = bytearray()
        tags: set[int] = set()
        control: int | None = None
        while True:
            if pos >= len(prefix):
                return None  # the header goes on past the prefix: its security is unknown
            if prefix[pos] == _USER_INFORMATION:
                control = _control_byte(prefix, pos)
                break
            tag, _, end = read_tlv(prefix, pos)
            tags.add(tag)
            elements += prefix[pos:end]
            pos = end
        if control is None:
            mode = SecurityMode.ENCRYPTED if _AUTH_TAG in tags else SecurityMode.CLEARTEXT
            control = EpsemControl(security_mode=mode).to_int()
        parsed = EpsemControl.decode(control)
        stand_in = encode_tlv(APDU_TAG, bytes(elements) + bytes((_USER_INFORMATION, 5, 0x28, 3, 0x81, 1, control)))
        return Message.decode(stand_in), parsed
    except ProtocolError:
        return None


def _control_byte(prefix: bytes, pos: int) -> int | None:
    """The EPSEM control byte inside ``BE L 28 L [02 L ref] 81 L <control ...>`` at ``pos``, or None if
    the prefix ends before it or the layout differs."""
    try:
        _, pos = decode_length(prefix, pos + 1)
        if pos >= len(prefix) or prefix[pos] != 0x28:
            return None
        _, pos = decode_length(prefix, pos + 1)
        if pos < len(prefix) and prefix[pos] == 0x02:
            pos = read_tlv(prefix, pos)[2]
        if pos >= len(prefix) or prefix[pos] != 0x81:
            return None
        _, pos = decode_length(prefix, pos + 1)
    except ProtocolError:
        return None
    return prefix[pos] if pos < len(prefix) else None
