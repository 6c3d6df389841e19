"""Published values: the checksum checks, the plaintext services of the standard's Example 8, codes,
table-id names and hand-built bodies (each byte written out from the layouts in c12-protocol-facts.md §3).
"""

from __future__ import annotations

import pytest

from openami.c1222.aptitle import ApTitle
from openami.c1222.codes import ResponseCode, ServiceCode, describe_code, is_request_code, is_response_code
from openami.c1222.services import (
    ErrorResponse,
    FullRead,
    Identify,
    IdentifyResponse,
    Logon,
    Negotiate,
    NegotiateResponse,
    OkResponse,
    PartialReadOffset,
    PartialWriteIndex,
    ReadResponse,
    Security,
    SessionCtrlFeature,
    TimingSetup,
    decode_request,
    decode_response,
    format_table_id,
    is_manufacturer_table,
    make_table_id,
    parse_table_id,
    table_checksum,
)
from openami.errors import LocalProtocolError

from .capture_bodies import split_epsem


def test_table_checksum_published_checks() -> None:
    # c12-protocol-facts.md §3
    assert table_checksum(b"MANUFACTURER SN ") == 0x92
    assert table_checksum(b"testdata") == 0xA6
    assert table_checksum(b"") == 0x00
    assert table_checksum(b"\x01") == 0xFF


def test_example8_plaintext_services() -> None:
    # c12-protocol-facts.md §4, V6/V7: the decrypted EPSEM payloads P of the standard's Example 8
    # (everything after the control byte). Request: Security "PASSWORD", user id 2; partial read ST1
    # offset 0x10, 16 octets. Response: ok, 16 bytes "MANUFACTURER SN ", checksum 0x92.
    request_p = bytes.fromhex("175150415353574f52442020202020202020202020200002083f00010000100010")
    security_body, read_body = split_epsem(b"\x88" + request_p)
    assert decode_request(security_body) == Security(b"PASSWORD" + b" " * 12, 2)
    read = decode_request(read_body)
    assert read == PartialReadOffset(1, 0x10, 16)
    assert (security_body, read_body) == (Security(b"PASSWORD", 2).encode(), read.encode())

    response_p = bytes.fromhex("140000104d414e55464143545552455220534e2092")
    (response_body,) = split_epsem(b"\x88" + response_p)
    response = decode_response(response_body, read)
    assert response == ReadResponse(b"MANUFACTURER SN ")
    assert response.encode() == response_body


def test_hand_built_bodies() -> None:
    assert FullRead(0x0805).encode() == bytes.fromhex("30 0805")
    assert PartialReadOffset(23, 0x123456, 0x0102).encode() == bytes.fromhex("3f 0017 123456 0102")
    # 3 indices -> code 0x43; data 01 02, checksum -(1 + 2) & 0xff = 0xfd
    assert PartialWriteIndex(64, (1, 2, 3), b"\x01\x02").encode() == bytes.fromhex(
        "43 0040 0001 0002 0003 0002 0102 fd"
    )
    assert Logon(2, b"OP").encode() == bytes.fromhex("50 0002 4f50 2020202020202020")
    assert Logon(2, b"OP", 60).encode() == bytes.fromhex("50 0002 4f50 2020202020202020 003c")
    assert Logon(2, b"OP").user_name == "OP"
    # password is binary: trailing NULs stay, shorter values are blank-padded
    assert Security(b"\x00\x01").password == b"\x00\x01" + b" " * 18
    assert Security(bytes(20), 7).encode() == b"\x51" + bytes(20) + b"\x00\x07"
    assert Negotiate(256, 2, (6, 8)).encode() == bytes.fromhex("62 0100 02 06 08")
    assert Negotiate(64, 1).code == 0x60
    assert TimingSetup(1, 2, 3, 4).encode() == bytes.fromhex("71 01020304")
    assert decode_response(bytes.fromhex("00 0100 02 06"), Negotiate(256, 2, (6, 8))) == NegotiateResponse(256, 2, 6)
    assert ErrorResponse.too_large(ResponseCode.RSTL, 1024).encode() == bytes.fromhex("10 00000400")
    assert decode_response(b"\x00", TimingSetup(1, 2, 3, 4)) == OkResponse()


def test_identify_with_relative_device_class() -> None:
    # 00 | 03 01 00 | 05 81 | 06 0d 02 7b 04 | 00: sessionless, 1 session; device class .123.4
    response = decode_response(bytes.fromhex("00 030100 0581 060d027b04 00"), Identify())
    assert isinstance(response, IdentifyResponse)
    assert response.session_ctrl == SessionCtrlFeature(1, sessionless=True)
    assert response.device_class == ApTitle((123, 4), True)
    assert response.security_mechanism is None
    assert response.device_identity is None


def test_response_codes() -> None:
    names = [
        "OK",
        "ERR",
        "SNS",
        "ISC",
        "ONP",
        "IAR",
        "BSY",
        "DNR",
        "DLK",
        "RNO",
        "ISSS",
        "SME",
        "UAT",
        "NETT",
        "NETR",
        "RQTL",
        "RSTL",
        "SGNP",
        "SGERR",
    ]
    assert [c.name for c in ResponseCode] == names
    assert [int(c) for c in ResponseCode] == list(range(0x13))
    assert all(c.description for c in ResponseCode)
    assert ResponseCode.ISSS.description == "invalid service sequence state"
    assert ResponseCode.OK.is_ok and not ResponseCode.ERR.is_ok
    assert is_response_code(0x1F) and not is_response_code(0x20)
    assert is_request_code(0x20) and is_request_code(0x7F) and not is_request_code(0x80)


def test_service_codes() -> None:
    expected = {
        "IDENTIFY": 0x20,
        "TERMINATE": 0x21,
        "DISCONNECT": 0x22,
        "DEREGISTRATION": 0x24,
        "RESOLVE": 0x25,
        "TRACE": 0x26,
        "REGISTRATION": 0x27,
        "FULL_READ": 0x30,
        "DEFAULT_READ": 0x3E,
        "PREAD_OFFSET": 0x3F,
        "FULL_WRITE": 0x40,
        "DEFAULT_WRITE": 0x4E,
        "PWRITE_OFFSET": 0x4F,
        "LOGON": 0x50,
        "SECURITY": 0x51,
        "LOGOFF": 0x52,
        "AUTHENTICATE": 0x53,
        "NEGOTIATE": 0x60,
        "WAIT": 0x70,
        "TIMING_SETUP": 0x71,
    }
    for n in range(1, 10):
        expected[f"PREAD_INDEX_{n}"] = 0x30 + n
        expected[f"PWRITE_INDEX_{n}"] = 0x40 + n
    for n in range(1, 12):
        expected[f"NEGOTIATE_{n}"] = 0x60 + n
    assert {c.name: int(c) for c in ServiceCode} == expected
    assert all(c.description for c in ServiceCode)
    assert ServiceCode.PREAD_INDEX_3.description == "partial read by index (3 indices)"
    assert describe_code(0x0A).startswith("ISSS")
    assert describe_code(0x23) == "reserved request code 0x23"


@pytest.mark.parametrize(
    ("table_id", "name"),
    [(0, "ST0"), (1, "ST1"), (2047, "ST2047"), (0x0800, "MT0"), (0x0805, "MT5"), (2048 + 64, "MT64")],
)
def test_table_names(table_id: int, name: str) -> None:
    assert format_table_id(table_id) == name
    assert parse_table_id(name) == table_id
    assert is_manufacturer_table(table_id) == name.startswith("MT")
    assert make_table_id(table_id & 0x7FF, manufacturer=table_id >= 0x800) == table_id


def test_table_name_edge_cases() -> None:
    assert format_table_id(0x1001) == "pending ST1"
    assert format_table_id(0x1805) == "pending MT5"
    assert format_table_id(0x8001) == "ST1 (0x8001)"
    for bad in ("XT1", "ST", "ST2048", ""):
        with pytest.raises(LocalProtocolError):
            parse_table_id(bad)
    for bad_id in (-1, 0x10000):
        with pytest.raises(LocalProtocolError):
            format_table_id(bad_id)
