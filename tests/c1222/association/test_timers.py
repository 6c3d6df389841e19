"""Timeouts, retries, duplicates, out-of-order answers, response control and session idle expiry,
all driven by injected ``now`` values."""

from __future__ import annotations

import pytest

from openami.c1222.association import (
    DuplicateRequest,
    FailReason,
    RequestFailed,
    RequestPresumedOk,
    RequestReceived,
    ResponseReceived,
    Role,
    SessionEnded,
    SessionEndReason,
    Transmit,
)
from openami.c1222.codes import ResponseCode
from openami.c1222.epsem import ResponseControl
from openami.c1222.security import SecurityMode
from openami.c1222.services import (
    ErrorResponse,
    FullRead,
    FullWrite,
    Identify,
    Logoff,
    Logon,
    OkResponse,
    ReadResponse,
    Request,
    Security,
    Wait,
)
from openami.errors import LocalProtocolError

from .support import HEADEND, IDENTIFY_OK, METER, PASSWORD, ST1, T0, USER_ID, Pair

TIMEOUT = 5.0  # support.config's response_timeout
MODES = list(SecurityMode)


@pytest.mark.parametrize("mode", MODES)
def test_timeout_retries_then_failure(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    client = pair.client
    invocation_id, data = client.request(METER, [FullRead(1)], now=T0)
    assert client.next_timer() == T0 + TIMEOUT
    assert client.handle_timer(T0 + TIMEOUT - 0.1) == []
    assert client.handle_timer(T0 + TIMEOUT) == [
        Transmit(peer=METER, data=data, invocation_id=invocation_id, attempt=2)
    ]
    assert client.next_timer() == T0 + 2 * TIMEOUT
    assert client.handle_timer(T0 + 2 * TIMEOUT) == [
        Transmit(peer=METER, data=data, invocation_id=invocation_id, attempt=3)
    ]
    (failed,) = client.handle_timer(T0 + 3 * TIMEOUT)
    assert isinstance(failed, RequestFailed)
    assert failed == RequestFailed(
        peer=METER,
        invocation_id=invocation_id,
        reason=FailReason.TIMEOUT,
        attempts=3,
        detail=failed.detail,
    )
    assert client.next_timer() is None and client.outstanding == ()
    assert (client.stats.retransmissions, client.stats.requests_failed) == (2, 1)


@pytest.mark.parametrize("mode", MODES)
def test_lost_request_then_retry_answered(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    invocation_id, _ = pair.client.request(METER, [Identify()], now=T0)  # lost
    (retry,) = pair.client.handle_timer(T0 + TIMEOUT)
    assert isinstance(retry, Transmit)
    (answer,) = pair.serve(retry.data, T0 + TIMEOUT + 0.5)
    (event,) = pair.client.receive(answer, T0 + TIMEOUT + 0.6)
    assert isinstance(event, ResponseReceived) and event.invocation_id == invocation_id
    assert event.responses == (IDENTIFY_OK,)
    assert pair.client.next_timer() is None


@pytest.mark.parametrize("mode", MODES)
def test_lost_response_then_retry_gets_the_cached_answer(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    services = [Security(PASSWORD, USER_ID), FullWrite(5, b"once" * 5)]
    invocation_id, data = pair.client.request(METER, services, now=T0)
    (lost,) = pair.serve(data, T0)
    pair.store.tables[5][:] = bytes(20)  # a second execution would write again
    (retry,) = pair.client.handle_timer(T0 + TIMEOUT)
    assert isinstance(retry, Transmit) and retry.data == data
    (again,) = pair.serve(retry.data, T0 + TIMEOUT)
    assert again == lost
    assert bytes(pair.store.tables[5]) == bytes(20)
    assert DuplicateRequest(peer=HEADEND, invocation_id=invocation_id) in pair.server_events
    assert sum(isinstance(e, RequestReceived) for e in pair.server_events) == 1
    (event,) = pair.client.receive(again, T0 + TIMEOUT)
    assert isinstance(event, ResponseReceived) and event.responses == (OkResponse(), OkResponse())


def test_duplicate_before_the_application_answered_is_swallowed() -> None:
    pair = Pair.make()
    _, data = pair.client.request(METER, [FullRead(1)], now=T0)
    (first,) = pair.server.receive(data, T0)
    assert isinstance(first, RequestReceived)
    assert pair.server.receive(data, T0 + 1) == [DuplicateRequest(peer=HEADEND, invocation_id=first.invocation_id)]
    assert pair.server.respond(first, [ReadResponse(ST1)], T0 + 2) is not None


@pytest.mark.parametrize("mode", MODES)
def test_several_outstanding_requests_answered_out_of_order(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    asked: list[list[Request]] = [[FullRead(1)], [Identify()], [FullRead(5)], [FullRead(42)]]
    expected = [(ReadResponse(ST1),), (IDENTIFY_OK,), (ReadResponse(bytes(20)),), (ErrorResponse(ResponseCode.IAR),)]
    sent = [pair.client.request(METER, services, now=T0 + i) for i, services in enumerate(asked)]
    assert len({invocation_id for invocation_id, _ in sent}) == 4
    answers = [pair.serve(data, T0 + 5)[0] for _, data in sent]
    for k in (3, 1, 0, 2):  # deliver in another order
        (event,) = pair.client.receive(answers[k], T0 + 6)
        assert isinstance(event, ResponseReceived)
        assert event.invocation_id == sent[k][0]
        assert event.requests == tuple(asked[k]) and event.responses == expected[k]
    assert pair.client.outstanding == () and pair.client.stats.responses_matched == 4


def test_response_control_never() -> None:
    pair = Pair.make()
    _, data = pair.client.request(METER, [FullWrite(5, b"n" * 20)], now=T0, response_control=ResponseControl.NEVER)
    assert pair.client.outstanding == () and pair.client.next_timer() is None
    assert pair.serve(data, T0) == []  # respond() gave None
    (event,) = [e for e in pair.server_events if isinstance(e, RequestReceived)]
    assert event.envelope.response_control is ResponseControl.NEVER


@pytest.mark.parametrize("mode", MODES)
def test_response_control_on_exception(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    rc = ResponseControl.ON_EXCEPTION
    quiet_id, data = pair.client.request(METER, [FullRead(1)], now=T0, response_control=rc)
    assert pair.serve(data, T0) == []  # all ok: nothing sent
    assert pair.client.handle_timer(T0 + TIMEOUT) == [RequestPresumedOk(peer=METER, invocation_id=quiet_id)]
    loud_id, data = pair.client.request(METER, [FullRead(1), FullWrite(5, b"e" * 20)], now=T0, response_control=rc)
    (answer,) = pair.serve(data, T0)  # the write is refused (no Security): the whole answer is sent
    (event,) = pair.client.receive(answer, T0)
    assert isinstance(event, ResponseReceived) and event.invocation_id == loud_id
    assert event.responses == (ReadResponse(ST1), ErrorResponse(ResponseCode.ISC))
    assert pair.client.next_timer() is None


@pytest.mark.parametrize("mode", MODES)
def test_session_idle_expiry_on_both_sides(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    pair.call([Logon(USER_ID, b"OP", 30)], now=T0)
    session = pair.client.client_session(METER)
    assert session is not None
    assert pair.server.next_timer() == T0 + 30 and pair.client.next_timer() == T0 + 30
    pair.call([FullRead(1)], now=T0 + 20, session=session)  # activity restarts both timers
    assert pair.server.next_timer() == T0 + 50 and pair.client.next_timer() == T0 + 50
    assert pair.server.handle_timer(T0 + 49.9) == []
    assert pair.server.handle_timer(T0 + 50) == [
        SessionEnded(role=Role.SERVER, peer=HEADEND, reason=SessionEndReason.IDLE)
    ]
    assert pair.client.handle_timer(T0 + 50) == [
        SessionEnded(role=Role.CLIENT, peer=METER, reason=SessionEndReason.IDLE)
    ]
    assert pair.server.server_session(HEADEND) is None and pair.client.client_session(METER) is None
    with pytest.raises(LocalProtocolError):
        pair.client.request(METER, [FullRead(1)], now=T0 + 51, session=session)
    _, events = pair.call([Logoff()], now=T0 + 51)
    (event,) = [e for e in events if isinstance(e, ResponseReceived)]
    assert event.responses == (ErrorResponse(ResponseCode.ISSS),)


def test_wait_keeps_the_session_alive() -> None:
    pair = Pair.make()
    pair.call([Logon(USER_ID, b"OP", 30)], now=T0)
    _, events = pair.call([Wait(200)], now=T0 + 10)
    assert [e.responses for e in events if isinstance(e, ResponseReceived)] == [(OkResponse(),)]
    assert pair.server.next_timer() == T0 + 210
    assert pair.server.handle_timer(T0 + 100) == []
    assert pair.server.server_session(HEADEND) is not None


def test_failed_logon_request_leaves_no_client_session() -> None:
    pair = Pair.make()
    pair.client.request(METER, [Logon(USER_ID, b"OP", 30)], now=T0)
    assert pair.client.client_session(METER) is not None
    for k in (1, 2, 3):
        pair.client.handle_timer(T0 + k * TIMEOUT)
    assert pair.client.client_session(METER) is None and pair.client.next_timer() is None
