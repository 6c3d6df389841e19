"""The standard's Example 8 (c12-protocol-facts.md §4, V6/V7; also c1222_std_example8.pcap): both
cores reproduce the published request and response byte for byte, and understand each other's."""

from __future__ import annotations

from openami.c1222.association import (
    Association,
    RequestReceived,
    ResponseReceived,
)
from openami.c1222.security import IvSource, SecurityMode
from openami.c1222.services import PartialReadOffset, ReadResponse, Security

from .support import HEADEND, METER, PASSWORD, USER_ID, TableStore, config

REQUEST = bytes.fromhex(
    "604fa20580037bc175a60480027b04a803020103ac0fa20da00ba109800102810448f3d061be2a282881268841d10cda76206811"
    "b36f781489a11997773e117cb07aa3aa40374a7107c50da7f799c5d4e8"
)
RESPONSE = bytes.fromhex(
    "6048a20480027b04a403020103a60580037bc175a803020103ac0fa20da00ba109800102810448f3d060be1e281c811a884baee4"
    "349631ab5e56a0e6e0e90dfad558591ee4ea334cb268"
)
REQUEST_IV = 0x48F3D061
RESPONSE_IV = 0x48F3D060
SERVICES = (Security(PASSWORD, USER_ID), PartialReadOffset(1, 0x10, 16))


def _client() -> Association:
    # IvSource(last=IV-1) with now = IV gives exactly the published IV; A8 = 3 as published.
    cfg = config(HEADEND, SecurityMode.ENCRYPTED, iv_source=IvSource(REQUEST_IV - 1))
    return Association(cfg, first_invocation_id=3)


def _server() -> Association:
    cfg = config(METER, SecurityMode.ENCRYPTED, iv_source=IvSource(RESPONSE_IV - 1))
    return Association(cfg, first_invocation_id=3)


def test_client_builds_the_published_request() -> None:
    invocation_id, data = _client().request(METER, SERVICES, now=float(REQUEST_IV))
    assert invocation_id == 3
    assert data == REQUEST


def test_server_answers_the_published_request_byte_exactly() -> None:
    server = _server()
    events = server.receive(REQUEST, float(RESPONSE_IV))
    (event,) = events
    assert isinstance(event, RequestReceived)
    assert event.requests == (SERVICES[1],)  # Security is the core's business
    assert event.security.authenticated and not event.security.in_session
    assert event.security.user_id == USER_ID
    assert event.envelope.security_mode is SecurityMode.ENCRYPTED and event.envelope.key_id == 2
    answer = server.respond(event, TableStore().answer(event), float(RESPONSE_IV))
    assert answer == RESPONSE


def test_client_accepts_the_published_response() -> None:
    client = _client()
    client.request(METER, SERVICES, now=float(REQUEST_IV))
    (event,) = client.receive(RESPONSE, float(REQUEST_IV))
    assert isinstance(event, ResponseReceived)
    assert event.invocation_id == 3 and event.peer == METER
    assert event.responses[1] == ReadResponse(b"MANUFACTURER SN ")
    assert event.responses[0].ok
    assert client.outstanding == ()
