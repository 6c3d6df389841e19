"""Round trips: decode(encode(x)) == x and encode(decode(b)) == b for every request and response type."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1222.services import (
    REQUEST_TYPES,
    Request,
    Response,
    decode_request,
    decode_response,
    request_type,
)

from .strategies import error_responses, exchanges, ok_responses, requests_by_type

EXAMPLES = settings(max_examples=60, deadline=None)


def test_every_request_type_has_a_strategy() -> None:
    assert set(REQUEST_TYPES) == set(requests_by_type)


def test_request_codes_do_not_overlap() -> None:
    seen: dict[int, type[Request]] = {}
    for cls in REQUEST_TYPES:
        for code in cls.codes:
            assert code not in seen, (hex(code), cls, seen.get(code))
            seen[code] = cls
            assert request_type(code) is cls


@pytest.mark.parametrize("cls", REQUEST_TYPES, ids=lambda c: c.__name__)
@EXAMPLES
@given(data=st.data())
def test_request_round_trip(cls: type[Request], data: st.DataObject) -> None:
    request = data.draw(requests_by_type[cls])
    body = request.encode()
    assert body[0] == request.code
    assert request.code in cls.codes
    decoded = decode_request(body)
    assert decoded == request
    assert type(decoded) is cls
    assert decoded.encode() == body


@pytest.mark.parametrize("cls", REQUEST_TYPES, ids=lambda c: c.__name__)
@EXAMPLES
@given(data=st.data())
def test_ok_response_round_trip(cls: type[Request], data: st.DataObject) -> None:
    request = data.draw(requests_by_type[cls])
    response = data.draw(ok_responses(request))
    body = response.encode()
    assert body[0] == 0x00
    decoded = decode_response(body, request)
    assert decoded == response
    assert type(decoded) is type(response)
    assert decoded.ok
    assert decoded.encode() == body


@pytest.mark.parametrize("cls", REQUEST_TYPES, ids=lambda c: c.__name__)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_error_response_round_trip(cls: type[Request], data: st.DataObject) -> None:
    request = data.draw(requests_by_type[cls])
    response = data.draw(error_responses(request))
    body = response.encode()
    decoded = decode_response(body, request)
    assert decoded == response
    assert not decoded.ok
    assert decoded.encode() == body


@settings(max_examples=200, deadline=None)
@given(exchanges)
def test_exchange_round_trip(exchange: tuple[Request, Response]) -> None:
    request, response = exchange
    assert decode_request(request.encode()) == request
    body = response.encode()
    assert decode_response(body, request).encode() == body
