"""Events of the C12.22 association core, and the small value types they carry.

`Association.receive` and `Association.handle_timer` return lists of these; none is an exception.
Titles are kept as received (relative or absolute); compare them with `ApTitle.absolute`.
Times are seconds on the driver's clock (the ``now`` passed in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from openami.c1222.acse import AeQualifier, Message
from openami.c1222.aptitle import ApTitle
from openami.c1222.epsem import EpsemControl, ResponseControl
from openami.c1222.security import Refusal, SecurityMode
from openami.c1222.services import Request, Response

__all__ = [
    "BadMac",
    "DuplicateRequest",
    "Envelope",
    "Event",
    "FailReason",
    "Misaddressed",
    "ProtocolViolation",
    "ReplayRefused",
    "RequestFailed",
    "RequestPresumedOk",
    "RequestReceived",
    "ResponseReceived",
    "ResponseRefused",
    "Role",
    "SecurityContext",
    "SessionEndReason",
    "SessionEnded",
    "SessionInfo",
    "SessionStarted",
    "Transmit",
    "UnknownKey",
]


class Role(StrEnum):
    """Which side of an exchange an event concerns."""

    CLIENT = "client"
    SERVER = "server"


class SessionEndReason(StrEnum):
    """Why a session ended."""

    LOGOFF = "logoff"
    TERMINATE = "terminate"
    IDLE = "idle"  # no traffic for the negotiated session idle timeout


class FailReason(StrEnum):
    """Why a request got no usable answer."""

    TIMEOUT = "timeout"  # no response after the last retry
    BAD_RESPONSE = "bad-response"  # the response verified but its services do not decode


@dataclass(frozen=True, kw_only=True)
class Envelope:
    """A verified (and decrypted) message: its ACSE header and how it was secured.

    ``key_id``/``iv`` are the values the MAC was computed with (None in mode 0); ``ed_class`` the
    4-byte ED class if the EPSEM carried one.
    """

    message: Message
    control: EpsemControl
    key_id: int | None = None
    iv: bytes | None = None
    ed_class: bytes | None = None

    @property
    def security_mode(self) -> SecurityMode:
        return self.control.security_mode

    @property
    def response_control(self) -> ResponseControl:
        return self.control.response_control

    @property
    def calling(self) -> ApTitle | None:
        return self.message.calling

    @property
    def called(self) -> ApTitle | None:
        return self.message.called

    @property
    def ae_qualifier(self) -> AeQualifier | None:
        return self.message.calling_ae_qualifier


@dataclass(frozen=True, kw_only=True)
class SessionInfo:
    """A snapshot of one session: ``idle_timeout`` in seconds (None: no expiry known).

    ``authenticated``/``access`` reflect the last successful Security service (``access`` is what the
    server's authenticator returned, e.g. ST42 access-group bits).
    """

    peer: ApTitle
    user_id: int
    user: bytes
    idle_timeout: int | None
    started_at: float
    authenticated: bool = False
    access: int | None = None


@dataclass(frozen=True, kw_only=True)
class SecurityContext:
    """The clearance a request is served under (server side).

    ``user_id`` comes from the session's Logon, or from a sessionless Security service;
    ``authenticated`` is True when a Security service in the session or in this EPSEM succeeded
    (before the first application service of the EPSEM).
    """

    envelope: Envelope
    user_id: int | None = None
    authenticated: bool = False
    access: int | None = None
    in_session: bool = False

    @property
    def security_mode(self) -> SecurityMode:
        return self.envelope.security_mode

    @property
    def key_id(self) -> int | None:
        return self.envelope.key_id


# ------------------------------------------------------------------------------------------ events


@dataclass(frozen=True, kw_only=True)
class Transmit:
    """Bytes (one APDU) to send to ``peer``: a retry of request ``invocation_id`` (``attempt`` ≥ 2) or
    a cached response re-sent to a duplicate request (``invocation_id`` = the request's A8)."""

    peer: ApTitle
    data: bytes
    invocation_id: int | None = None
    attempt: int = 1


@dataclass(frozen=True, kw_only=True)
class ResponseReceived:
    """A verified response to our request ``invocation_id``: one `Response` per request, in order
    (fewer only when the peer stopped at an error). A sessionless Security followed by other services
    that the peer answered by omission (as the standard's Example 8 does) shows as `OkResponse`."""

    peer: ApTitle
    invocation_id: int
    requests: tuple[Request, ...]
    responses: tuple[Response, ...]
    envelope: Envelope

    @property
    def ok(self) -> bool:
        """True when every request got an ok response."""
        return len(self.responses) == len(self.requests) and all(r.ok for r in self.responses)


@dataclass(frozen=True, kw_only=True)
class RequestFailed:
    """Request ``invocation_id`` got no usable answer after ``attempts`` transmissions."""

    peer: ApTitle
    invocation_id: int
    reason: FailReason
    attempts: int
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class RequestPresumedOk:
    """A request sent with response control 'on exception' got no exception within the timeout."""

    peer: ApTitle
    invocation_id: int


@dataclass(frozen=True, kw_only=True)
class RequestReceived:
    """A verified request for the application. ``requests`` are the services it must answer, in order
    (session services — Logon, Security, Logoff, Terminate, Wait — and services refused with ISSS are
    answered by the core); answer with ``Association.respond(event, responses, now)``.
    """

    peer: ApTitle
    invocation_id: int
    requests: tuple[Request, ...]
    security: SecurityContext
    session: SessionInfo | None
    envelope: Envelope
    # one entry per service of the EPSEM: the core's response, or None where the application answers
    core_responses: tuple[Response | None, ...] = field(repr=False)
    # services whose (ok) response is left out of the answer: a sessionless Security followed by others
    implied: frozenset[int] = field(default=frozenset(), repr=False)


@dataclass(frozen=True, kw_only=True)
class DuplicateRequest:
    """The exact bytes of a request already received came again (a retry); the cached response, if
    any, is re-sent through a `Transmit` event; the request is not handed to the application again."""

    peer: ApTitle
    invocation_id: int


@dataclass(frozen=True, kw_only=True)
class BadMac:
    """A message whose MAC did not verify under key ``key_id`` (dropped; counted in ``stats.bad_mac``)."""

    peer: ApTitle | None
    key_id: int


@dataclass(frozen=True, kw_only=True)
class UnknownKey:
    """A secured message naming a key id we hold no key for (dropped; ``stats.unknown_key``)."""

    peer: ApTitle | None
    key_id: int


@dataclass(frozen=True, kw_only=True)
class ReplayRefused:
    """A verified message refused by the replay guard (dropped; ``stats.replays``)."""

    peer: ApTitle
    reason: Refusal
    invocation_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class ResponseRefused:
    """A verified response that fails a client check (no such outstanding request, titles not swapped,
    cleartext or weaker answer to a secured request, other key id); the request stays outstanding."""

    peer: ApTitle | None
    invocation_id: int | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class ProtocolViolation:
    """Bytes that break the protocol (malformed APDU, missing mandatory element, undecodable
    response). The driver closes this association (connection) only."""

    detail: str
    peer: ApTitle | None = None


@dataclass(frozen=True, kw_only=True)
class Misaddressed:
    """A message whose called title is not ours; hand ``data`` to a `Relay` or drop it."""

    called: ApTitle
    calling: ApTitle | None
    data: bytes


@dataclass(frozen=True, kw_only=True)
class SessionStarted:
    """A session opened (server: Logon accepted; client: ok response to our Logon)."""

    role: Role
    session: SessionInfo


@dataclass(frozen=True, kw_only=True)
class SessionEnded:
    """A session closed (Logoff, Terminate or idle timeout)."""

    role: Role
    peer: ApTitle
    reason: SessionEndReason


Event = (
    Transmit
    | ResponseReceived
    | RequestFailed
    | RequestPresumedOk
    | RequestReceived
    | DuplicateRequest
    | BadMac
    | UnknownKey
    | ReplayRefused
    | ResponseRefused
    | ProtocolViolation
    | Misaddressed
    | SessionStarted
    | SessionEnded
)
"""Every event the core emits."""
