"""Replays, tampering, key ids and the checks a careful client makes on a response (facts §1)."""

from __future__ import annotations

import pytest

from openami.c1222 import protect
from openami.c1222.acse import C1222Auth, Message
from openami.c1222.aptitle import ApTitle
from openami.c1222.association import (
    Association,
    BadMac,
    DuplicateRequest,
    FailReason,
    Misaddressed,
    ProtocolViolation,
    ReplayRefused,
    RequestFailed,
    RequestReceived,
    ResponseReceived,
    ResponseRefused,
    Transmit,
    UnknownKey,
)
from openami.c1222.codes import ResponseCode
from openami.c1222.epsem import Epsem, EpsemControl
from openami.c1222.security import Refusal, SecurityMode
from openami.c1222.services import (
    ErrorResponse,
    FullRead,
    FullWrite,
    Identify,
    Logon,
    ReadResponse,
    Security,
    Terminate,
)

from .support import HEADEND, KEY_A, KEY_B, METER, PASSWORD, ST1, T0, USER_ID, Pair, config

SECURED = [SecurityMode.AUTHENTICATED, SecurityMode.ENCRYPTED]


def _flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def _craft(
    invocation_id: int | None,
    services: list[bytes],
    *,
    mode: SecurityMode,
    key_id: int = 2,
    key: bytes = KEY_A,
    called: ApTitle = HEADEND,
    calling: ApTitle = METER,
    iv: bytes = b"\x65\x53\xf1\x00",
) -> bytes:
    """A response built with acse + epsem + protect only (not with the core under test)."""
    message = Message(
        called=called,
        called_invocation_id=invocation_id,
        calling=calling,
        calling_invocation_id=77,
        auth=C1222Auth(key_id=key_id, iv=iv) if mode else None,
        user_information=Epsem(control=EpsemControl(security_mode=mode), services=tuple(services)).encode(),
    )
    return protect.seal(message, key if mode else None)


@pytest.mark.parametrize("mode", list(SecurityMode))
def test_replayed_request_is_refused_and_counted(mode: SecurityMode) -> None:
    pair = Pair.make(mode, duplicate_window=0)  # no retry cache: every copy goes to the replay guard
    _, data = pair.client.request(METER, [Security(PASSWORD, USER_ID), FullWrite(5, b"R" * 20)], now=T0)
    assert len(pair.serve(data, T0)) == 1
    events = pair.server.receive(data, T0 + 10)
    expected = Refusal.REPLAYED_INVOCATION_ID if mode is SecurityMode.CLEARTEXT else Refusal.REPLAYED_IV
    assert events == [ReplayRefused(peer=HEADEND, reason=expected, invocation_id=1)]
    assert pair.server.stats.replays == 1
    assert pair.server.stats.requests_received == 1
    if mode is not SecurityMode.CLEARTEXT:  # long after: the IV (a time) is stale
        (late,) = pair.server.receive(data, T0 + 10_000)
        assert isinstance(late, ReplayRefused) and late.reason is Refusal.STALE
        assert pair.server.stats.replays == 2


@pytest.mark.parametrize("mode", SECURED)
def test_replay_within_the_retry_window_is_not_executed_again(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    _, data = pair.client.request(METER, [Security(PASSWORD, USER_ID), FullWrite(5, b"1" * 20)], now=T0)
    (first,) = pair.serve(data, T0)
    pair.store.tables[5][:] = bytes(20)  # if the write ran again, the table would change back
    events = pair.server.receive(data, T0 + 1)
    assert events == [
        DuplicateRequest(peer=HEADEND, invocation_id=1),
        Transmit(peer=HEADEND, data=first, invocation_id=1),
    ]
    assert bytes(pair.store.tables[5]) == bytes(20)
    assert pair.server.stats.duplicates == 1


@pytest.mark.parametrize("mode", SECURED)
def test_tampered_request_gives_bad_mac_and_the_association_continues(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    invocation_id, data = pair.client.request(METER, [FullRead(1)], now=T0)
    for index in (len(data) - 1, len(data) - 6):  # a MAC byte, a body byte
        assert pair.server.receive(_flip(data, index), T0) == [BadMac(peer=HEADEND, key_id=2)]
    assert pair.server.stats.bad_mac == 2
    (answer,) = pair.serve(data, T0)
    (event,) = pair.client.receive(answer, T0)
    assert isinstance(event, ResponseReceived) and event.responses == (ReadResponse(ST1),)
    assert event.invocation_id == invocation_id


@pytest.mark.parametrize("mode", SECURED)
def test_tampered_response_gives_bad_mac_then_the_real_one_is_accepted(mode: SecurityMode) -> None:
    pair = Pair.make(mode)
    _, data = pair.client.request(METER, [FullRead(1)], now=T0)
    (answer,) = pair.serve(data, T0)
    assert pair.client.receive(_flip(answer, len(answer) - 2), T0) == [BadMac(peer=METER, key_id=2)]
    assert pair.client.stats.bad_mac == 1 and pair.client.outstanding == (1,)
    (event,) = pair.client.receive(answer, T0)
    assert isinstance(event, ResponseReceived)


@pytest.mark.parametrize("mode", SECURED)
def test_unknown_key_id_and_wrong_key(mode: SecurityMode) -> None:
    client = Association(config(HEADEND, mode, keys={2: KEY_A, 7: KEY_B}))
    server = Association(config(METER, mode))  # holds key 2 only
    _, data = client.request(METER, [Identify()], now=T0, key_id=7)
    assert server.receive(data, T0) == [UnknownKey(peer=HEADEND, key_id=7)]
    assert server.stats.unknown_key == 1
    other = Association(config(METER, mode, keys={2: KEY_B}))  # same id, another key
    _, data = client.request(METER, [Identify()], now=T0)
    assert other.receive(data, T0) == [BadMac(peer=HEADEND, key_id=2)]


@pytest.mark.parametrize("mode", SECURED)
def test_response_under_another_key_id_is_refused(mode: SecurityMode) -> None:
    client = Association(config(HEADEND, mode, keys={2: KEY_A, 3: KEY_B}))
    invocation_id, _ = client.request(METER, [FullRead(1)], now=T0)
    read_ok = ReadResponse(ST1).encode()
    forged = _craft(invocation_id, [read_ok], mode=mode, key_id=3, key=KEY_B)
    (event,) = client.receive(forged, T0)
    assert isinstance(event, ResponseRefused) and "key id 3" in event.reason
    assert client.outstanding == (invocation_id,)
    (event,) = client.receive(_craft(invocation_id, [read_ok], mode=mode), T0)
    assert isinstance(event, ResponseReceived) and event.responses == (ReadResponse(ST1),)


def test_undecodable_response_fails_the_request() -> None:
    client = Association(config(HEADEND, SecurityMode.AUTHENTICATED))
    invocation_id, _ = client.request(METER, [Identify()], now=T0)
    # "00" alone is not an Identify response (std, ver, rev and the feature list are missing)
    violation, failed = client.receive(_craft(invocation_id, [b"\x00"], mode=SecurityMode.AUTHENTICATED), T0)
    assert isinstance(violation, ProtocolViolation) and violation.peer == METER
    assert isinstance(failed, RequestFailed) and failed.reason is FailReason.BAD_RESPONSE
    assert failed.invocation_id == invocation_id and client.outstanding == ()
    # more responses than requests, or fewer with the last one ok, are bad too (each answer its own IV)
    mode = SecurityMode.AUTHENTICATED
    invocation_id, _ = client.request(METER, [Terminate()], now=T0)
    events = client.receive(_craft(invocation_id, [b"\x00", b"\x00"], mode=mode, iv=b"\x65\x53\xf1\x01"), T0)
    assert [type(e) for e in events] == [ProtocolViolation, RequestFailed]
    invocation_id, _ = client.request(METER, [Terminate(), Terminate()], now=T0)
    events = client.receive(_craft(invocation_id, [b"\x00"], mode=mode, iv=b"\x65\x53\xf1\x02"), T0)
    assert [type(e) for e in events] == [ProtocolViolation, RequestFailed]
    # fewer, the last one an error: the peer stopped there
    invocation_id, _ = client.request(METER, [Terminate(), Terminate()], now=T0)
    (event,) = client.receive(_craft(invocation_id, [b"\x06"], mode=mode, iv=b"\x65\x53\xf1\x03"), T0)
    assert isinstance(event, ResponseReceived) and event.responses == (ErrorResponse(ResponseCode.BSY),)
    assert not event.ok


def test_cleartext_or_weaker_answer_to_a_secured_request_is_refused() -> None:
    client = Association(config(HEADEND, SecurityMode.ENCRYPTED))
    invocation_id, _ = client.request(METER, [FullRead(1)], now=T0)
    read_ok = ReadResponse(ST1).encode()
    for mode in (SecurityMode.CLEARTEXT, SecurityMode.AUTHENTICATED):
        (event,) = client.receive(_craft(invocation_id, [read_ok], mode=mode), T0)
        assert isinstance(event, ResponseRefused) and mode.name in event.reason
    assert client.stats.refused_responses == 2
    (event,) = client.receive(_craft(invocation_id, [read_ok], mode=SecurityMode.ENCRYPTED), T0)
    assert isinstance(event, ResponseReceived) and event.responses == (ReadResponse(ST1),)


def test_titles_must_be_swapped_and_a4_present() -> None:
    client = Association(config(HEADEND, SecurityMode.AUTHENTICATED))
    invocation_id, _ = client.request(METER, [FullRead(1)], now=T0)
    read_ok = ReadResponse(ST1).encode()
    mode = SecurityMode.AUTHENTICATED
    (event,) = client.receive(_craft(invocation_id, [read_ok], mode=mode, calling=ApTitle.parse(".123.9")), T0)
    assert isinstance(event, ResponseRefused) and "not the peer asked" in event.reason
    (event,) = client.receive(_craft(invocation_id, [read_ok], mode=mode, called=ApTitle.parse(".123.5")), T0)
    assert isinstance(event, Misaddressed) and event.called == ApTitle.parse(".123.5")
    (event,) = client.receive(_craft(None, [read_ok], mode=mode), T0)
    assert isinstance(event, ResponseRefused) and "A4" in event.reason
    (event,) = client.receive(_craft(invocation_id + 1, [read_ok], mode=mode), T0)
    assert isinstance(event, ResponseRefused) and event.invocation_id == invocation_id + 1
    # absolute form of the same titles is the same title
    absolute = _craft(invocation_id, [read_ok], mode=mode, called=HEADEND.absolute(), calling=METER.absolute())
    (event,) = client.receive(absolute, T0)
    assert isinstance(event, ResponseReceived)


def test_replayed_response_is_refused() -> None:
    pair = Pair.make(SecurityMode.AUTHENTICATED)
    first_id, data = pair.client.request(METER, [FullRead(1)], now=T0)
    (answer,) = pair.serve(data, T0)
    assert isinstance(pair.client.receive(answer, T0)[0], ResponseReceived)
    # the same response again: nothing outstanding under that id any more
    (event,) = pair.client.receive(answer, T0)
    assert isinstance(event, ResponseRefused) and event.invocation_id == first_id


def test_request_events_carry_the_security_context() -> None:
    pair = Pair.make(SecurityMode.ENCRYPTED)
    _, data = pair.client.request(METER, [Security(PASSWORD, USER_ID), FullRead(1)], now=T0)
    (event,) = pair.server.receive(data, T0)
    assert isinstance(event, RequestReceived)
    assert event.security.security_mode is SecurityMode.ENCRYPTED and event.security.key_id == 2
    assert event.envelope.iv is not None and event.peer == HEADEND


def test_session_messages_without_ac_use_the_logon_key_material() -> None:
    pair = Pair.make(SecurityMode.AUTHENTICATED)
    pair.call([Logon(USER_ID, b"OP", 60)])
    (logon,) = [e for e in pair.server_events if isinstance(e, RequestReceived)]
    iv = logon.envelope.iv
    assert iv is not None
    control = EpsemControl(security_mode=SecurityMode.AUTHENTICATED)
    message = Message(
        called=METER,
        calling=HEADEND,
        calling_invocation_id=50,
        user_information=Epsem(control=control, services=(FullRead(1).encode(),)).encode(),
    )
    data = protect.seal(message, KEY_A, key_id=2, iv=iv)  # no AC: key id and IV come from the session
    (event,) = pair.server.receive(data, T0 + 1)
    assert isinstance(event, RequestReceived) and event.requests == (FullRead(1),)
    assert event.envelope.key_id == 2 and event.envelope.iv == iv
    # outside a session the same kind of message cannot be opened
    stranger = Association(config(METER, SecurityMode.AUTHENTICATED))
    (event,) = stranger.receive(data, T0 + 1)
    assert isinstance(event, ProtocolViolation)
