"""Bad bytes: truncation, trailing garbage, corrupted checksums, random input; bad arguments.

The bodies that may legally be shorter or longer are listed in `rules`; every other truncated or
extended body must raise `RemoteProtocolError`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1222.aptitle import ApTitle
from openami.c1222.codes import ResponseCode
from openami.c1222.services import (
    Authenticate,
    ChecksumError,
    DefaultWrite,
    ErrorResponse,
    FullRead,
    FullWrite,
    Identify,
    IdentifyResponse,
    Logon,
    Negotiate,
    NegotiateResponse,
    OkResponse,
    PartialReadIndex,
    PartialReadOffset,
    PartialWriteIndex,
    PartialWriteOffset,
    ReadResponse,
    Registration,
    Request,
    Resolve,
    Response,
    Security,
    SessionCtrlFeature,
    TimingSetup,
    Trace,
    TraceResponse,
    Wait,
    WriteRequest,
    decode_request,
    decode_response,
)
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

from .rules import check_request_garbage, check_request_prefixes, check_response_garbage, check_response_prefixes
from .strategies import exchanges, requests, requests_by_type, table_data

ABS = ApTitle((1, 3, 6, 1, 4, 1, 33507))


@settings(max_examples=150, deadline=None)
@given(requests)
def test_every_request_prefix_is_rejected_or_a_documented_short_form(request: Request) -> None:
    check_request_prefixes(request.encode())


@settings(max_examples=150, deadline=None)
@given(exchanges)
def test_every_response_prefix_is_rejected_or_a_documented_short_form(exchange: tuple[Request, Response]) -> None:
    request, response = exchange
    check_response_prefixes(request, response.encode())


@settings(max_examples=150, deadline=None)
@given(requests, st.binary(min_size=1, max_size=4))
def test_request_with_trailing_garbage(request: Request, garbage: bytes) -> None:
    check_request_garbage(request.encode(), garbage)


@settings(max_examples=150, deadline=None)
@given(exchanges, st.binary(min_size=1, max_size=4))
def test_response_with_trailing_garbage(exchange: tuple[Request, Response], garbage: bytes) -> None:
    request, response = exchange
    check_response_garbage(request, response.encode(), garbage)


def test_single_trailing_byte_rejected_where_no_optional_field_exists() -> None:
    # Concrete cases of the rule above, one per layout family.
    for request in (
        Identify(),
        FullRead(1),
        PartialReadOffset(1, 0x10, 16),
        FullWrite(7, b"\x01\x02"),
        Logon(2, b"OP", 60),
        Security(b"PASSWORD", 2),
        Wait(5),
        Negotiate(64, 1, (6,)),
        Trace(ABS),
    ):
        with pytest.raises(RemoteProtocolError):
            decode_request(request.encode() + b"\x00")
    # Logon (C12.18 form) + 1 byte: neither form.
    with pytest.raises(RemoteProtocolError):
        decode_request(Logon(2, b"OP").encode() + b"\x00")
    for request, response in (
        (FullRead(1), ReadResponse(b"abc")),
        (Identify(), IdentifyResponse(3, 1, 0, (SessionCtrlFeature(8),))),
        (Negotiate(64, 1), NegotiateResponse(64, 1, 6)),
        (Wait(5), OkResponse()),
        (FullRead(1), ErrorResponse(ResponseCode.ISC)),
        (FullRead(1), ErrorResponse.too_large(ResponseCode.RSTL, 1024)),
    ):
        with pytest.raises(RemoteProtocolError):
            decode_response(response.encode() + b"\x00", request)


@settings(max_examples=100, deadline=None)
@given(table_data, st.integers(1, 255), st.data())
def test_corrupted_checksum_is_detected_and_carries_the_data(data: bytes, delta: int, choice: st.DataObject) -> None:
    writes: list[WriteRequest] = [
        FullWrite(7, data),
        PartialWriteIndex(7, (1, 2), data),
        DefaultWrite(data),
        PartialWriteOffset(7, 3, data),
    ]
    expected = (-sum(data)) & 0xFF
    write = choice.draw(st.sampled_from(writes))
    body = bytearray(write.encode())
    body[-1] = (body[-1] + delta) & 0xFF
    with pytest.raises(ChecksumError) as info:
        decode_request(bytes(body))
    assert info.value.data == data
    assert info.value.expected == expected
    assert info.value.received == (expected + delta) & 0xFF

    read = choice.draw(st.sampled_from([FullRead(1), PartialReadIndex(1, (0,), 1), PartialReadOffset(1, 0, 5)]))
    response = bytearray(ReadResponse(data).encode())
    response[-1] = (response[-1] + delta) & 0xFF
    with pytest.raises(ChecksumError) as info:
        decode_response(bytes(response), read)
    assert isinstance(info.value, RemoteProtocolError)
    assert info.value.data == data


def test_read_count_larger_than_the_data_present() -> None:
    # count 0x0010 announced, 3 data bytes and a checksum present
    with pytest.raises(RemoteProtocolError):
        decode_response(bytes.fromhex("00 0010 414243 00"), FullRead(1))
    with pytest.raises(RemoteProtocolError):
        decode_request(bytes.fromhex("40 0007 0005 0102 fc"))


def test_response_codes_that_are_not_responses() -> None:
    for code in (0x13, 0x1F, 0x20, 0x30, 0x80, 0xFF):
        with pytest.raises(RemoteProtocolError):
            decode_response(bytes((code,)), Identify())
    for code in (0x00, 0x0A, 0x23, 0x28, 0x3A, 0x4A, 0x54, 0x6C, 0x72, 0x7F, 0xFF):
        with pytest.raises(RemoteProtocolError):
            decode_request(bytes((code,)) + bytes(30))
    with pytest.raises(RemoteProtocolError):
        decode_request(b"")
    with pytest.raises(RemoteProtocolError):
        decode_response(b"", Identify())


def test_error_response_extras() -> None:
    # RQTL / RSTL need exactly 4 bytes; other codes none (except SGERR and Trace errors).
    for bad in ("0f", "0f000001", "1000000000ff", "0a00", "0120"):
        with pytest.raises(RemoteProtocolError):
            decode_response(bytes.fromhex(bad), FullRead(1))
    assert decode_response(bytes.fromhex("0f00000400"), FullRead(1)) == ErrorResponse.too_large(ResponseCode.RQTL, 1024)
    assert decode_response(bytes.fromhex("12abcd"), FullRead(1)) == ErrorResponse(ResponseCode.SGERR, b"\xab\xcd")
    path = decode_response(bytes.fromhex("0e 06 08 2b06010401828563"), Trace(ABS))
    assert isinstance(path, ErrorResponse) and path.titles() == (ABS,)
    with pytest.raises(RemoteProtocolError):
        decode_response(bytes.fromhex("0e 06 08 2b060104018285"), Trace(ABS))


def test_relative_uid_tag_80_is_accepted_and_reencoded_with_0d() -> None:
    # icsnpp-c1222 writes relative ids with 0x80; we write the X.690 universal tag 0x0D.
    rel = ApTitle((123, 4), True)
    decoded = decode_request(bytes.fromhex("25 80 02 7b 04"))
    assert decoded == Resolve(rel)
    assert decoded.encode() == bytes.fromhex("25 0d 02 7b 04")
    assert decode_request(bytes.fromhex("25 0d 02 7b 04")) == decoded
    for bad in ("25 04 02 7b 04", "25 06 00", "25 0d 01 ff", "25 06 02 80 01"):
        with pytest.raises(RemoteProtocolError):
            decode_request(bytes.fromhex(bad))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_random_bytes_into_decode_request(body: bytes) -> None:
    try:
        request = decode_request(body)
    except ProtocolError:
        return
    assert decode_request(request.encode()) == request


_CODES = sorted({code for cls in requests_by_type for code in cls.codes})


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_CODES), st.binary(max_size=60))
def test_random_bodies_behind_valid_request_codes(code: int, rest: bytes) -> None:
    try:
        request = decode_request(bytes((code,)) + rest)
    except ProtocolError:
        return
    assert request.code == code
    assert decode_request(request.encode()) == request


@settings(max_examples=200, deadline=None)
@given(requests, st.one_of(st.binary(max_size=60), st.binary(max_size=60).map(lambda b: b"\x00" + b)))
def test_random_bytes_into_decode_response(request: Request, body: bytes) -> None:
    try:
        response = decode_response(body, request)
    except ProtocolError:
        return
    assert decode_response(response.encode(), request) == response


def test_local_errors_on_encode() -> None:
    bad_calls: list[Callable[[], object]] = [
        lambda: FullRead(0x10000),
        lambda: FullRead(-1),
        lambda: PartialReadOffset(1, 0x1000000, 1),
        lambda: PartialReadOffset(1, 0, 0x10000),
        lambda: PartialReadIndex(1, (), 1),
        lambda: PartialReadIndex(1, tuple(range(10)), 1),
        lambda: PartialReadIndex(1, (0x10000,), 1),
        lambda: FullWrite(1, bytes(0x10000)),
        lambda: PartialWriteOffset(1, 0x1000000, b""),
        lambda: PartialWriteIndex(0x10000, (1,), b""),
        lambda: ReadResponse(bytes(0x10000)),
        lambda: Logon(0x10000),
        lambda: Logon(1, b"x" * 11),
        lambda: Logon(1, b"x", 0x10000),
        lambda: Security(b"x" * 21),
        lambda: Security(b"x", 0x10000),
        lambda: Wait(256),
        lambda: Negotiate(64, 1, tuple(range(12))),
        lambda: Negotiate(0x10000, 1),
        lambda: Authenticate(bytes(256)),
        lambda: TimingSetup(256, 0, 0, 0),
        lambda: Registration(0x80, 0, bytes(4), ABS, ABS, b"", 0),  # type: ignore[arg-type]
        lambda: Registration(0, 0, bytes(3), ABS, ABS, b"", 0),  # type: ignore[arg-type]
        lambda: Registration(0, 0, bytes(4), ABS, ABS, bytes(256), 0),  # type: ignore[arg-type]
        lambda: Registration(0, 0, bytes(4), ABS, ABS, b"", 0x1000000),  # type: ignore[arg-type]
        lambda: TraceResponse(()),
        lambda: ErrorResponse(ResponseCode.OK),
        lambda: ErrorResponse(0x13),  # type: ignore[arg-type]
        lambda: ErrorResponse(ResponseCode.RQTL, b"\x00"),
        lambda: ErrorResponse.too_large(ResponseCode.RSTL, 2**32),
        lambda: SessionCtrlFeature(128),
    ]
    for call in bad_calls:
        with pytest.raises(LocalProtocolError):
            call()
