"""Client and server cores exchanging in memory: sessionless and session flows in modes 0, 1, 2."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from openami.c1222 import protect
from openami.c1222.acse import AeQualifier, Message
from openami.c1222.aptitle import C1222_APPLICATION_CONTEXT, ApTitle
from openami.c1222.association import (
    Association,
    RequestReceived,
    ResponseReceived,
    Role,
    SessionEnded,
    SessionEndReason,
    SessionStarted,
    SessionState,
)
from openami.c1222.codes import ResponseCode
from openami.c1222.security import KeyStore, SecurityMode
from openami.c1222.services import (
    ErrorResponse,
    FullRead,
    FullWrite,
    Identify,
    Logoff,
    Logon,
    LogonResponse,
    OkResponse,
    PartialReadOffset,
    PartialWriteOffset,
    ReadResponse,
    Security,
    Terminate,
    Wait,
)

from .support import (
    ACCESS,
    HEADEND,
    IDENTIFY_OK,
    KEY_A,
    METER,
    PASSWORD,
    ST1,
    T0,
    USER_ID,
    Pair,
    config,
)

MODES = list(SecurityMode)
# EPSEM control bytes of requests with response control "always" (c12-protocol-facts.md §2: 0x80, 0x84, 0x88)
CONTROL = {SecurityMode.CLEARTEXT: 0x80, SecurityMode.AUTHENTICATED: 0x84, SecurityMode.ENCRYPTED: 0x88}


def _response(events: Sequence[object]) -> ResponseReceived:
    found = [e for e in events if isinstance(e, ResponseReceived)]
    assert len(found) == 1, events
    return found[0]


@pytest.mark.parametrize("mode", MODES)
def test_identify_sessionless(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    invocation_id, data = pair.client.request(METER, [Identify()], now=T0)
    # read the request back with the lower layers only
    opened = protect.open(data, KeyStore({2: KEY_A}))
    assert opened.message.user_information[0] == CONTROL[mode]
    assert opened.message.calling_invocation_id == invocation_id
    assert opened.message.called == METER and opened.message.calling == HEADEND
    assert opened.services == (b"\x20",)
    assert (opened.key_id, opened.message.auth is not None) == ((2, True) if mode else (None, False))
    (answer,) = pair.serve(data, T0)
    reply = protect.open(answer, KeyStore({2: KEY_A}))
    assert reply.message.called_invocation_id == invocation_id  # A4 = the request's A8
    assert (reply.message.called, reply.message.calling) == (HEADEND, METER)
    assert reply.security_mode is mode
    (event,) = pair.client.receive(answer, T0)
    assert isinstance(event, ResponseReceived)
    assert event.invocation_id == invocation_id
    assert event.responses == (IDENTIFY_OK,)
    assert event.envelope.security_mode is mode
    assert event.ok


@pytest.mark.parametrize("mode", MODES)
def test_full_and_partial_reads(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    _, events = pair.call([FullRead(1), PartialReadOffset(1, 16, 16), FullRead(99)])
    event = _response(events)
    assert event.responses == (
        ReadResponse(ST1),
        ReadResponse(ST1[16:32]),
        ErrorResponse(ResponseCode.IAR),
    )
    assert not event.ok


@pytest.mark.parametrize("mode", MODES)
def test_sessionless_security_then_write(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    _, events = pair.call([FullWrite(5, b"x" * 20)])
    assert _response(events).responses == (ErrorResponse(ResponseCode.ISC),)
    assert bytes(pair.store.tables[5]) == bytes(20)
    _, events = pair.call([Security(PASSWORD, USER_ID), PartialWriteOffset(5, 2, b"abc")])
    event = _response(events)
    assert event.responses == (OkResponse(), OkResponse())  # Security's ok implied by omission
    assert bytes(pair.store.tables[5]) == b"\0\0abc" + bytes(15)
    received = [e for e in pair.server_events if isinstance(e, RequestReceived)]
    assert received[-1].security.authenticated and received[-1].security.access == ACCESS
    assert received[-1].requests == (PartialWriteOffset(5, 2, b"abc"),)
    # the next EPSEM is not authenticated any more (sessionless)
    _, events = pair.call([PartialWriteOffset(5, 0, b"z")])
    assert _response(events).responses == (ErrorResponse(ResponseCode.ISC),)


@pytest.mark.parametrize("mode", MODES)
def test_wrong_password_is_answered_and_gives_no_clearance(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    _, events = pair.call([Security(b"WRONG", USER_ID), FullWrite(5, b"y" * 20)])
    assert _response(events).responses == (ErrorResponse(ResponseCode.ERR), ErrorResponse(ResponseCode.ISC))
    _, events = pair.call([Security(PASSWORD, USER_ID + 1), FullRead(1)])
    assert _response(events).responses == (ErrorResponse(ResponseCode.ERR), ReadResponse(ST1))


@pytest.mark.parametrize("mode", MODES)
def test_session_logon_security_write_logoff(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    _, events = pair.call([Logon(USER_ID, b"OPERATOR", 30)])
    assert _response(events).responses == (LogonResponse(30),)
    started = [e for e in events if isinstance(e, SessionStarted)]
    assert [e.role for e in started] == [Role.CLIENT] and started[0].session.idle_timeout == 30
    server_started = [e for e in pair.server_events if isinstance(e, SessionStarted)]
    assert [e.session.user for e in server_started] == [b"OPERATOR  "]
    session = pair.client.client_session(METER)
    assert session is not None and session.state is SessionState.OPEN and session.idle_timeout == 30
    info = pair.server.server_session(HEADEND)
    assert info is not None and info.user_id == USER_ID and not info.authenticated

    _, events = pair.call([Security(PASSWORD)], now=T0 + 1, session=session)
    assert _response(events).responses == (OkResponse(),)  # in a session Security is answered
    info = pair.server.server_session(HEADEND)
    assert info is not None and info.authenticated and info.access == ACCESS

    _, events = pair.call([FullWrite(5, b"S" * 20), FullRead(5)], now=T0 + 2, session=session)
    assert _response(events).responses == (OkResponse(), ReadResponse(b"S" * 20))
    received = [e for e in pair.server_events if isinstance(e, RequestReceived)][-1]
    assert received.security.in_session and received.session is not None
    assert received.security.user_id == USER_ID

    _, events = pair.call([Logoff()], now=T0 + 3, session=session)
    assert _response(events).responses == (OkResponse(),)
    assert [e for e in events if isinstance(e, SessionEnded)] == [
        SessionEnded(role=Role.CLIENT, peer=METER, reason=SessionEndReason.LOGOFF)
    ]
    assert SessionEnded(role=Role.SERVER, peer=HEADEND, reason=SessionEndReason.LOGOFF) in pair.server_events
    assert pair.server.server_session(HEADEND) is None and pair.client.client_session(METER) is None
    assert session.state is SessionState.CLOSED  # type: ignore[comparison-overlap]  # changed by the core
    _, events = pair.call([FullWrite(5, b"T" * 20)], now=T0 + 4)
    assert _response(events).responses == (ErrorResponse(ResponseCode.ISC),)


@pytest.mark.parametrize("mode", MODES)
def test_whole_session_in_one_epsem_and_terminate(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    services = [Logon(USER_ID, b"OP", 0), Security(PASSWORD), FullWrite(5, b"W" * 20), Terminate()]
    _, events = pair.call(services)
    event = _response(events)
    assert event.responses == (LogonResponse(60), OkResponse(), OkResponse(), OkResponse())
    assert bytes(pair.store.tables[5]) == b"W" * 20
    assert SessionEnded(role=Role.SERVER, peer=HEADEND, reason=SessionEndReason.TERMINATE) in pair.server_events
    assert [type(e) for e in events] == [ResponseReceived, SessionStarted, SessionEnded]
    assert pair.server.server_sessions() == ()


def test_session_sequence_errors_answer_isss() -> None:
    pair = Pair.make()
    isss = ErrorResponse(ResponseCode.ISSS)
    _, events = pair.call([Logoff(), Wait(5), Terminate()])
    assert _response(events).responses == (isss, isss, OkResponse())
    _, events = pair.call([Logon(USER_ID, b"A", 20), Logon(USER_ID, b"B", 20)])
    assert _response(events).responses == (LogonResponse(20), isss)


def test_sessionless_refused_when_not_allowed() -> None:
    pair = Pair.make(allow_sessionless=False)
    isss = ErrorResponse(ResponseCode.ISSS)
    _, events = pair.call([Identify(), FullRead(1)])
    assert _response(events).responses == (isss, isss)
    assert [e for e in pair.server_events if isinstance(e, RequestReceived)][-1].requests == ()
    _, events = pair.call([Logon(USER_ID, b"A", 20), FullRead(1), Logoff(), FullRead(1)])
    assert _response(events).responses == (LogonResponse(20), ReadResponse(ST1), OkResponse(), isss)


def test_idle_timeout_negotiation_and_session_limit() -> None:
    pair = Pair.make(max_sessions=1, default_idle_timeout=45, max_idle_timeout=100)
    _, events = pair.call([Logon(USER_ID, b"A", 5000)])
    assert _response(events).responses == (LogonResponse(100),)  # capped at the maximum
    # a second peer cannot open a session while the session table is full
    stranger = Association(config(ApTitle.parse(".123.5")))
    _, data = stranger.request(METER, [Logon(7, b"X", None)], now=T0)
    (answer,) = pair.serve(data, T0)
    (event,) = stranger.receive(answer, T0)
    assert isinstance(event, ResponseReceived) and event.responses == (ErrorResponse(ResponseCode.BSY),)
    assert stranger.client_session(METER) is None  # the refused Logon leaves no client session
    _, events = pair.call([Logoff(), Logon(USER_ID, b"A", None)], now=T0 + 1)
    assert _response(events).responses == (OkResponse(), LogonResponse(45))  # C12.18 form: the default


def test_ed_class_is_sent_when_configured() -> None:
    pair = Pair.make(SecurityMode.ENCRYPTED, ed_class=b"EPRI")
    _, data = pair.client.request(METER, [Identify()], now=T0)
    (answer,) = pair.serve(data, T0)
    opened = protect.open(answer, KeyStore({2: KEY_A}))
    assert opened.control.ed_class_included and opened.ed_class == b"EPRI"
    assert opened.message.user_information[0] == 0x98  # 0x88 | bit4 ED_CLASS_INCLUDED
    event = _response(pair.client.receive(answer, T0))
    assert event.envelope.ed_class == b"EPRI"


def test_application_context_and_ae_qualifier() -> None:
    client = Association(config(HEADEND, SecurityMode.ENCRYPTED, application_context=True))
    server = Association(config(METER, SecurityMode.ENCRYPTED, application_context=True))
    _, data = client.request(METER, [Identify()], now=T0, ae_qualifier=AeQualifier.URGENT | AeQualifier.TEST)
    assert Message.decode(data).application_context == C1222_APPLICATION_CONTEXT
    (event,) = server.receive(data, T0)
    assert isinstance(event, RequestReceived)
    assert event.envelope.ae_qualifier == AeQualifier.URGENT | AeQualifier.TEST
    answer = server.respond(event, [IDENTIFY_OK], T0)
    assert answer is not None and Message.decode(answer).application_context == C1222_APPLICATION_CONTEXT
    (reply,) = client.receive(answer, T0)
    assert isinstance(reply, ResponseReceived) and reply.responses == (IDENTIFY_OK,)
