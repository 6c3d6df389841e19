"""Whatever bytes arrive, `receive` returns events and never raises (facts: any bytes decode or are
refused); malformed requests that do decode get per-service error answers."""

from __future__ import annotations

import typing

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openami.c1222 import protect
from openami.c1222.acse import C1222Auth, Message
from openami.c1222.association import (
    Association,
    Event,
    ProtocolViolation,
    RequestReceived,
    ResponseReceived,
)
from openami.c1222.codes import ResponseCode
from openami.c1222.epsem import Epsem, EpsemControl
from openami.c1222.security import SecurityMode
from openami.c1222.services import ErrorResponse, FullRead, FullWrite, Identify, Logon, Security

from .support import HEADEND, KEY_A, METER, PASSWORD, T0, USER_ID, Pair, config

EVENT_TYPES = typing.get_args(Event)


def _busy_pair(mode: SecurityMode) -> tuple[Pair, bytes, bytes]:
    """A pair with a session open, a request outstanding, and that request's bytes and answer."""
    pair = Pair.make(mode)
    pair.call([Logon(USER_ID, b"OP", 60)])
    _, data = pair.client.request(METER, [Security(PASSWORD, USER_ID), FullRead(1)], now=T0)
    (answer,) = pair.serve(data, T0)
    return pair, data, answer


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_yield_events_only(data: bytes) -> None:
    core = Association(config(METER, SecurityMode.ENCRYPTED))
    events = core.receive(data, T0)
    assert events and all(isinstance(e, EVENT_TYPES) for e in events)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=2, max_size=120).map(lambda tail: b"\x60" + bytes((len(tail),)) + tail))
def test_random_apdu_shaped_bytes_yield_events_only(data: bytes) -> None:
    pair, _, _ = _busy_pair(SecurityMode.AUTHENTICATED)
    for core in (pair.client, pair.server):
        assert all(isinstance(e, EVENT_TYPES) for e in core.receive(data, T0))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_messages_yield_events_only(draw: st.DataObject) -> None:
    mode = draw.draw(st.sampled_from(list(SecurityMode)))
    pair, request, answer = _busy_pair(mode)
    target = draw.draw(st.sampled_from([request, answer]))
    index = draw.draw(st.integers(0, len(target) - 1))
    value = draw.draw(st.integers(0, 255))
    mutated = bytearray(target)
    mutated[index] = value
    for core in (pair.client, pair.server):
        events = core.receive(bytes(mutated), T0 + 1)
        assert events is not None and all(isinstance(e, EVENT_TYPES) for e in events)


def test_every_prefix_and_trailing_garbage_is_a_violation() -> None:
    pair, request, answer = _busy_pair(SecurityMode.ENCRYPTED)
    for data, core in ((request, pair.server), (answer, pair.client)):
        for cut in range(len(data)):
            (event,) = core.receive(data[:cut], T0)
            assert isinstance(event, ProtocolViolation), (cut, event)
        (event,) = core.receive(data + b"\x00", T0)
        assert isinstance(event, ProtocolViolation)
    assert pair.client.outstanding != ()  # nothing of that disturbed the outstanding request
    (event,) = pair.client.receive(answer, T0)
    assert isinstance(event, ResponseReceived)


def test_oversized_apdu_is_a_violation() -> None:
    pair = Pair.make(max_apdu_size=64)
    _, data = pair.client.request(METER, [FullWrite(5, bytes(60))], now=T0)
    (event,) = pair.server.receive(data, T0)
    assert isinstance(event, ProtocolViolation) and "max_apdu_size" in event.detail


def _cleartext(services: tuple[bytes, ...], **fields: object) -> bytes:
    header: dict[str, object] = {"called": METER, "calling": HEADEND, "calling_invocation_id": 9}
    header.update(fields)
    epsem = Epsem(control=EpsemControl(), services=services).encode()
    return Message(user_information=epsem, **header).encode()  # type: ignore[arg-type]


def test_missing_mandatory_elements() -> None:
    server = Association(config(METER))
    (event,) = server.receive(_cleartext((b"\x20",), calling=None), T0)
    assert isinstance(event, ProtocolViolation) and "A6" in event.detail
    (event,) = server.receive(_cleartext((b"\x20",), calling_invocation_id=None), T0)
    assert isinstance(event, ProtocolViolation) and event.peer == HEADEND
    (event,) = server.receive(_cleartext((b"\x20", b"\x00")), T0)  # a request and a response mixed
    assert isinstance(event, ProtocolViolation)
    # a secured message without key id / IV anywhere cannot be opened
    message = Message(
        called=METER,
        calling=HEADEND,
        calling_invocation_id=10,
        auth=C1222Auth(key_id=2),
        user_information=Epsem(
            control=EpsemControl(security_mode=SecurityMode.AUTHENTICATED), services=(b"\x20",)
        ).encode()
        + b"\x00\x00\x00\x00",
    )
    (event,) = server.receive(message.encode(), T0)
    assert isinstance(event, ProtocolViolation)


def test_undecodable_services_are_answered_by_the_core() -> None:
    server = Association(config(METER))
    bad_write = FullWrite(5, b"abc").encode()[:-1] + b"\x00"  # wrong checksum
    (event,) = server.receive(_cleartext((b"\x7e", bad_write, Identify().encode())), T0)
    assert isinstance(event, RequestReceived)
    assert event.requests == (Identify(),)
    answer = server.respond(event, [ErrorResponse(ResponseCode.SNS)], T0)
    assert answer is not None
    services = protect.open(answer).services
    assert services == (bytes((ResponseCode.SNS,)), bytes((ResponseCode.ERR,)), bytes((ResponseCode.SNS,)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=4))
def test_any_service_bodies_in_a_valid_envelope(services: list[bytes]) -> None:
    server = Association(config(METER, keys={2: KEY_A}))
    events = server.receive(_cleartext(tuple(services)), T0)
    assert events and all(isinstance(e, EVENT_TYPES) for e in events)
    for event in events:
        assert not isinstance(event, ResponseReceived)
        if isinstance(event, RequestReceived):
            answers = [ErrorResponse(ResponseCode.SNS)] * len(event.requests)
            reply = server.respond(event, answers, T0)
            if reply is not None:
                assert len(protect.open(reply).services) == len(services) - len(event.implied)
