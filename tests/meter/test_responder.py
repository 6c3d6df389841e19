"""The responder: every service gets a response with the right code; random typed requests never raise;
and the whole path client `Association` → server `Association` → responder → back works in memory,
cleartext and in security mode 2."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.procedures import ProcedureRequest, ProcedureResponse, RemoteResetParams, ResultCode
from openami.c1222.aptitle import ApTitle
from openami.c1222.association import (
    Association,
    AssociationConfig,
    RequestReceived,
    ResponseReceived,
)
from openami.c1222.codes import ResponseCode
from openami.c1222.security import IvSource, KeyStore, ReplayGuard, SecurityMode
from openami.c1222.services import (
    DefaultRead,
    DefaultWrite,
    Deregistration,
    Disconnect,
    ErrorResponse,
    FullRead,
    FullWrite,
    Identify,
    IdentifyResponse,
    Logoff,
    Logon,
    Negotiate,
    OkResponse,
    PartialReadIndex,
    PartialWriteOffset,
    ReadResponse,
    Registration,
    Request,
    Resolve,
    Response,
    Security,
    SessionCtrlFeature,
    Terminate,
    Trace,
    Wait,
    decode_response,
)
from openami.meter.access import Clearance
from openami.meter.config import Identity, Key, MeterConfig, SecuritySettings
from openami.meter.responder import Responder

from ..c1222.services.strategies import aptitles, requests
from .test_procedures import MASTER, FakeMeter, T, meter

KEY = bytes.fromhex("01020304050607080102030405060708")  # c12-protocol-facts.md §4, V1 (key id 2)
HEADEND = ApTitle.parse(".123.4")
METER = ApTitle.parse(".123.8437")
NOW = 1_700_000_000.0  # IVs are time based


def test_identify() -> None:
    responder, _ = meter()
    answer = responder.answer(Identify(), Clearance(), T)
    assert answer == IdentifyResponse(3, 1, 0, (SessionCtrlFeature(16, True),))


@pytest.mark.parametrize(
    "request_",
    [
        DefaultRead(),
        DefaultWrite(b"x"),
        Disconnect(),
        Negotiate(64, 1, (6,)),
        Logon(2, b"X"),
        Security(b"MASTER"),
        Logoff(),
        Terminate(),
        Wait(5),
        Resolve(METER),
        Trace(METER),
        Deregistration(METER),
    ],
)
def test_services_the_meter_does_not_serve_are_sns(request_: Request) -> None:
    responder, _ = meter()
    assert responder.answer(request_, MASTER, T) == ErrorResponse(ResponseCode.SNS)


@pytest.fixture(scope="module")
def target() -> Responder:
    """One meter for the property tests (SP9 takes 2 s there, so ST7 writes also meet BSY)."""
    return meter(MeterConfig(procedure_durations=((9, 2.0),)))[0]


@settings(max_examples=200, deadline=None)
@given(request=requests, groups=st.integers(0, 255), mode=st.sampled_from(list(SecurityMode)))
def test_random_requests_always_get_a_response(
    target: Responder, request: Request, groups: int, mode: SecurityMode
) -> None:
    responder = target
    clearance = Clearance(groups=groups, authenticated=bool(groups), user_id=1, security_mode=mode)
    answer = responder.answer(request, clearance, T)
    assert isinstance(answer, Response)
    assert decode_response(answer.encode(), request) == answer  # a body the peer can read back
    if isinstance(request, Identify):
        assert isinstance(answer, IdentifyResponse)
    elif not hasattr(request, "table"):
        assert answer == ErrorResponse(ResponseCode.SNS)
    for number in responder.store.numbers:  # whatever was asked, every table still decodes
        responder.store.value(number)


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=40))
def test_random_bodies_always_get_a_response(target: Responder, body: bytes) -> None:
    answer = target.answer_body(body, MASTER, T)
    assert answer and answer[0] in {c.value for c in ResponseCode}


def test_every_prefix_and_trailing_garbage_of_a_body_is_answered(target: Responder) -> None:
    bodies = [
        FullWrite(6, target.store.get(6)).encode(),
        PartialReadIndex(23, (1, 0), 1).encode(),
        PartialWriteOffset(118, 0, target.store.get(118)[:2]).encode(),
    ]
    for body in bodies:
        whole = target.answer_body(body, MASTER, T)
        assert whole[0] == ResponseCode.OK
        assert target.answer_body(b"", MASTER, T) == bytes((ResponseCode.SNS,))
        for n in range(1, len(body)):
            assert target.answer_body(body[:n], MASTER, T) == bytes((ResponseCode.ERR,)), n
        assert target.answer_body(body + b"\x00", MASTER, T) == bytes((ResponseCode.ERR,))


@settings(max_examples=50, deadline=None)
@given(titles=st.lists(aptitles, min_size=1, max_size=3))
def test_registration_services_are_not_served(target: Responder, titles: list[ApTitle]) -> None:
    request = Registration(0, 0, b"\x00\x00\x00\x00", titles[0], titles[-1], b"", 60)
    assert target.answer(request, MASTER, T) == ErrorResponse(ResponseCode.SNS)


# -- end to end over the association core --------------------------------------------------------------------
def association(title: ApTitle, mode: SecurityMode, keys: KeyStore, **kw: Any) -> Association:
    return Association(
        AssociationConfig(
            ap_title=title,
            keys=keys,
            key_id=2,
            security_mode=mode,
            iv_source=IvSource(),
            replay_guard=ReplayGuard(),
            **kw,
        )
    )


class Pair:
    """A head-end client and the meter's server core, with the responder behind the server."""

    def __init__(self, mode: SecurityMode) -> None:
        config = MeterConfig(
            identity=Identity(ap_title=str(METER)),
            security=SecuritySettings(keys=(Key(2, KEY),), min_write_mode=mode),
        )
        self.live = FakeMeter()
        self.responder = Responder(config, self.live)
        self.client = association(HEADEND, mode, KeyStore({2: KEY}))
        self.server = association(METER, mode, self.responder.keys, authenticator=self.responder.access.authenticator)
        self.received: list[RequestReceived] = []

    def call(self, services: list[Request], now: float = NOW) -> ResponseReceived:
        _, data = self.client.request(METER, services, now=now)
        answers: list[bytes] = []
        for event in self.server.receive(data, now):
            if isinstance(event, RequestReceived):
                self.received.append(event)
                reply = self.server.respond(event, self.responder.handle(event, now), now)
                assert reply is not None
                answers.append(reply)
        (answer,) = answers
        (event,) = [e for e in self.client.receive(answer, now) if isinstance(e, ResponseReceived)]
        return event


@pytest.mark.parametrize("mode", [SecurityMode.CLEARTEXT, SecurityMode.ENCRYPTED])
def test_read_of_st23_end_to_end(mode: SecurityMode) -> None:
    pair = Pair(mode)
    pair.live.consume(420, 100, 1680)
    event = pair.call([FullRead(23)])
    (response,) = event.responses
    assert isinstance(response, ReadResponse)
    st23 = pair.responder.store.layout(23).decode(response.data)
    assert st23["TOT_DATA_BLOCK"]["SUMMATIONS"] == [420.0, 100.0]
    assert event.envelope.security_mode == mode
    assert pair.received[0].security.authenticated is False  # an anonymous read: ST43 lets anyone read


def test_procedure_in_security_mode_2_end_to_end() -> None:
    pair = Pair(SecurityMode.ENCRYPTED)
    pair.live.consume(100, 10, 999)
    reset = ProcedureRequest(9, seq_nbr=11, params=RemoteResetParams(demand_reset=True).encode())
    write = pair.call([Security(b"OPERATOR", 6), FullWrite(7, reset.encode())])
    assert write.responses == (OkResponse(), OkResponse())  # Security's ok is implied, shown as ok
    assert pair.received[-1].security.authenticated is True
    result = pair.call([FullRead(8)], NOW + 1)
    (response,) = result.responses
    assert isinstance(response, ReadResponse)
    st8 = ProcedureResponse.decode(response.data)
    assert (st8.procedure, st8.seq_nbr, st8.result) == (9, 11, ResultCode.COMPLETED)
    assert pair.live.resets == 1 and pair.live.demand_max == 0
    assert [e.user_id for e in pair.live.log if e.code == 20] == [6]


def test_without_a_password_the_procedure_is_refused_end_to_end() -> None:
    pair = Pair(SecurityMode.ENCRYPTED)
    reset = ProcedureRequest(9, seq_nbr=1, params=RemoteResetParams(demand_reset=True).encode())
    (answer,) = pair.call([FullWrite(7, reset.encode())]).responses
    assert answer == ErrorResponse(ResponseCode.ISC)
    wrong = pair.call([Security(b"GUESS", 6), FullWrite(7, reset.encode())], NOW + 1).responses
    # the core refuses the password (ERR); the write then runs without clearance (ISC)
    assert wrong == (ErrorResponse(ResponseCode.ERR), ErrorResponse(ResponseCode.ISC))
    assert pair.live.resets == 0


def test_cleartext_writes_are_refused_when_the_meter_wants_mode_2() -> None:
    pair = Pair(SecurityMode.ENCRYPTED)
    _, data = pair.client.request(
        METER, [Security(b"MASTER", 1), FullWrite(6, pair.responder.store.get(6))], now=NOW, mode=SecurityMode.CLEARTEXT
    )
    (event,) = [e for e in pair.server.receive(data, NOW) if isinstance(e, RequestReceived)]
    assert pair.responder.handle(event, NOW) == [ErrorResponse(ResponseCode.ISC)]


def test_session_clearance_reaches_the_responder() -> None:
    pair = Pair(SecurityMode.CLEARTEXT)
    pair.call([Logon(5, b"HEADEND"), Security(b"PROGRAMMER")])
    data = pair.responder.store.get(6)
    assert pair.call([FullWrite(6, data)], NOW + 1).responses == (OkResponse(),)
    assert pair.live.log[-1].user_id == 5
    pair.call([Logoff()], NOW + 2)
    assert pair.call([FullWrite(6, data)], NOW + 3).responses == (ErrorResponse(ResponseCode.ISC),)
    (read,) = pair.call([FullRead(6)], NOW + 4).responses
    assert read == ReadResponse(data)
