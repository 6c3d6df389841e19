"""API misuse raises `LocalProtocolError`; sizes, invocation ids and configuration checks."""

from __future__ import annotations

import math

import pytest

from openami.c1222 import protect
from openami.c1222.aptitle import ApTitle
from openami.c1222.association import MAX_INVOCATION_ID, Association, AssociationConfig, RequestReceived
from openami.c1222.codes import ResponseCode
from openami.c1222.security import SecurityMode
from openami.c1222.services import ErrorResponse, FullRead, Identify, Logon, ReadResponse
from openami.errors import LocalProtocolError

from .support import HEADEND, METER, T0, Pair, config


def _received(pair: Pair) -> RequestReceived:
    _, data = pair.client.request(METER, [FullRead(1), Identify()], now=T0)
    (event,) = pair.server.receive(data, T0)
    assert isinstance(event, RequestReceived)
    return event


def test_respond_misuse() -> None:
    pair = Pair.make()
    event = _received(pair)
    with pytest.raises(LocalProtocolError):
        pair.server.respond(event, [ReadResponse(b"")], T0)  # one answer for two requests
    with pytest.raises(LocalProtocolError):
        pair.server.respond(event, [b"\x00", b"\x00"], T0)  # type: ignore[list-item]
    with pytest.raises(LocalProtocolError):
        pair.client.respond(event, [ReadResponse(b""), ReadResponse(b"")], T0)  # not the client's
    assert pair.server.respond(event, [ReadResponse(b""), ErrorResponse(ResponseCode.SNS)], T0) is not None
    with pytest.raises(LocalProtocolError):
        pair.server.respond(event, [ReadResponse(b""), ErrorResponse(ResponseCode.SNS)], T0)  # twice


def test_dropped_request_cannot_be_answered() -> None:
    pair = Pair.make()
    event = _received(pair)
    pair.server.drop(event)
    with pytest.raises(LocalProtocolError):
        pair.server.respond(event, [ReadResponse(b""), ErrorResponse(ResponseCode.SNS)], T0)


def test_request_misuse() -> None:
    client = Association(config(HEADEND))
    with pytest.raises(LocalProtocolError):
        client.request(METER, [], now=T0)
    with pytest.raises(LocalProtocolError):
        client.request(METER, [b"\x20"], now=T0)  # type: ignore[list-item]
    with pytest.raises(LocalProtocolError):
        client.request(".123", [Identify()], now=T0)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        client.request(METER, [Identify()], now=T0, mode=SecurityMode.ENCRYPTED, key_id=9)  # no key 9
    with pytest.raises(LocalProtocolError):
        client.request(METER, [Identify()], now=T0, mode=3)  # type: ignore[arg-type]
    for bad in (math.nan, math.inf):
        with pytest.raises(LocalProtocolError):
            client.request(METER, [Identify()], now=bad)
        with pytest.raises(LocalProtocolError):
            client.receive(b"", bad)
        with pytest.raises(LocalProtocolError):
            client.handle_timer(bad)
    small = Association(config(HEADEND, max_apdu_size=32))
    with pytest.raises(LocalProtocolError):
        small.request(METER, [Logon(2, b"0123456789", 60)] * 3, now=T0)
    assert client.stats.requests_sent == 0


def test_session_argument_must_be_the_current_session() -> None:
    pair = Pair.make()
    pair.call([Logon(2, b"OP", 30)])
    session = pair.client.client_session(METER)
    assert session is not None
    with pytest.raises(LocalProtocolError):
        pair.client.request(HEADEND, [Identify()], now=T0, session=session)  # another peer


def test_oversized_responses_become_rstl() -> None:
    pair = Pair.make(max_apdu_size=80)
    pair.store.tables[7] = bytearray(range(100))
    _, data = pair.client.request(METER, [FullRead(7), Identify()], now=T0)
    (answer,) = pair.serve(data, T0)
    assert len(answer) <= 80
    services = protect.open(answer).services
    rstl = ErrorResponse.too_large(ResponseCode.RSTL, 80)
    assert services[0] == rstl.encode() and services[0][1:] == (80).to_bytes(4, "big")
    (event,) = pair.client.receive(answer, T0)
    assert event.responses[0] == rstl and event.responses[0].max_size == 80  # type: ignore[union-attr]


def test_invocation_ids_wrap_and_skip_outstanding_ones() -> None:
    client = Association(config(HEADEND), first_invocation_id=MAX_INVOCATION_ID)
    first, _ = client.request(METER, [Identify()], now=T0)
    second, _ = client.request(METER, [Identify()], now=T0)
    assert (first, second) == (MAX_INVOCATION_ID, 0)
    wrapped = Association(config(HEADEND), first_invocation_id=5)
    ids = [wrapped.request(METER, [Identify()], now=T0)[0] for _ in range(3)]
    assert ids == [5, 6, 7] and wrapped.next_invocation_id == 8
    wrapped._next_id = 6  # as after a wrap-around: 6 and 7 are still outstanding
    assert wrapped.request(METER, [Identify()], now=T0)[0] == 8
    with pytest.raises(LocalProtocolError):
        Association(config(HEADEND), first_invocation_id=MAX_INVOCATION_ID + 1)


@pytest.mark.parametrize(
    "settings",
    [
        {"ap_title": ".1"},
        {"key_id": 256},
        {"security_mode": 3},
        {"response_timeout": 0.0},
        {"response_timeout": math.nan},
        {"retries": -1},
        {"max_apdu_size": 8},
        {"ed_class": b"abc"},
        {"max_sessions": -1},
        {"default_idle_timeout": 0},
        {"default_idle_timeout": 700, "max_idle_timeout": 600},
        {"max_idle_timeout": 70_000},
        {"duplicate_window": -1.0},
        {"base": ApTitle.parse(".1")},
    ],
)
def test_config_validation(settings: dict[str, object]) -> None:
    values: dict[str, object] = {"ap_title": METER}
    values.update(settings)
    with pytest.raises(LocalProtocolError):
        AssociationConfig(**values)  # type: ignore[arg-type]
