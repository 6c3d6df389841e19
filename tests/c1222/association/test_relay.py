"""The meter relays for its HAN: head-end ↔ meter relay ↔ appliance, bytes passed on unchanged."""

from __future__ import annotations

import pytest

from openami.c1222 import protect
from openami.c1222.aptitle import ApTitle
from openami.c1222.association import (
    Association,
    Deliver,
    Drop,
    Forward,
    Misaddressed,
    Reject,
    Relay,
    RequestReceived,
    ResponseReceived,
    ResponseRefused,
)
from openami.c1222.codes import ResponseCode
from openami.c1222.security import IvSource, KeyStore, SecurityMode
from openami.c1222.services import ErrorResponse, FullRead, Identify, ReadResponse
from openami.errors import LocalProtocolError

from .support import HEADEND, KEY_A, METER, T0, TableStore, config

PLUG = ApTitle.parse(".123.8437.1")  # an appliance on the meter's HAN
HVAC = ApTitle.parse(".123.8437.2")


def _meter_relay(**kw: object) -> Relay[str]:
    relay: Relay[str] = Relay(METER, default_route="wan", **kw)  # type: ignore[arg-type]
    relay.add_route(PLUG, "han:1")
    relay.add_route(HVAC, "han:2", reachable=False)
    return relay


@pytest.mark.parametrize("mode", list(SecurityMode))
def test_request_and_response_cross_the_relay_unchanged(mode: SecurityMode) -> None:
    headend = Association(config(HEADEND, mode))
    plug = Association(config(PLUG, mode))
    relay = _meter_relay()
    invocation_id, data = headend.request(PLUG, [FullRead(1)], now=T0)
    decision = relay.route(data, T0)
    assert decision == Forward(hop="han:1", data=data, called=PLUG)
    (event,) = plug.receive(decision.data, T0)
    assert isinstance(event, RequestReceived) and event.peer == HEADEND
    answer = plug.respond(event, TableStore().answer(event), T0)
    assert answer is not None
    back = relay.route(answer, T0)  # the head-end is not on the HAN: default route
    assert back == Forward(hop="wan", data=answer, called=HEADEND)
    (reply,) = headend.receive(back.data, T0)
    assert isinstance(reply, ResponseReceived) and reply.invocation_id == invocation_id
    assert reply.responses[0].ok


def test_messages_for_the_meter_itself_are_delivered() -> None:
    relay = _meter_relay()
    headend = Association(config(HEADEND))
    _, data = headend.request(METER, [Identify()], now=T0)
    assert relay.route(data, T0) == Deliver(data=data)
    _, data = headend.request(METER.absolute(), [Identify()], now=T0)
    assert relay.route(data, T0) == Deliver(data=data)


def test_unknown_and_unreachable_titles_are_answered() -> None:
    relay: Relay[str] = Relay(METER)  # no default route
    relay.add_route(HVAC, "han:2")
    relay.set_reachable(HVAC, False)
    headend = Association(config(HEADEND))
    for title, code in ((ApTitle.parse(".123.8437.9"), ResponseCode.UAT), (HVAC, ResponseCode.NETR)):
        invocation_id, data = headend.request(title, [FullRead(1)], now=T0)
        decision = relay.route(data, T0)
        assert isinstance(decision, Reject) and decision.code is code and decision.called == title
        assert decision.answer is not None
        (event,) = headend.receive(decision.answer, T0)
        assert isinstance(event, ResponseReceived) and event.invocation_id == invocation_id
        assert event.responses == (ErrorResponse(code),)
    relay.set_reachable(HVAC, True)
    _, data = headend.request(HVAC, [FullRead(1)], now=T0)
    assert relay.route(data, T0) == Forward(hop="han:2", data=data, called=HVAC)
    relay.remove_route(HVAC)
    assert isinstance(relay.route(data, T0), Reject)
    assert relay.hop(PLUG) is None


@pytest.mark.parametrize("mode", [SecurityMode.AUTHENTICATED, SecurityMode.ENCRYPTED])
def test_secured_rejects_are_sealed_when_the_relay_holds_the_key(mode: SecurityMode) -> None:
    headend = Association(config(HEADEND, mode))
    keyed: Relay[str] = Relay(METER, keys=KeyStore({2: KEY_A}), iv_source=IvSource())
    invocation_id, data = headend.request(PLUG, [FullRead(1)], now=T0)
    decision = keyed.route(data, T0)
    assert isinstance(decision, Reject) and decision.answer is not None
    assert protect.open(decision.answer, KeyStore({2: KEY_A})).security_mode is mode
    (event,) = headend.receive(decision.answer, T0)
    assert isinstance(event, ResponseReceived) and event.responses == (ErrorResponse(ResponseCode.UAT),)
    # a relay without the key answers in cleartext, which a careful client refuses
    keyless: Relay[str] = Relay(METER)
    invocation_id, data = headend.request(PLUG, [FullRead(1)], now=T0 + 1)
    decision = keyless.route(data, T0 + 1)
    assert isinstance(decision, Reject) and decision.answer is not None
    (event,) = headend.receive(decision.answer, T0 + 1)
    assert isinstance(event, ResponseRefused) and event.invocation_id == invocation_id


def test_rejected_responses_and_garbage_get_no_answer() -> None:
    relay: Relay[str] = Relay(METER)
    plug = Association(config(PLUG))
    headend = Association(config(HEADEND))
    _, data = headend.request(PLUG, [FullRead(1)], now=T0)
    (event,) = plug.receive(data, T0)
    assert isinstance(event, RequestReceived)
    answer = plug.respond(event, [ReadResponse(b"x")], T0)
    assert answer is not None
    decision = relay.route(answer, T0)  # a response for an unknown title: nobody to tell
    assert isinstance(decision, Reject) and decision.answer is None
    assert isinstance(relay.route(b"\x61\x00", T0), Drop)
    assert isinstance(relay.route(data[:-1], T0), Drop)


def test_core_hands_misaddressed_messages_to_the_relay() -> None:
    meter = Association(config(METER))
    relay = _meter_relay()
    headend = Association(config(HEADEND))
    _, data = headend.request(PLUG, [Identify()], now=T0)
    (event,) = meter.receive(data, T0)
    assert isinstance(event, Misaddressed) and event.called == PLUG and event.data == data
    assert relay.route(event.data, T0) == Forward(hop="han:1", data=data, called=PLUG)
    assert meter.stats.misaddressed == 1


def test_relay_misuse() -> None:
    relay = _meter_relay()
    with pytest.raises(LocalProtocolError):
        relay.remove_route(ApTitle.parse(".9"))
    with pytest.raises(LocalProtocolError):
        relay.set_reachable(ApTitle.parse(".9"), True)
    with pytest.raises(LocalProtocolError):
        Relay(METER, first_invocation_id=-1)
