"""C12.22 / PSEM service codes: the response codes (0x00–0x1F) and the request codes (0x20–0x7F).

Source: c12-protocol-facts.md §3; names and descriptions cross-checked against the ``commandnames``
table of Wireshark's ``epan/dissectors/packet-c1222.c`` (wireshark/wireshark) and the
``RequestResponseCodes`` enum of INL's icsnpp-c1222 (``analyzer/c1222_enums.spicy``).
The first byte of every service body is one of these codes: a request carries a `ServiceCode`, a
response a `ResponseCode`.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "RESPONSE_CODE_MAX",
    "ResponseCode",
    "ServiceCode",
    "describe_code",
    "is_request_code",
    "is_response_code",
]

RESPONSE_CODE_MAX = 0x1F
"""Codes 0x00–0x1F are responses; 0x20–0x7F are requests (c12-protocol-facts.md §3)."""


class ResponseCode(IntEnum):
    """The response code that opens every response body (0x00 ok, 0x01–0x12 errors)."""

    OK = 0x00
    ERR = 0x01
    SNS = 0x02
    ISC = 0x03
    ONP = 0x04
    IAR = 0x05
    BSY = 0x06
    DNR = 0x07
    DLK = 0x08
    RNO = 0x09
    ISSS = 0x0A
    SME = 0x0B
    UAT = 0x0C
    NETT = 0x0D
    NETR = 0x0E
    RQTL = 0x0F
    RSTL = 0x10
    SGNP = 0x11
    SGERR = 0x12

    @property
    def description(self) -> str:
        """Human-readable meaning of the code."""
        return _RESPONSE_DESCRIPTIONS[self]

    @property
    def is_ok(self) -> bool:
        return self is ResponseCode.OK


_RESPONSE_DESCRIPTIONS: dict[ResponseCode, str] = {
    ResponseCode.OK: "ok: acknowledge, no error",
    ResponseCode.ERR: "error: rejection of the request, no reason given",
    ResponseCode.SNS: "service not supported",
    ResponseCode.ISC: "insufficient security clearance",
    ResponseCode.ONP: "operation not possible",
    ResponseCode.IAR: "inappropriate action requested",
    ResponseCode.BSY: "device busy",
    ResponseCode.DNR: "data not ready",
    ResponseCode.DLK: "data locked",
    ResponseCode.RNO: "renegotiate request",
    ResponseCode.ISSS: "invalid service sequence state",
    ResponseCode.SME: "security mechanism error",
    ResponseCode.UAT: "unknown application title",
    ResponseCode.NETT: "network time-out",
    ResponseCode.NETR: "network not reachable",
    ResponseCode.RQTL: "request too large (carries the maximum request size, 4 bytes)",
    ResponseCode.RSTL: "response too large (carries the maximum response size, 4 bytes)",
    ResponseCode.SGNP: "segmentation not possible",
    ResponseCode.SGERR: "segmentation error",
}


class ServiceCode(IntEnum):
    """Request codes. Index/baud variants encode a count in the low nibble (e.g. 0x33 = 3 indices)."""

    IDENTIFY = 0x20
    TERMINATE = 0x21
    DISCONNECT = 0x22
    DEREGISTRATION = 0x24
    RESOLVE = 0x25
    TRACE = 0x26
    REGISTRATION = 0x27
    FULL_READ = 0x30
    PREAD_INDEX_1 = 0x31
    PREAD_INDEX_2 = 0x32
    PREAD_INDEX_3 = 0x33
    PREAD_INDEX_4 = 0x34
    PREAD_INDEX_5 = 0x35
    PREAD_INDEX_6 = 0x36
    PREAD_INDEX_7 = 0x37
    PREAD_INDEX_8 = 0x38
    PREAD_INDEX_9 = 0x39
    DEFAULT_READ = 0x3E
    PREAD_OFFSET = 0x3F
    FULL_WRITE = 0x40
    PWRITE_INDEX_1 = 0x41
    PWRITE_INDEX_2 = 0x42
    PWRITE_INDEX_3 = 0x43
    PWRITE_INDEX_4 = 0x44
    PWRITE_INDEX_5 = 0x45
    PWRITE_INDEX_6 = 0x46
    PWRITE_INDEX_7 = 0x47
    PWRITE_INDEX_8 = 0x48
    PWRITE_INDEX_9 = 0x49
    DEFAULT_WRITE = 0x4E
    PWRITE_OFFSET = 0x4F
    LOGON = 0x50
    SECURITY = 0x51
    LOGOFF = 0x52
    AUTHENTICATE = 0x53
    NEGOTIATE = 0x60
    NEGOTIATE_1 = 0x61
    NEGOTIATE_2 = 0x62
    NEGOTIATE_3 = 0x63
    NEGOTIATE_4 = 0x64
    NEGOTIATE_5 = 0x65
    NEGOTIATE_6 = 0x66
    NEGOTIATE_7 = 0x67
    NEGOTIATE_8 = 0x68
    NEGOTIATE_9 = 0x69
    NEGOTIATE_10 = 0x6A
    NEGOTIATE_11 = 0x6B
    WAIT = 0x70
    TIMING_SETUP = 0x71

    @property
    def description(self) -> str:
        """Human-readable service name, e.g. ``"partial read by index (3 indices)"``."""
        value = int(self)
        if 0x31 <= value <= 0x39:
            return f"partial read by index ({value - 0x30} indices)"
        if 0x41 <= value <= 0x49:
            return f"partial write by index ({value - 0x40} indices)"
        if 0x60 <= value <= 0x6B:
            return f"negotiate ({value - 0x60} baud rates)"
        return _SERVICE_DESCRIPTIONS[self]


_SERVICE_DESCRIPTIONS: dict[ServiceCode, str] = {
    ServiceCode.IDENTIFY: "identify",
    ServiceCode.TERMINATE: "terminate",
    ServiceCode.DISCONNECT: "disconnect",
    ServiceCode.DEREGISTRATION: "deregistration",
    ServiceCode.RESOLVE: "resolve",
    ServiceCode.TRACE: "trace",
    ServiceCode.REGISTRATION: "registration",
    ServiceCode.FULL_READ: "full read",
    ServiceCode.DEFAULT_READ: "default read",
    ServiceCode.PREAD_OFFSET: "partial read by offset",
    ServiceCode.FULL_WRITE: "full write",
    ServiceCode.DEFAULT_WRITE: "default write",
    ServiceCode.PWRITE_OFFSET: "partial write by offset",
    ServiceCode.LOGON: "logon",
    ServiceCode.SECURITY: "security",
    ServiceCode.LOGOFF: "logoff",
    ServiceCode.AUTHENTICATE: "authenticate (C12.21)",
    ServiceCode.WAIT: "wait",
    ServiceCode.TIMING_SETUP: "timing setup (C12.21)",
}


def is_response_code(code: int) -> bool:
    """True for 0x00–0x1F (response codes, defined or reserved)."""
    return 0 <= code <= RESPONSE_CODE_MAX


def is_request_code(code: int) -> bool:
    """True for 0x20–0x7F (request codes, defined or reserved)."""
    return RESPONSE_CODE_MAX < code <= 0x7F


def describe_code(code: int) -> str:
    """Describe any first byte of a service body, e.g. ``0x0A`` → ``"ISSS: invalid service ..."``."""
    if code in ResponseCode._value2member_map_:
        rc = ResponseCode(code)
        return f"{rc.name}: {rc.description}"
    if code in ServiceCode._value2member_map_:
        return ServiceCode(code).description
    kind = "response" if is_response_code(code) else "request" if is_request_code(code) else "invalid"
    return f"reserved {kind} code 0x{code:02X}"
