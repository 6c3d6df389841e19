"""Sans-IO C12.18 PSEM server: the meter side of an optical port, on a `LinkEndpoint`.

Every message received is decoded as a PSEM request (`openami.c1222.services.decode_request`) and
answered with one response. The server tracks the C12.18 session (c12-protocol-facts.md §5: Identify →
Negotiate → Logon → Security → reads/writes/procedures → Logoff → Terminate) in three states:

========== ==================================================================================
BASE       after power-up, Terminate, or the channel traffic timeout
IDENTIFIED after Identify (and after Logoff)
LOGGED_ON  after Logon
========== ==================================================================================

Which service is accepted where (a service out of sequence is answered ISSS; rules of ours where the
public sources are silent): Identify in BASE and IDENTIFIED (a repeated Identify is answered again);
Negotiate in IDENTIFIED; Logon in IDENTIFIED; Security, Logoff and the table services (reads and
writes of every kind) in LOGGED_ON; Wait in IDENTIFIED and LOGGED_ON; Terminate anywhere. Other
request codes (the C12.22 network services, Disconnect, Authenticate, Timing Setup) get SNS; a body that
does not decode gets ERR (SNS if its code names no request).

Table services go to ``handler(request, session)``, which returns the response (a `ReadResponse`,
`OkResponse` or `ErrorResponse`): the meter plugs its table store and access control in there. Logon
and Security go to the optional ``authorize(request, session)`` (default: accept); an ok answer moves
the session on, records the user (Logon) or the password (Security) in `ServerSession`.

Negotiate: the answer carries min(offered, `PsemServerConfig.max_packet_size`) bytes,
min(offered, `PsemServerConfig.max_nbr_packets`) packets and the first offered baud code the server
supports (the current code if none is, or none is offered); an offer below 9-byte packets or of 0
packets is answered IAR. The link switches to those sizes right after the answer is queued
(`LinkEndpoint.apply_negotiation`), and `Negotiated` is reported once the answer is acknowledged (switch
the line speed then). An answer too large for the sizes in force is replaced by ONP (C12.18 has no
RSTL). Terminate is answered ok; when that answer has been acknowledged (or given up) the link is
reset and `SessionEnded` reported. The link's channel traffic timeout ends the session the same way.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from openami.c1218.link import (
    DEVICE_CHANNEL_TRAFFIC_TIMEOUT,
    LinkConfig,
    LinkEndpoint,
    LinkEvent,
    LinkFailed,
    MessageReceived,
    MessageSent,
    SendBytes,
    TrafficTimeout,
)
from openami.c1218.packet import (
    DEFAULT_NBR_PACKETS,
    DEFAULT_PACKET_SIZE,
    MAX_NBR_PACKETS,
    MIN_PACKET_SIZE,
    max_data_length,
)
from openami.c1218.psem import DEFAULT_BAUD_CODE, Negotiated
from openami.c1222.codes import ResponseCode
from openami.c1222.services import (
    ChecksumError,
    ErrorResponse,
    Identify,
    IdentifyResponse,
    Logoff,
    Logon,
    Negotiate,
    NegotiateResponse,
    OkResponse,
    ReadRequest,
    Request,
    Security,
    Terminate,
    Wait,
    WriteRequest,
    decode_request,
    request_type,
)
from openami.c1222.services import Response as ServiceResponse
from openami.errors import LocalProtocolError, ProtocolError

__all__ = [
    "AnswerFailed",
    "Authorizer",
    "Handler",
    "PsemServer",
    "PsemServerConfig",
    "Rejected",
    "Served",
    "ServerEvent",
    "ServerSession",
    "SessionEnded",
    "SessionState",
    "default_identify",
]


class SessionState(enum.Enum):
    """Where a C12.18 session stands (see the module docstring)."""

    BASE = "base"
    IDENTIFIED = "identified"
    LOGGED_ON = "logged-on"


@dataclass(frozen=True, slots=True)
class ServerSession:
    """The session as the handler sees it (a snapshot; the server replaces it on every change).

    ``user`` is the 10-byte Logon field, ``password`` the 20-byte Security field (None until an ok
    Security); sizes in bytes / packets as in force on the link; ``baud_code`` the last answered code.
    """

    state: SessionState = SessionState.BASE
    user_id: int | None = None
    user: bytes | None = None
    password: bytes | None = None
    packet_size: int = DEFAULT_PACKET_SIZE
    nbr_packets: int = DEFAULT_NBR_PACKETS
    baud_code: int = DEFAULT_BAUD_CODE


def default_identify() -> IdentifyResponse:
    """Identify answer ``00 00 01 00 00``: reference standard 0 (C12.18), version 1, revision 0, no features."""
    return IdentifyResponse(std=0, ver=1, rev=0)


@dataclass(frozen=True, slots=True)
class PsemServerConfig:
    """Server parameters: the Identify answer, the largest packet size (bytes, whole packet) and count
    it accepts in Negotiate, and the baud codes it supports (``default_baud`` in force at session start)."""

    identify: IdentifyResponse = field(default_factory=default_identify)
    max_packet_size: int = 1024
    max_nbr_packets: int = 8
    bauds: tuple[int, ...] = (DEFAULT_BAUD_CODE,)
    default_baud: int = DEFAULT_BAUD_CODE

    def __post_init__(self) -> None:
        max_data_length(self.max_packet_size)
        if not 1 <= self.max_nbr_packets <= MAX_NBR_PACKETS:
            raise LocalProtocolError(f"max_nbr_packets must be 1..{MAX_NBR_PACKETS}, got {self.max_nbr_packets}")
        object.__setattr__(self, "bauds", tuple(self.bauds))
        for code in (*self.bauds, self.default_baud):
            if not 0 <= code <= 0xFF:
                raise LocalProtocolError(f"baud codes are 0..255, got {code}")


@dataclass(frozen=True, slots=True)
class Served:
    """``request`` was answered with ``response`` (ISSS/SNS/ONP answers included)."""

    request: Request
    response: ServiceResponse


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that is no request we can decode; answered with ``response`` (ERR or SNS)."""

    payload: bytes
    reason: str
    response: ErrorResponse


@dataclass(frozen=True, slots=True)
class AnswerFailed:
    """The link gave up sending the answer ``payload`` (no ACK after all retries)."""

    payload: bytes
    reason: str


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """The session is over (Terminate, channel traffic timeout); the link is back at its defaults."""

    reason: str


ServerEvent = SendBytes | Served | Rejected | Negotiated | AnswerFailed | SessionEnded
"""Everything `PsemServer` reports, in order; write every `SendBytes` to the line as it comes."""

Handler = Callable[[Request, ServerSession], ServiceResponse]
"""Answers a table service (any read or write request) in the light of the session."""
Authorizer = Callable[[Request, ServerSession], ServiceResponse]
"""Answers Logon and Security (ok lets the session move on)."""

_TERMINATE = "terminate"


def _accept(request: Request, session: ServerSession) -> ServiceResponse:
    return OkResponse()


class PsemServer:
    """C12.18 meter-side core; see the module docstring for the session rules.

    ``link_config`` None gives the link defaults with the device's channel traffic timeout
    (`DEVICE_CHANNEL_TRAFFIC_TIMEOUT`, 6 s); a given config is used as is.
    """

    def __init__(
        self,
        link_config: LinkConfig | None,
        handler: Handler,
        config: PsemServerConfig | None = None,
        *,
        authorize: Authorizer | None = None,
    ) -> None:
        if link_config is None:
            link_config = LinkConfig(channel_traffic_timeout=DEVICE_CHANNEL_TRAFFIC_TIMEOUT)
        self._link = LinkEndpoint(link_config)
        self._handler = handler
        self._authorize = authorize if authorize is not None else _accept
        self._config = config if config is not None else PsemServerConfig()
        self._session = self._fresh_session()
        # One entry per answer handed to the link, in order: what to do once it is acknowledged.
        self._inflight: deque[Negotiated | str | None] = deque()

    def _fresh_session(self) -> ServerSession:
        cfg = self._link.config
        return ServerSession(
            packet_size=cfg.packet_size, nbr_packets=cfg.nbr_packets, baud_code=self._config.default_baud
        )

    # ----------------------------------------------------------------------------------------- properties

    @property
    def link(self) -> LinkEndpoint:
        """The link endpoint underneath (sizes in force, `LinkStats`)."""
        return self._link

    @property
    def config(self) -> PsemServerConfig:
        return self._config

    @property
    def session(self) -> ServerSession:
        return self._session

    # ----------------------------------------------------------------------------------------- driver API

    def receive_data(self, data: bytes, now: float) -> list[ServerEvent]:
        """Bytes from the line at ``now``; returns the events in order."""
        out: list[ServerEvent] = []
        requests = self._process(self._link.receive_data(data, now), out)
        # Answers go out after everything the link emitted for this chunk (ACKs come first on the line).
        for payload in requests:
            self._answer(payload, now, out)
        return out

    def next_timer(self) -> float | None:
        """When `handle_timer` should next be called, or None."""
        return self._link.next_timer()

    def handle_timer(self, now: float) -> list[ServerEvent]:
        """Run the link's timers due at ``now`` (retransmissions, NAKs, channel traffic timeout)."""
        out: list[ServerEvent] = []
        for payload in self._process(self._link.handle_timer(now), out):
            self._answer(payload, now, out)
        return out

    def reset(self) -> None:
        """End the session at once: link reset, state BASE (no event)."""
        self._link.reset()
        self._inflight.clear()
        self._session = self._fresh_session()

    # ----------------------------------------------------------------------------------------- internals

    def _process(self, events: list[LinkEvent], out: list[ServerEvent]) -> list[bytes]:
        requests: list[bytes] = []
        for event in events:
            if isinstance(event, SendBytes):
                out.append(event)
            elif isinstance(event, MessageReceived):
                requests.append(event.payload)
            elif isinstance(event, MessageSent | LinkFailed):
                if isinstance(event, LinkFailed):
                    out.append(AnswerFailed(event.payload, event.reason))
                action = self._inflight.popleft() if self._inflight else None
                if action == _TERMINATE:
                    self._end("terminate", out)
                elif isinstance(action, Negotiated) and isinstance(event, MessageSent):
                    out.append(action)
            elif isinstance(event, TrafficTimeout):
                self._end("channel traffic timeout", out, link_reset=False)
            # PeerDuplicate / ReceiveError: handled by the link and counted in its stats.
        return requests

    def _end(self, reason: str, out: list[ServerEvent], *, link_reset: bool = True) -> None:
        if link_reset:
            self._link.reset()
        self._inflight.clear()
        self._session = self._fresh_session()
        out.append(SessionEnded(reason))

    def _answer(self, payload: bytes, now: float, out: list[ServerEvent]) -> None:
        try:
            request = decode_request(payload)
        except ChecksumError as exc:
            self._reject(payload, str(exc), ResponseCode.ERR, now, out)
            return
        except ProtocolError as exc:
            known = bool(payload) and request_type(payload[0]) is not None
            self._reject(payload, str(exc), ResponseCode.ERR if known else ResponseCode.SNS, now, out)
            return
        response, action = self._serve(request)
        body = response.encode()
        if len(body) > self._link.max_payload:
            response, action = ErrorResponse(ResponseCode.ONP), None
            body = response.encode()
        out.append(Served(request, response))
        self._send(body, action, now, out)
        if isinstance(action, Negotiated):
            self._link.apply_negotiation(action.packet_size, action.nbr_packets, baud_rate=action.baud_rate)
            self._session = replace(
                self._session,
                packet_size=action.packet_size,
                nbr_packets=action.nbr_packets,
                baud_code=action.baud_code,
            )

    def _reject(self, payload: bytes, reason: str, code: ResponseCode, now: float, out: list[ServerEvent]) -> None:
        response = ErrorResponse(code)
        out.append(Rejected(payload, reason, response))
        self._send(response.encode(), None, now, out)

    def _send(self, body: bytes, action: Negotiated | str | None, now: float, out: list[ServerEvent]) -> None:
        self._inflight.append(action)
        # send_message only ever returns SendBytes (the first packet, when the link is idle).
        out.extend(event for event in self._link.send_message(body, now) if isinstance(event, SendBytes))

    def _serve(self, request: Request) -> tuple[ServiceResponse, Negotiated | str | None]:
        """The answer to a decoded request and what to do once it is acknowledged; updates the state."""
        session = self._session
        state = session.state
        isss = ErrorResponse(ResponseCode.ISSS)
        if isinstance(request, Terminate):
            return OkResponse(), _TERMINATE
        if isinstance(request, Identify):
            if state is SessionState.LOGGED_ON:
                return isss, None
            self._session = replace(session, state=SessionState.IDENTIFIED)
            return self._config.identify, None
        if isinstance(request, Negotiate):
            if state is not SessionState.IDENTIFIED:
                return isss, None
            return self._negotiate(request)
        if isinstance(request, Logon):
            if state is not SessionState.IDENTIFIED:
                return isss, None
            answer = self._authorize(request, session)
            if answer.ok:
                self._session = replace(
                    session, state=SessionState.LOGGED_ON, user_id=request.user_id, user=request.user, password=None
                )
            return answer, None
        if isinstance(request, Security):
            if state is not SessionState.LOGGED_ON:
                return isss, None
            answer = self._authorize(request, session)
            if answer.ok:
                self._session = replace(session, password=request.password)
            return answer, None
        if isinstance(request, Logoff):
            if state is not SessionState.LOGGED_ON:
                return isss, None
            self._session = replace(session, state=SessionState.IDENTIFIED, user_id=None, user=None, password=None)
            return OkResponse(), None
        if isinstance(request, Wait):
            return (isss if state is SessionState.BASE else OkResponse()), None
        if isinstance(request, ReadRequest | WriteRequest):
            if state is not SessionState.LOGGED_ON:
                return isss, None
            return self._handler(request, session), None
        return ErrorResponse(ResponseCode.SNS), None

    def _negotiate(self, request: Negotiate) -> tuple[ServiceResponse, Negotiated | None]:
        cfg = self._config
        packet_size = min(request.packet_size, cfg.max_packet_size)
        nbr_packets = min(request.nbr_packets, cfg.max_nbr_packets)
        if packet_size < MIN_PACKET_SIZE or nbr_packets < 1:
            return ErrorResponse(ResponseCode.IAR), None
        baud = next((code for code in request.bauds if code in cfg.bauds), self._session.baud_code)
        return NegotiateResponse(packet_size, nbr_packets, baud), Negotiated(packet_size, nbr_packets, baud)
