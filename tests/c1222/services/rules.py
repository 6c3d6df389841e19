"""Truncation and trailing-garbage rules shared by the property tests and the capture tests.

Documented legal shorter or longer bodies (everything else must raise `RemoteProtocolError`):
- a Logon without its last 2 bytes is the C12.18 Logon (no session-idle timeout), and back;
- a Security without its last 2 bytes is the Security without user id, and back;
- a Logon / Authenticate / Timing Setup ok response cut to ``00`` is a bare `OkResponse`, and back;
- a Trace ok response cut at an ApTitle boundary lists fewer titles; more titles may follow;
- an SGERR response and a non-ok response to Trace may carry data (opaque bytes / ApTitles).
Whatever decodes must re-decode to itself, so no byte is silently dropped.
"""

from __future__ import annotations

from openami.c1222.codes import ResponseCode
from openami.c1222.services import (
    Authenticate,
    AuthenticateResponse,
    ErrorResponse,
    Logon,
    LogonResponse,
    OkResponse,
    Request,
    Response,
    Security,
    TimingSetup,
    TimingSetupResponse,
    Trace,
    TraceResponse,
    decode_request,
    decode_response,
)
from openami.errors import RemoteProtocolError


def _legal_request_prefix(full: Request, short: Request) -> bool:
    if isinstance(full, Logon) and full.session_idle_timeout is not None:
        return short == Logon(full.user_id, full.user, None)
    if isinstance(full, Security) and full.user_id is not None:
        return short == Security(full.password, None)
    return False


def _legal_response_prefix(request: Request, full: Response, short: Response) -> bool:
    if isinstance(full, ErrorResponse):
        return full.code is ResponseCode.SGERR or isinstance(request, Trace)
    if isinstance(full, LogonResponse | AuthenticateResponse | TimingSetupResponse):
        return short == OkResponse()
    if isinstance(full, TraceResponse) and isinstance(short, TraceResponse):
        return full.titles[: len(short.titles)] == short.titles
    return False


def _extensible_request(request: Request) -> bool:
    return (isinstance(request, Logon) and request.session_idle_timeout is None) or (
        isinstance(request, Security) and request.user_id is None
    )


def _extensible_response(request: Request, response: Response) -> bool:
    if isinstance(response, ErrorResponse):
        return response.code is ResponseCode.SGERR or isinstance(request, Trace)
    if isinstance(response, TraceResponse):
        return True
    return isinstance(response, OkResponse) and isinstance(request, Logon | Authenticate | TimingSetup)


def check_request_prefixes(body: bytes) -> None:
    """Every proper prefix of a valid request body is rejected or a documented shorter form."""
    full = decode_request(body)
    for cut in range(len(body)):
        prefix = body[:cut]
        try:
            short = decode_request(prefix)
        except RemoteProtocolError:
            continue
        assert _legal_request_prefix(full, short), (full, prefix.hex())
        assert short.encode() == prefix


def check_response_prefixes(request: Request, body: bytes) -> None:
    """Every proper prefix of a valid response body is rejected or a documented shorter form."""
    full = decode_response(body, request)
    for cut in range(len(body)):
        prefix = body[:cut]
        try:
            short = decode_response(prefix, request)
        except RemoteProtocolError:
            continue
        assert _legal_response_prefix(request, full, short), (request, full, prefix.hex())
        assert short.encode() == prefix


def check_request_garbage(body: bytes, garbage: bytes) -> None:
    """A valid request body followed by ``garbage`` is rejected unless a documented optional field."""
    full = decode_request(body)
    try:
        longer = decode_request(body + garbage)
    except RemoteProtocolError:
        return
    assert _extensible_request(full), (full, (body + garbage).hex())
    assert decode_request(longer.encode()) == longer


def check_response_garbage(request: Request, body: bytes, garbage: bytes) -> None:
    """A valid response body followed by ``garbage`` is rejected unless the layout allows more data."""
    full = decode_response(body, request)
    try:
        longer = decode_response(body + garbage, request)
    except RemoteProtocolError:
        return
    assert _extensible_response(request, full), (request, full, (body + garbage).hex())
    assert decode_response(longer.encode(), request) == longer
