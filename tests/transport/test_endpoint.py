"""`C1222Endpoint.refuse_oversized`: reading an oversized APDU's header from its first bytes and
answering RQTL — whole headers, every prefix, other kinds of messages, random bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1222.acse import Message
from openami.c1222.aptitle import ApTitle
from openami.c1222.association import RequestReceived, ResponseReceived
from openami.c1222.ber import decode_length
from openami.c1222.codes import ResponseCode
from openami.c1222.epsem import EpsemControl, ResponseControl
from openami.c1222.security import KeyStore, SecurityMode
from openami.c1222.services import ErrorResponse, FullWrite, OkResponse
from openami.transport import C1222Endpoint, Channel

from .support import METER, T0, headend, meter

LIMIT = 100


class Collect(Channel):
    """A channel that keeps what is sent on it."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.name = "collect"

    @property
    def closed(self) -> bool:
        return False

    def send_nowait(self, data: bytes) -> bool:
        self.sent.append(data)
        return True

    async def send(self, data: bytes) -> None:
        self.sent.append(data)

    def close(self, reason: str = "closed") -> None:
        raise AssertionError("refuse_oversized never closes")


def _big_request(
    mode: SecurityMode, response_control: ResponseControl = ResponseControl.ALWAYS
) -> tuple[C1222Endpoint, bytes]:
    """A head-end endpoint and its request APDU of about 340 bytes (a 300-byte write)."""
    client = headend(mode)
    _, data = client.association.request(METER, [FullWrite(5, bytes(300))], now=T0, response_control=response_control)
    return client, data


@pytest.mark.parametrize("mode", list(SecurityMode))
def test_rqtl_answer_matches_the_request(mode: SecurityMode) -> None:
    server_end = meter(mode, max_apdu_size=LIMIT)
    client, data = _big_request(mode)
    channel = Collect()
    assert server_end.refuse_oversized(data[:1024], len(data), channel)
    (answer,) = channel.sent
    events = client.association.receive(answer, T0)
    assert isinstance(events[0], ResponseReceived)
    assert events[0].responses == (ErrorResponse.too_large(ResponseCode.RQTL, LIMIT),)
    assert events[0].envelope.security_mode is mode
    assert server_end.stats.rqtl_sent == 1


@pytest.mark.parametrize("mode", list(SecurityMode))
def test_every_prefix_is_answered_or_refused_never_raises(mode: SecurityMode) -> None:
    """Every prefix reaching the EPSEM control byte is answered in the request's mode; prefixes that
    reach the user information (BE) but not the control byte are answered in a mode never weaker than
    the request's (mode 2 when the key element is there); shorter ones are refused. Answers always go
    to the request's calling title and A8."""
    _, data = _big_request(mode)
    request = Message.decode(data)
    be_at = data.index(b"\xbe", len(data) - len(request.user_information) - 16)
    _, pos = decode_length(data, be_at + 1)  # BE L 28 L 81 L <control>
    assert data[pos] == 0x28
    _, pos = decode_length(data, pos + 1)
    assert data[pos] == 0x81
    _, control_at = decode_length(data, pos + 1)
    for n in range(len(data) + 1):
        server_end = meter(mode, max_apdu_size=LIMIT)
        channel = Collect()
        answered = server_end.refuse_oversized(data[:n], len(data), channel)
        assert answered == bool(channel.sent)
        assert answered == (n > be_at)
        for answer in channel.sent:
            message = Message.decode(answer)
            assert message.called_invocation_id == request.calling_invocation_id
            assert message.called == request.calling
            got = EpsemControl.decode(message.user_information[0]).security_mode
            assert got is mode if n > control_at else got >= mode


def test_requests_it_cannot_answer() -> None:
    channel = Collect()
    # no element at all inside the announced APDU
    assert not meter(max_apdu_size=LIMIT).refuse_oversized(b"\x60\x82\x01\x00" + bytes(20), 260, channel)
    # a request for someone else
    other = headend()
    _, misaddressed = other.association.request(ApTitle.parse(".9.9"), [FullWrite(5, bytes(300))], now=T0)
    assert not meter(max_apdu_size=LIMIT).refuse_oversized(misaddressed, len(misaddressed), channel)
    # a key id we do not hold
    stranger = headend(SecurityMode.ENCRYPTED, keys=KeyStore({7: bytes(16)}), key_id=7)
    _, foreign = stranger.association.request(METER, [FullWrite(5, bytes(300))], now=T0)
    assert not meter(SecurityMode.ENCRYPTED, max_apdu_size=LIMIT).refuse_oversized(foreign, len(foreign), channel)
    # a response (A4 present) is not a request
    server = meter()
    _, small = headend().association.request(METER, [FullWrite(5, bytes(10))], now=T0)
    received = next(e for e in server.association.receive(small, T0) if isinstance(e, RequestReceived))
    reply = server.association.respond(received, [OkResponse()], T0)
    assert reply is not None
    assert not meter(max_apdu_size=LIMIT).refuse_oversized(reply, len(reply), channel)
    assert channel.sent == []
    # response control 'never': nothing to answer, yet the stream may go on
    _, silent = _big_request(SecurityMode.CLEARTEXT, response_control=ResponseControl.NEVER)
    assert meter(max_apdu_size=LIMIT).refuse_oversized(silent, len(silent), channel)
    assert channel.sent == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise(prefix: bytes) -> None:
    server_end = meter(max_apdu_size=LIMIT)
    channel = Collect()
    answered = server_end.refuse_oversized(prefix, 1000, channel)
    assert answered == bool(channel.sent) or (prefix[:1] == b"\x60" and not channel.sent)
    for answer in channel.sent:
        assert Message.decode(answer).called_invocation_id is not None
