"""C12.22 sessions: the server's session state machine and the client's view of its sessions.

Server (one session per peer ApTitle)::

    (none) --Logon ok--> OPEN --Logoff / Terminate / idle timeout--> (none)

Session services are answered by the core, in EPSEM order (c12-protocol-facts.md §3):

- Logon ``50 user-id:2 user:10 [idle:2]`` → ``00 idle:2`` (granted seconds: 0 or absent asks for
  the default, anything else is capped at the maximum); ISSS if a session is already open, BSY when
  the session table is full.
- Security ``51 password:20 [user-id:2]`` → ``00`` if the authenticator accepts (user id from the
  service, else from the Logon), else ``01`` ERR (our choice: the public tables give no code for a
  wrong password). In a session it authenticates the session; without one (the sessionless
  "Security + service" EPSEM) it covers the services of that EPSEM only, and when it succeeds and
  other services follow it gets **no response element of its own**: the standard's Example 8
  (c12-protocol-facts.md §4, V7) answers Security + Read with the read response alone. (This
  contradicts the facts' "one response per service"; the published bytes win.)
- Logoff → ``00`` and the session closes; ISSS without a session.
- Terminate → ``00``; closes the session if there is one.
- Wait ``70 seconds:1`` → ``00`` and the session lives at least that long; ISSS without a session.
- Any other service goes to the application; without a session and with sessionless access
  disallowed it is answered ISSS instead.

Any request from the peer while its session is open restarts the idle timer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from openami.c1222.aptitle import ApTitle
from openami.c1222.codes import ResponseCode
from openami.c1222.services import (
    ErrorResponse,
    Logoff,
    Logon,
    LogonResponse,
    OkResponse,
    Request,
    Response,
    Security,
    Terminate,
    Wait,
)

from .config import AssociationConfig
from .events import (
    Envelope,
    Event,
    Role,
    SecurityContext,
    SessionEnded,
    SessionEndReason,
    SessionInfo,
    SessionStarted,
)

__all__ = ["ClientSession", "ClientSessions", "ServerSessions", "SessionOutcome", "SessionState"]


class SessionState(StrEnum):
    """A client session's state."""

    OPENING = "opening"  # Logon sent, no answer yet
    OPEN = "open"
    CLOSED = "closed"


@dataclass
class ClientSession:
    """The client's view of a session with ``peer`` (kept up to date by the core).

    ``expires_at`` is a conservative estimate of when the server drops the session: the time of our
    last request plus the granted idle timeout (None while unknown or if the server granted none).
    """

    peer: ApTitle
    user_id: int
    user: bytes
    state: SessionState = SessionState.OPENING
    idle_timeout: int | None = None
    started_at: float = 0.0
    expires_at: float | None = None

    def info(self) -> SessionInfo:
        return SessionInfo(
            peer=self.peer,
            user_id=self.user_id,
            user=self.user,
            idle_timeout=self.idle_timeout,
            started_at=self.started_at,
        )


@dataclass
class _ServerSession:
    peer: ApTitle
    user_id: int
    user: bytes
    idle_timeout: int
    started_at: float
    expires_at: float
    key_id: int | None = None  # key material of the Logon message, for later messages without AC
    iv: bytes | None = None
    authenticated: bool = False
    access: int | None = None
    security_user_id: int | None = None

    def info(self) -> SessionInfo:
        return SessionInfo(
            peer=self.peer,
            user_id=self.user_id,
            user=self.user,
            idle_timeout=self.idle_timeout,
            started_at=self.started_at,
            authenticated=self.authenticated,
            access=self.access,
        )


@dataclass(frozen=True)
class SessionOutcome:
    """What `ServerSessions.process` decided for one EPSEM: per service the core's response or None
    (the application answers), the services whose ok is implied (left out of the response), the
    application's requests, the clearance, and session events."""

    slots: tuple[Response | None, ...]
    implied: frozenset[int]
    app_requests: tuple[Request, ...]
    security: SecurityContext
    session: SessionInfo | None
    events: tuple[Event, ...]


@dataclass
class _Clearance:
    user_id: int | None = None
    authenticated: bool = False
    access: int | None = None


def _isss() -> ErrorResponse:
    return ErrorResponse(ResponseCode.ISSS)


class ServerSessions:
    """The server's sessions, keyed by the peer's title key (see `wire.title_key`)."""

    def __init__(self, config: AssociationConfig) -> None:
        self._config = config
        self._sessions: dict[str, _ServerSession] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def info(self, key: str) -> SessionInfo | None:
        session = self._sessions.get(key)
        return None if session is None else session.info()

    def key_material(self, key: str) -> tuple[int | None, bytes | None]:
        """Key id and IV of the session's Logon message (for messages without AC)."""
        session = self._sessions.get(key)
        return (None, None) if session is None else (session.key_id, session.iv)

    def touch(self, key: str, now: float) -> None:
        """Restart the idle timer of ``key``'s session (if any)."""
        session = self._sessions.get(key)
        if session is not None:
            session.expires_at = max(session.expires_at, now + session.idle_timeout)

    def next_expiry(self) -> float | None:
        return min((s.expires_at for s in self._sessions.values()), default=None)

    def expire(self, now: float) -> list[Event]:
        """Drop every session idle past its timeout; one `SessionEnded` (IDLE) each, oldest first."""
        due = sorted((s.expires_at, k) for k, s in self._sessions.items() if s.expires_at <= now)
        events: list[Event] = []
        for _, key in due:
            session = self._sessions.pop(key)
            events.append(SessionEnded(role=Role.SERVER, peer=session.peer, reason=SessionEndReason.IDLE))
        return events

    def process(
        self,
        key: str,
        peer: ApTitle,
        items: Sequence[Request | Response],
        envelope: Envelope,
        now: float,
    ) -> SessionOutcome:
        """Run the session services of one EPSEM. ``items`` holds the decoded requests, or a ready
        response where a service did not decode."""
        self.touch(key, now)
        events: list[Event] = []
        slots: list[Response | None] = []
        app: list[Request] = []
        local = _Clearance()  # sessionless Security of this EPSEM
        security: SecurityContext | None = None
        implied: set[int] = set()
        for index, item in enumerate(items):
            session = self._sessions.get(key)
            if isinstance(item, Response):
                slots.append(item)
            elif isinstance(item, Logon):
                slots.append(self._logon(key, peer, item, envelope, now, events))
            elif isinstance(item, Security):
                answer = self._security(session, item, local)
                slots.append(answer)
                if session is None and answer.ok and index < len(items) - 1:
                    implied.add(index)
            elif isinstance(item, Logoff | Terminate):
                if session is None:
                    slots.append(OkResponse() if isinstance(item, Terminate) else _isss())
                    continue
                del self._sessions[key]
                reason = SessionEndReason.LOGOFF if isinstance(item, Logoff) else SessionEndReason.TERMINATE
                events.append(SessionEnded(role=Role.SERVER, peer=session.peer, reason=reason))
                slots.append(OkResponse())
            elif isinstance(item, Wait):
                if session is None:
                    slots.append(_isss())
                else:
                    session.expires_at = max(session.expires_at, now + item.seconds)
                    slots.append(OkResponse())
            elif session is None and not self._config.allow_sessionless:
                slots.append(_isss())
            else:
                if security is None:
                    security = self._context(session, local, envelope)
                slots.append(None)
                app.append(item)
        if security is None:
            security = self._context(self._sessions.get(key), local, envelope)
        current = self._sessions.get(key)
        return SessionOutcome(
            slots=tuple(slots),
            implied=frozenset(implied),
            app_requests=tuple(app),
            security=security,
            session=None if current is None else current.info(),
            events=tuple(events),
        )

    def _logon(
        self, key: str, peer: ApTitle, logon: Logon, envelope: Envelope, now: float, events: list[Event]
    ) -> Response:
        config = self._config
        if key in self._sessions:
            return _isss()
        if len(self._sessions) >= config.max_sessions:
            return ErrorResponse(ResponseCode.BSY)
        asked = logon.session_idle_timeout
        granted = config.default_idle_timeout if not asked else min(asked, config.max_idle_timeout)
        session = _ServerSession(
            peer=peer,
            user_id=logon.user_id,
            user=logon.user,
            idle_timeout=granted,
            started_at=now,
            expires_at=now + granted,
            key_id=envelope.key_id,
            iv=envelope.iv,
        )
        self._sessions[key] = session
        events.append(SessionStarted(role=Role.SERVER, session=session.info()))
        return LogonResponse(granted)

    def _security(self, session: _ServerSession | None, security: Security, local: _Clearance) -> Response:
        user_id = security.user_id
        if user_id is None and session is not None:
            user_id = session.user_id
        check = self._config.authenticator
        access = None if check is None else check(user_id, security.password)
        if access is None:
            return ErrorResponse(ResponseCode.ERR)
        if session is not None:
            session.authenticated, session.access, session.security_user_id = True, access, user_id
        else:
            local.user_id, local.authenticated, local.access = user_id, True, access
        return OkResponse()

    @staticmethod
    def _context(session: _ServerSession | None, local: _Clearance, envelope: Envelope) -> SecurityContext:
        if session is not None:
            user_id = session.security_user_id if session.authenticated else session.user_id
            return SecurityContext(
                envelope=envelope,
                user_id=user_id,
                authenticated=session.authenticated,
                access=session.access,
                in_session=True,
            )
        return SecurityContext(
            envelope=envelope,
            user_id=local.user_id,
            authenticated=local.authenticated,
            access=local.access,
        )

    def __iter__(self) -> Iterator[SessionInfo]:
        return (s.info() for s in self._sessions.values())


class ClientSessions:
    """The client's sessions, keyed by the peer's title key, updated from what we send and receive.

    A Logon we send opens a session (OPENING); its ok response makes it OPEN with the granted idle
    timeout; an ok answer to Logoff or Terminate, a refused Logon, a failed Logon request or the
    estimated idle expiry close it.
    """

    def __init__(self) -> None:
        self._sessions: dict[str, ClientSession] = {}

    def get(self, key: str) -> ClientSession | None:
        return self._sessions.get(key)

    def sent(self, key: str, peer: ApTitle, requests: Sequence[Request], now: float) -> None:
        """We sent ``requests`` to ``peer`` at ``now``."""
        logon = next((r for r in requests if isinstance(r, Logon)), None)
        current = self._sessions.get(key)
        if logon is not None and current is None:
            self._sessions[key] = ClientSession(peer=peer, user_id=logon.user_id, user=logon.user, started_at=now)
        elif current is not None and current.state is SessionState.OPEN and current.idle_timeout:
            current.expires_at = now + current.idle_timeout

    def failed(self, key: str, requests: Sequence[Request]) -> None:
        """``requests`` got no usable answer: a session still opening through them is dropped."""
        session = self._sessions.get(key)
        opening = session is not None and session.state is SessionState.OPENING
        if opening and any(isinstance(r, Logon) for r in requests):
            self._close(key)

    def answered(
        self, key: str, requests: Sequence[Request], responses: Sequence[Response], first_sent: float
    ) -> list[Event]:
        """Responses arrived for ``requests`` (first sent at ``first_sent``); session events."""
        events: list[Event] = []
        for request, response in zip(requests, responses, strict=False):
            session = self._sessions.get(key)
            if session is None:
                break
            if isinstance(request, Logon) and session.state is SessionState.OPENING:
                if not response.ok:
                    self._close(key)
                    break
                timeout = response.session_idle_timeout if isinstance(response, LogonResponse) else None
                session.state = SessionState.OPEN
                session.idle_timeout = timeout
                session.started_at = first_sent
                session.expires_at = None if not timeout else first_sent + timeout
                events.append(SessionStarted(role=Role.CLIENT, session=session.info()))
            elif isinstance(request, Logoff | Terminate) and response.ok and session.state is SessionState.OPEN:
                self._close(key)
                reason = SessionEndReason.LOGOFF if isinstance(request, Logoff) else SessionEndReason.TERMINATE
                events.append(SessionEnded(role=Role.CLIENT, peer=session.peer, reason=reason))
        return events

    def next_expiry(self) -> float | None:
        return min((s.expires_at for s in self._sessions.values() if s.expires_at is not None), default=None)

    def expire(self, now: float) -> list[Event]:
        """Close every session whose estimated expiry has come; one `SessionEnded` (IDLE) each."""
        due = sorted(
            (s.expires_at, k) for k, s in self._sessions.items() if s.expires_at is not None and s.expires_at <= now
        )
        events: list[Event] = []
        for _, key in due:
            session = self._close(key)
            events.append(SessionEnded(role=Role.CLIENT, peer=session.peer, reason=SessionEndReason.IDLE))
        return events

    def _close(self, key: str) -> ClientSession:
        session = self._sessions.pop(key)
        session.state = SessionState.CLOSED
        return session
