"""Service bodies from the cleartext captures in /work/shared/c1222-pcaps, decoded and re-encoded.

Expected values were read by eye from a hex dump of each file (``xxd``); the byte-level reading is
written next to each assertion. The icsnpp captures (parsitects/icsnpp-c1222 @ ba911f6a) are synthetic
(scapy) and not authoritative; the nDPI trace (ntop/nDPI @ 3b1286ab) is real device traffic.
"""

from __future__ import annotations

import pytest

from openami.c1222.aptitle import ApTitle
from openami.c1222.codes import ResponseCode
from openami.c1222.services import (
    ChecksumError,
    ConnectionType,
    DeviceClassFeature,
    DeviceIdentityFeature,
    ErrorResponse,
    FullRead,
    FullWrite,
    Identify,
    IdentifyResponse,
    Logon,
    LogonResponse,
    NodeType,
    OkResponse,
    PartialReadIndex,
    ReadResponse,
    RegInfo,
    Registration,
    RegistrationResponse,
    Request,
    Resolve,
    ResolveResponse,
    Response,
    Security,
    SecurityMechanismFeature,
    SessionCtrlFeature,
    Trace,
    TraceResponse,
    Wait,
    decode_request,
    decode_response,
    format_table_id,
)

from .capture_bodies import CAPTURES, cleartext_epsems
from .rules import check_request_garbage, check_request_prefixes, check_response_garbage, check_response_prefixes

pytestmark = pytest.mark.skipif(not CAPTURES.is_dir(), reason=f"capture folder {CAPTURES} is absent")

# 06 08 2b 06 01 04 01 82 85 63: 2b = 1.3, then 6, 1, 4, 1, and 82 85 63 = (2·128 + 5)·128 + 99 = 33507
ELSTER = ApTitle((1, 3, 6, 1, 4, 1, 33507))
# 06 0f ... 8e 7f = 14·128 + 127 = 1919; 85 f1 c2 4e = 12345678; 00 = 0
ELSTER_NODE = ApTitle((1, 3, 6, 1, 4, 1, 33507, 1919, 12345678, 0))


def _exchange(name: str) -> tuple[bytes, bytes]:
    epsems = cleartext_epsems(CAPTURES / name)
    assert len(epsems) == 2, epsems  # one request EPSEM, one response EPSEM
    (request,), (response,) = epsems  # one service each
    return request, response


def _check(name: str, request: Request, response: Response) -> None:
    req_body, resp_body = _exchange(name)
    decoded = decode_request(req_body)
    assert decoded == request
    assert decoded.encode() == req_body
    answer = decode_response(resp_body, decoded)
    assert answer == response
    assert answer.encode() == resp_body
    # every truncation and a trailing byte of each real body (rules.py lists the legal exceptions)
    check_request_prefixes(req_body)
    check_response_prefixes(decoded, resp_body)
    for garbage in (b"\x00", b"\xff", b"\x06\x01"):
        check_request_garbage(req_body, garbage)
        check_response_garbage(decoded, resp_body, garbage)


def test_identify() -> None:
    # request 20; response 00 | 03 01 00 | 04 06 08 <ELSTER> | 05 08 | 06 06 08 <ELSTER>
    #                      | 07 0b 01 00 01 02 03 0a 04 0d 05 06 07 | 00
    _check(
        "c1222_ident_service_tcp.pcap",
        Identify(),
        IdentifyResponse(
            3,
            1,
            0,
            (
                SecurityMechanismFeature(ELSTER),
                SessionCtrlFeature(8, sessionless=False),  # 0x08: 8 sessions, bit 7 clear
                DeviceClassFeature(ELSTER),
                DeviceIdentityFeature(1, bytes.fromhex("00010203 0a040d05 0607")),  # len 0x0b = 1 + 10
            ),
        ),
    )


def test_logon() -> None:
    # 50 | 12 34 | "helloworld" | 00 00 -> user id 0x1234, idle timeout 0; response 00 | 00 00
    _check("c1222_logon_service_tcp.pcap", Logon(0x1234, b"helloworld", 0), LogonResponse(0))


def test_security() -> None:
    # 51 | 00×8 "password1234" (20 bytes, no user id); response 00
    _check("c1222_security_service_tcp.pcap", Security(bytes(8) + b"password1234"), OkResponse())


def test_wait() -> None:
    # 70 | 70 -> wait 0x70 = 112 s; response 00
    _check("c1222_wait_service_tcp.pcap", Wait(112), OkResponse())


def test_registration() -> None:
    # 27 | fd | ef | 01 82 85 63 | 06 08 <ELSTER> | 06 08 <ELSTER> | 08 "fizzbuzz" | 01 02 03 | 04 "beef"
    # fd: bit 7 (my-domain-pattern follows) + 0x7d = relay, host, notification host, authentication host,
    # end device and the reserved bit 6. Response 00 | 06 08 <ELSTER> | 0e 10 | 00 00 00 | ef
    node = (
        NodeType.RELAY
        | NodeType.HOST
        | NodeType.NOTIFICATION_HOST
        | NodeType.AUTHENTICATION_HOST
        | NodeType.END_DEVICE
        | NodeType(0x40)
    )
    _check(
        "c1222_reg_service_tcp.pcap",
        Registration(
            node,
            ConnectionType(0xEF),
            bytes.fromhex("01828563"),
            ELSTER,
            ELSTER,
            b"fizzbuzz",
            0x010203,
            b"beef",
        ),
        RegistrationResponse(ELSTER, 3600, 0, RegInfo(0xEF)),
    )


def test_resolve() -> None:
    # 25 | 06 08 <ELSTER>; response 00 | 0c "localaddress"
    _check("c1222_resolve_service_tcp.pcap", Resolve(ELSTER), ResolveResponse(b"localaddress"))


def test_trace() -> None:
    # 26 | 06 08 <ELSTER>; response 00 | 06 08 <ELSTER> | 06 0f <ELSTER_NODE>
    _check("c1222_trace_service_tcp.pcap", Trace(ELSTER), TraceResponse((ELSTER, ELSTER_NODE)))


def test_service_error() -> None:
    # request 20 (identify); response 0a = ISSS
    _check("c1222_service_error_tcp.pcap", Identify(), ErrorResponse(ResponseCode.ISSS))


def test_read_with_the_wrong_checksum_is_detected() -> None:
    # request 31 | 00 00 | 00 00 | 00 01: partial read by 1 index of ST0, index 0, 1 element.
    # response 00 | 00 08 | "testdata" | 00 -- PROVENANCE.md: the checksum should be 0xa6.
    req_body, resp_body = _exchange("c1222_rw_service_tcp.pcap")
    request = decode_request(req_body)
    assert request == PartialReadIndex(0, (0,), 1)
    assert format_table_id(request.table) == "ST0"
    assert request.encode() == req_body
    with pytest.raises(ChecksumError) as info:
        decode_response(resp_body, request)
    assert info.value.data == b"testdata"
    assert info.value.received == 0x00
    assert info.value.expected == 0xA6
    # with the checksum corrected the same bytes decode
    fixed = resp_body[:-1] + b"\xa6"
    assert decode_response(fixed, request) == ReadResponse(b"testdata")
    check_response_prefixes(request, fixed)
    check_request_prefixes(req_body)


def test_ndpi_udp_trace() -> None:
    # Frame 1 EPSEM: 80 | 01 20 (identify).
    # Frame 2 EPSEM: 80 | 0b 40 0007 0005 3408003e08 7e | 0f 40 0007 0009 0f000002495452 4efe b4
    #               | 0b 40 0007 0005 3e08000182 37 | 1a 40 0007 0014 <20 bytes> 3e | 03 30 0008
    # i.e. four full writes of ST7 (procedure requests) and a full read of ST8 (the procedure response).
    # The TCP pair of the same file is ciphertext (control 0x88) and is not returned by the helper.
    epsems = cleartext_epsems(CAPTURES / "ndpi_c1222.pcapng")
    assert len(epsems) == 2
    assert [decode_request(b) for b in epsems[0]] == [Identify()]
    services = [decode_request(b) for b in epsems[1]]
    assert services == [
        FullWrite(7, bytes.fromhex("34 08 00 3e 08")),
        FullWrite(7, bytes.fromhex("0f 00 00 02 49 54 52 4e fe")),
        FullWrite(7, bytes.fromhex("3e 08 00 01 82")),
        FullWrite(7, bytes.fromhex("25 08 00 24 36 05 07 29 00 00 03 3c 03 3c ef 33 0c 00 58 02")),
        FullRead(8),
    ]
    assert [s.encode() for s in services] == epsems[1]  # the checksums 7e, b4, 37, 3e were valid
    for body in epsems[1]:
        check_request_prefixes(body)
        check_request_garbage(body, b"\x00")
    assert [format_table_id(s.table) for s in services if isinstance(s, FullWrite | FullRead)] == [
        "ST7",
        "ST7",
        "ST7",
        "ST7",
        "ST8",
    ]
    # ST7 starts with TABLE_IDB_BFLD, little-endian here (as Wireshark reads it): 0x0834 = bit 11
    # (manufacturer procedure) + procedure 52, sequence number 0.
    first = services[0]
    assert isinstance(first, FullWrite)
    proc = int.from_bytes(first.data[:2], "little")
    assert (proc & 0x07FF, bool(proc & 0x0800), first.data[2]) == (52, True, 0)
