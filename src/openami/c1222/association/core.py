"""The C12.22 association core: one sans-IO state machine for both roles of a node.

Client: `Association.request` builds a sealed request APDU and remembers it under its calling AP
invocation id (A8); `receive` matches the response by its called AP invocation id (A4) and checks it
(c12-protocol-facts.md §1): A4 equal to our A8, titles swapped (its called title is ours, its calling
title the peer we asked), no weaker security mode than the request's (a cleartext answer to a
secured request is refused), same key id, MAC verified, IV not replayed. Retries and timeouts run on
`next_timer` / `handle_timer`: a request is re-sent unchanged (same bytes, same A8) after
``response_timeout`` seconds, at most ``retries`` times, then fails.

Server: `receive` verifies a request (MAC, replay guard on key id + IV + A8), runs the session
services (see `session`) and hands the rest to the application as `RequestReceived`; the application
answers with `respond`, which seals the response like the request (same mode and key id, a fresh IV,
A4 = the request's A8) and honours the EPSEM response control (never → no bytes; on exception → bytes
only when some response is not ok). An identical copy of a recent request (a client's retry) is not
executed twice: its cached response is sent again.

Pairing responses with requests: one response per request service, in order; fewer only when the
last one given is an error (the peer stopped there), or when a Security followed by other services
was answered by omission (the standard's Example 8 answers Security + Read with the read response
alone; this server does the same for a successful sessionless Security, and the client then reports
that Security as `OkResponse`).

Nothing here reads a clock: every entry point takes ``now`` (seconds, the driver's clock; IVs are
derived from it, so a wall clock in seconds since 1970 is expected when IVs are time-based).
Bad bytes from a peer never raise: they become events (`ProtocolViolation`, `BadMac`, ...);
`LocalProtocolError` is raised only for misuse of the API.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from openami.c1222 import protect
from openami.c1222.acse import AeQualifier, Message
from openami.c1222.aptitle import ApTitle
from openami.c1222.codes import ResponseCode
from openami.c1222.epsem import EpsemControl, ResponseControl
from openami.c1222.security import Refusal, ReplayError, SecurityMode
from openami.c1222.services import ErrorResponse, Request, Response, decode_request, request_type
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

from .config import AssociationConfig, Stats
from .dedup import RecentRequests
from .events import (
    BadMac,
    DuplicateRequest,
    Envelope,
    Event,
    FailReason,
    Misaddressed,
    ProtocolViolation,
    ReplayRefused,
    RequestFailed,
    RequestPresumedOk,
    RequestReceived,
    ResponseReceived,
    ResponseRefused,
    SessionInfo,
    Transmit,
    UnknownKey,
)
from .session import ClientSession, ClientSessions, ServerSessions
from .wire import build_apdu, carried_iv, classify_services, decode_responses, fit_response, same_title, title_key

__all__ = ["MAX_INVOCATION_ID", "Association"]

MAX_INVOCATION_ID = 0xFFFFFFFF
"""Invocation ids (A8) count 0..2**32-1 and wrap."""

Buf = bytes | bytearray | memoryview


def _check_now(now: float) -> None:
    if not isinstance(now, int | float) or not math.isfinite(now):
        raise LocalProtocolError(f"now must be a finite number of seconds, got {now!r}")


@dataclass
class _Pending:
    invocation_id: int
    peer: ApTitle
    peer_key: str
    requests: tuple[Request, ...]
    data: bytes
    mode: SecurityMode
    key_id: int | None
    iv: bytes | None
    response_control: ResponseControl
    first_sent: float
    deadline: float
    attempts: int = 1


class Association:
    """A C12.22 node's association core (client and server). See the module docstring."""

    def __init__(self, config: AssociationConfig, *, first_invocation_id: int = 1) -> None:
        """``first_invocation_id``: the first A8 used (persist `next_invocation_id` across restarts so
        peers' replay guards do not refuse reused ids)."""
        if not 0 <= first_invocation_id <= MAX_INVOCATION_ID:
            raise LocalProtocolError(f"invocation id must be 0..{MAX_INVOCATION_ID}, got {first_invocation_id}")
        self.config = config
        self.stats = Stats()
        self._next_id = first_invocation_id
        self._pending: dict[int, _Pending] = {}
        self._sessions = ServerSessions(config)
        self._client_sessions = ClientSessions()
        self._awaiting: dict[tuple[str, int], RequestReceived] = {}
        self._recent = RecentRequests(config.duplicate_window, config.max_duplicates)

    # ------------------------------------------------------------------------------------- queries

    @property
    def next_invocation_id(self) -> int:
        """The A8 the next message will carry (unless that id is still outstanding)."""
        return self._next_id

    @property
    def outstanding(self) -> tuple[int, ...]:
        """Invocation ids of our requests still waiting for an answer."""
        return tuple(self._pending)

    def client_session(self, peer: ApTitle) -> ClientSession | None:
        """Our (client) session with ``peer``, opening or open, or None."""
        return self._client_sessions.get(title_key(peer, self.config.base))

    def server_session(self, peer: ApTitle) -> SessionInfo | None:
        """A snapshot of ``peer``'s session with us (server side), or None."""
        return self._sessions.info(title_key(peer, self.config.base))

    def server_sessions(self) -> tuple[SessionInfo, ...]:
        """Snapshots of every open server-side session."""
        return tuple(self._sessions)

    # ------------------------------------------------------------------------------------- client

    def request(
        self,
        peer: ApTitle,
        services: Sequence[Request],
        *,
        now: float,
        mode: SecurityMode | None = None,
        key_id: int | None = None,
        response_control: ResponseControl = ResponseControl.ALWAYS,
        ae_qualifier: AeQualifier | None = None,
        session: ClientSession | None = None,
    ) -> tuple[int, bytes]:
        """Build a request to ``peer`` carrying ``services`` in one EPSEM; returns ``(invocation id,
        APDU bytes to send)``.

        ``mode``/``key_id`` default to the configuration's. ``session``, if given, must be our
        current session with ``peer`` (`client_session`): a request into a session that has ended
        raises instead of going out. Response control 'never': nothing is awaited; 'on exception':
        no retries, and silence until the timeout gives `RequestPresumedOk`.
        Raises `LocalProtocolError` (bad arguments, unknown key id, APDU over ``max_apdu_size``).
        """
        _check_now(now)
        config = self.config
        if not isinstance(peer, ApTitle):
            raise LocalProtocolError(f"peer must be an ApTitle, got {peer!r}")
        requests = tuple(services)
        if not requests or not all(isinstance(r, Request) for r in requests):
            raise LocalProtocolError("a request needs at least one service, each a services.Request")
        try:
            security = SecurityMode(config.security_mode if mode is None else mode)
            control = ResponseControl(response_control)
        except ValueError as exc:
            raise LocalProtocolError(str(exc)) from None
        secured = security is not SecurityMode.CLEARTEXT
        kid = config.key_id if key_id is None else key_id
        if secured and (kid is None or kid not in config.keys):
            raise LocalProtocolError(f"security mode {security.name} needs a key id held in the key store, got {kid}")
        peer_key = title_key(peer, config.base)
        if session is not None and self._client_sessions.get(peer_key) is not session:
            raise LocalProtocolError(f"session with {session.peer} has ended ({session.state}) or is not with {peer}")
        invocation_id = self._allocate_id()
        iv = config.iv_source.next_iv(now) if secured else None
        data = build_apdu(
            called=peer,
            calling=config.ap_title,
            calling_invocation_id=invocation_id,
            services=[r.encode() for r in requests],
            control=EpsemControl(
                security_mode=security, response_control=control, ed_class_included=config.ed_class is not None
            ),
            keys=config.keys,
            key_id=kid if secured else None,
            iv=iv,
            ed_class=config.ed_class,
            ae_qualifier=ae_qualifier,
            application_context=config.application_context,
            base=config.base,
        )
        if len(data) > config.max_apdu_size:
            raise LocalProtocolError(f"request APDU of {len(data)} bytes exceeds max_apdu_size {config.max_apdu_size}")
        if control is not ResponseControl.NEVER:
            self._pending[invocation_id] = _Pending(
                invocation_id=invocation_id,
                peer=peer,
                peer_key=peer_key,
                requests=requests,
                data=data,
                mode=security,
                key_id=kid if secured else None,
                iv=iv,
                response_control=control,
                first_sent=now,
                deadline=now + config.response_timeout,
            )
        self._client_sessions.sent(peer_key, peer, requests, now)
        self.stats.requests_sent += 1
        return invocation_id, data

    def cancel(self, invocation_id: int) -> bool:
        """Stop waiting for request ``invocation_id`` (a late answer is then refused); False if unknown."""
        return self._pending.pop(invocation_id, None) is not None

    # ------------------------------------------------------------------------------------- server

    def respond(self, request: RequestReceived, responses: Sequence[Response], now: float) -> bytes | None:
        """Answer ``request`` (a `RequestReceived` from this core, once): one `Response` per entry of
        ``request.requests``, in order. Returns the APDU to send, or None when the request's response
        control says not to answer. Responses that make the APDU exceed ``max_apdu_size`` are
        replaced by RSTL. Raises `LocalProtocolError` on misuse."""
        _check_now(now)
        config = self.config
        peer_key = title_key(request.peer, config.base)
        key = (peer_key, request.invocation_id)
        if self._awaiting.get(key) is not request:
            raise LocalProtocolError("not a request awaiting an answer from this core (answered already?)")
        answers = tuple(responses)
        if len(answers) != len(request.requests) or not all(isinstance(r, Response) for r in answers):
            raise LocalProtocolError(f"need {len(request.requests)} services.Response objects, got {answers!r}")
        feed = iter(answers)
        full = [slot if slot is not None else next(feed) for slot in request.core_responses]
        sent = [r for i, r in enumerate(full) if i not in request.implied]
        envelope = request.envelope
        rc = envelope.response_control
        send = rc is ResponseControl.ALWAYS or (rc is ResponseControl.ON_EXCEPTION and not all(r.ok for r in full))
        data: bytes | None = None
        if send:
            mode = envelope.security_mode
            secured = mode is not SecurityMode.CLEARTEXT
            own_id = self._allocate_id()
            iv = config.iv_source.next_iv(now) if secured else None
            control = EpsemControl(security_mode=mode, ed_class_included=config.ed_class is not None)

            def build(current: Sequence[Response]) -> bytes:
                return build_apdu(
                    called=request.peer,
                    calling=config.ap_title,
                    calling_invocation_id=own_id,
                    called_invocation_id=request.invocation_id,
                    services=[r.encode() for r in current],
                    control=control,
                    keys=config.keys,
                    key_id=envelope.key_id if secured else None,
                    iv=iv,
                    ed_class=config.ed_class,
                    application_context=config.application_context,
                    base=config.base,
                )

            data = fit_response(build, sent, config.max_apdu_size)
            self.stats.responses_sent += 1
        del self._awaiting[key]
        self._recent.answered(key, data)
        self._sessions.touch(peer_key, now)
        return data

    def drop(self, request: RequestReceived) -> None:
        """Forget ``request`` without answering (a retry of it then gets no answer either)."""
        key = (title_key(request.peer, self.config.base), request.invocation_id)
        if self._awaiting.get(key) is request:
            del self._awaiting[key]

    # ------------------------------------------------------------------------------------- input

    def receive(self, data: Buf, now: float) -> list[Event]:
        """Handle one received APDU (exactly one: split TCP streams with `framing.MessageSplitter`).

        Returns events; never raises for bad bytes (only `LocalProtocolError` for a bad ``now``).
        """
        _check_now(now)
        raw = bytes(data)
        try:
            return self._receive(raw, now)
        except ProtocolError as exc:  # a decoder corner the steps below did not anticipate
            return [self._violation(f"undecodable message: {exc}", None)]

    def next_timer(self) -> float | None:
        """When `handle_timer` next has work (retry, timeout, session expiry), or None."""
        times = [p.deadline for p in self._pending.values()]
        times += [t for t in (self._sessions.next_expiry(), self._client_sessions.next_expiry()) if t is not None]
        return min(times, default=None)

    def handle_timer(self, now: float) -> list[Event]:
        """Run what is due at ``now``: `Transmit` retries, `RequestFailed` / `RequestPresumedOk`
        after the last one, `SessionEnded` (IDLE) for expired sessions of either role."""
        _check_now(now)
        config = self.config
        events: list[Event] = []
        due = sorted((p.deadline, p.invocation_id) for p in self._pending.values() if p.deadline <= now)
        for _, invocation_id in due:
            pending = self._pending[invocation_id]
            if pending.response_control is ResponseControl.ON_EXCEPTION:
                del self._pending[invocation_id]
                events.append(RequestPresumedOk(peer=pending.peer, invocation_id=invocation_id))
            elif pending.attempts <= config.retries:  # re-send the same bytes
                pending.attempts += 1
                pending.deadline = now + config.response_timeout
                self.stats.retransmissions += 1
                events.append(
                    Transmit(
                        peer=pending.peer, data=pending.data, invocation_id=invocation_id, attempt=pending.attempts
                    )
                )
            else:
                del self._pending[invocation_id]
                self.stats.requests_failed += 1
                self._client_sessions.failed(pending.peer_key, pending.requests)
                events.append(
                    RequestFailed(
                        peer=pending.peer,
                        invocation_id=invocation_id,
                        reason=FailReason.TIMEOUT,
                        attempts=pending.attempts,
                        detail=f"no response after {pending.attempts} transmissions",
                    )
                )
        events += self._sessions.expire(now)
        events += self._client_sessions.expire(now)
        self._recent.purge(now)
        return events

    # ------------------------------------------------------------------------------------- internals

    def _allocate_id(self) -> int:
        for _ in range(len(self._pending) + 1):
            value = self._next_id
            self._next_id = 0 if value >= MAX_INVOCATION_ID else value + 1
            if value not in self._pending:
                return value
        raise LocalProtocolError("no free invocation id")  # unreachable: pending holds fewer ids than tried

    def _violation(self, detail: str, peer: ApTitle | None) -> ProtocolViolation:
        self.stats.violations += 1
        return ProtocolViolation(detail=detail, peer=peer)

    def _refuse(self, peer: ApTitle | None, invocation_id: int | None, reason: str) -> list[Event]:
        self.stats.refused_responses += 1
        return [ResponseRefused(peer=peer, invocation_id=invocation_id, reason=reason)]

    def _receive(self, raw: bytes, now: float) -> list[Event]:
        config = self.config
        if len(raw) > config.max_apdu_size:
            return [self._violation(f"APDU of {len(raw)} bytes exceeds max_apdu_size {config.max_apdu_size}", None)]
        try:
            message = Message.decode(raw)
        except ProtocolError as exc:
            return [self._violation(f"malformed APDU: {exc}", None)]
        peer = message.calling
        if message.called is not None and not same_title(message.called, config.ap_title, config.base):
            self.stats.misaddressed += 1
            return [Misaddressed(called=message.called, calling=peer, data=raw)]
        if peer is None:
            return [self._violation("message without calling AP title (A6)", None)]
        peer_key = title_key(peer, config.base)
        duplicate = self._duplicate(peer, peer_key, message, raw, now)
        if duplicate is not None:
            return duplicate
        pending = None if message.called_invocation_id is None else self._pending.get(message.called_invocation_id)
        if pending is not None and pending.peer_key == peer_key:
            fallback_key, fallback_iv = pending.key_id, pending.iv
        else:
            fallback_key, fallback_iv = self._sessions.key_material(peer_key)
        try:
            opened = protect.open(message, config.keys, fallback_key, fallback_iv, base=config.base)
        except protect.MessageMacError as exc:
            self.stats.bad_mac += 1
            return [BadMac(peer=peer, key_id=exc.key_id)]
        except protect.UnknownKeyError as exc:
            self.stats.unknown_key += 1
            return [UnknownKey(peer=peer, key_id=exc.key_id)]
        except ProtocolError as exc:
            return [self._violation(f"cannot open message: {exc}", peer)]
        envelope = Envelope(
            message=message, control=opened.control, key_id=opened.key_id, iv=opened.iv, ed_class=opened.ed_class
        )
        try:
            is_response = classify_services(opened.services)
        except RemoteProtocolError as exc:
            return [self._violation(str(exc), peer)]
        if is_response:
            return self._on_response(peer, peer_key, opened.services, envelope, now)
        return self._on_request(peer, peer_key, opened.services, envelope, raw, now)

    def _admit(
        self, peer: ApTitle, peer_key: str, envelope: Envelope, invocation_id: int | None, now: float
    ) -> list[Event] | None:
        guard = self.config.replay_guard
        if guard is None:
            return None
        iv = carried_iv(envelope.message)
        try:
            guard.admit(
                peer_key, now, key_id=envelope.key_id if iv is not None else None, iv=iv, invocation_id=invocation_id
            )
        except ReplayError as exc:
            self.stats.replays += 1
            return [ReplayRefused(peer=peer, reason=exc.reason, invocation_id=invocation_id)]
        return None

    # --- client side of receive

    def _on_response(
        self, peer: ApTitle, peer_key: str, bodies: Sequence[bytes], envelope: Envelope, now: float
    ) -> list[Event]:
        message = envelope.message
        invocation_id = message.called_invocation_id
        if invocation_id is None:
            return self._refuse(peer, None, "response without called AP invocation id (A4)")
        pending = self._pending.get(invocation_id)
        if pending is None:
            return self._refuse(peer, invocation_id, "no request outstanding with this invocation id")
        if pending.peer_key != peer_key:
            return self._refuse(peer, invocation_id, f"calling title {peer} is not the peer asked ({pending.peer})")
        if message.called is None or message.calling_invocation_id is None:
            return self._refuse(peer, invocation_id, "response without called AP title (A2) or its own A8")
        if envelope.security_mode < pending.mode:
            reason = f"{envelope.security_mode.name} answer to a {pending.mode.name} request"
            return self._refuse(peer, invocation_id, reason)
        if pending.key_id is not None and envelope.key_id != pending.key_id:
            reason = f"answer under key id {envelope.key_id}, request used key id {pending.key_id}"
            return self._refuse(peer, invocation_id, reason)
        refused = self._admit(peer, peer_key, envelope, None, now)
        if refused is not None:
            return refused
        del self._pending[invocation_id]
        try:
            responses = decode_responses(bodies, pending.requests)
        except ProtocolError as exc:
            self.stats.requests_failed += 1
            self._client_sessions.failed(pending.peer_key, pending.requests)
            detail = f"undecodable response: {exc}"
            return [
                self._violation(detail, peer),
                RequestFailed(
                    peer=pending.peer,
                    invocation_id=invocation_id,
                    reason=FailReason.BAD_RESPONSE,
                    attempts=pending.attempts,
                    detail=detail,
                ),
            ]
        self.stats.responses_matched += 1
        events: list[Event] = [
            ResponseReceived(
                peer=pending.peer,
                invocation_id=invocation_id,
                requests=pending.requests,
                responses=responses,
                envelope=envelope,
            )
        ]
        sessions = self._client_sessions.answered(pending.peer_key, pending.requests, responses, pending.first_sent)
        return events + sessions

    # --- server side of receive

    def _duplicate(self, peer: ApTitle, peer_key: str, message: Message, raw: bytes, now: float) -> list[Event] | None:
        invocation_id = message.calling_invocation_id
        if invocation_id is None:
            return None
        seen, response = self._recent.match((peer_key, invocation_id), raw, now)
        if not seen:
            return None
        self.stats.duplicates += 1
        self._sessions.touch(peer_key, now)
        events: list[Event] = [DuplicateRequest(peer=peer, invocation_id=invocation_id)]
        if response is not None:
            events.append(Transmit(peer=peer, data=response, invocation_id=invocation_id))
        return events

    def _on_request(
        self, peer: ApTitle, peer_key: str, bodies: Sequence[bytes], envelope: Envelope, raw: bytes, now: float
    ) -> list[Event]:
        invocation_id = envelope.message.calling_invocation_id
        if invocation_id is None:
            return [self._violation("request without calling AP invocation id (A8)", peer)]
        key = (peer_key, invocation_id)
        refused = self._admit(peer, peer_key, envelope, invocation_id, now)
        if refused is None and key in self._awaiting:  # only reachable without a replay guard
            self.stats.replays += 1
            refused = [ReplayRefused(peer=peer, reason=Refusal.REPLAYED_INVOCATION_ID, invocation_id=invocation_id)]
        if refused is not None:
            return refused
        items: list[Request | Response] = []
        for body in bodies:
            try:
                items.append(decode_request(body))
            except ProtocolError:
                code = ResponseCode.SNS if request_type(body[0]) is None else ResponseCode.ERR
                items.append(ErrorResponse(code))
        outcome = self._sessions.process(peer_key, peer, items, envelope, now)
        self._recent.remember(key, raw, now)
        event = RequestReceived(
            peer=peer,
            invocation_id=invocation_id,
            requests=outcome.app_requests,
            security=outcome.security,
            session=outcome.session,
            envelope=envelope,
            core_responses=outcome.slots,
            implied=outcome.implied,
        )
        self._awaiting[key] = event
        self.stats.requests_received += 1
        return [*outcome.events, event]
