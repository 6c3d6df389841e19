"""Dispatch: `decode_request` on the code byte, `decode_response` by the request it answers.

A body is exactly one service (code byte included), as carried by one EPSEM service element; trailing
bytes are a `RemoteProtocolError` unless a layout allows an optional trailing field (see the modules).
"""

from __future__ import annotations

from openami.c1222.codes import ResponseCode, describe_code, is_request_code
from openami.c1222.services.base import (
    ErrorResponse,
    Reader,
    Request,
    Response,
)
from openami.c1222.services.identify import Identify
from openami.c1222.services.network import Deregistration, Registration, Resolve, Trace
from openami.c1222.services.session import (
    Authenticate,
    Disconnect,
    Logoff,
    Logon,
    Negotiate,
    Security,
    Terminate,
    TimingSetup,
    Wait,
)
from openami.c1222.services.tables import (
    DefaultRead,
    DefaultWrite,
    FullRead,
    FullWrite,
    PartialReadIndex,
    PartialReadOffset,
    PartialWriteIndex,
    PartialWriteOffset,
)
from openami.errors import RemoteProtocolError

__all__ = ["REQUEST_TYPES", "decode_request", "decode_response", "request_type"]

REQUEST_TYPES: tuple[type[Request], ...] = (
    Identify,
    Terminate,
    Disconnect,
    Deregistration,
    Resolve,
    Trace,
    Registration,
    FullRead,
    PartialReadIndex,
    DefaultRead,
    PartialReadOffset,
    FullWrite,
    PartialWriteIndex,
    DefaultWrite,
    PartialWriteOffset,
    Logon,
    Security,
    Logoff,
    Authenticate,
    Negotiate,
    Wait,
    TimingSetup,
)
"""Every request class; each lists the codes it decodes in ``codes``."""


_BY_CODE: dict[int, type[Request]] = {}
for _cls in reversed(REQUEST_TYPES):  # reversed: the first class listing a code wins, as in a scan
    _BY_CODE.update(dict.fromkeys(_cls.codes, _cls))
del _cls


def request_type(code: int) -> type[Request] | None:
    """The request class for a code byte, or None if the code names no request we know."""
    return _BY_CODE.get(code)


def decode_request(body: bytes | bytearray | memoryview) -> Request:
    """Decode one request body (code byte first). Bad bytes raise `RemoteProtocolError`
    (`ChecksumError` for write data with a wrong checksum)."""
    data = bytes(body)
    if not data:
        raise RemoteProtocolError("empty service body")
    code = data[0]
    cls = _BY_CODE.get(code)
    if cls is None:
        kind = "a response code" if not is_request_code(code) else "an unknown request"
        raise RemoteProtocolError(f"service code 0x{code:02X} is {kind} ({describe_code(code)})")
    reader = Reader(data, cls.__name__, start=1)
    request = cls._decode(code, reader)
    reader.finish()
    return request


def decode_response(body: bytes | bytearray | memoryview, request: Request) -> Response:
    """Decode one response body as the answer to ``request``.

    Ok (0x00) → the request's typed response (`OkResponse` when the ok carries nothing); any other
    response code → `ErrorResponse` (a normal value, not an exception). Codes 0x13–0x1F (reserved) and
    request codes raise `RemoteProtocolError`; a read response with a wrong checksum raises
    `ChecksumError` (carrying the data).
    """
    data = bytes(body)
    if not data:
        raise RemoteProtocolError("empty response body")
    code, payload = data[0], data[1:]
    if code == ResponseCode.OK:
        return request.decode_ok(payload)
    try:
        rc = ResponseCode(code)
    except ValueError:
        raise RemoteProtocolError(f"response code 0x{code:02X} is not a response ({describe_code(code)})") from None
    if rc in (ResponseCode.RQTL, ResponseCode.RSTL):
        if len(payload) != 4:
            raise RemoteProtocolError(f"{rc.name} response: {len(payload)} bytes after the code, expected 4")
    elif rc is not ResponseCode.SGERR and not request.error_extra_allowed(payload):
        raise RemoteProtocolError(f"{rc.name} response to 0x{request.code:02X}: {len(payload)} unexpected bytes")
    return ErrorResponse(rc, payload)
