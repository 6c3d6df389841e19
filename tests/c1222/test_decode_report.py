"""Message reports (openami.c1222.decode): security verdicts, services, request/response pairing.

Expected values come from c12-protocol-facts.md (Example 8 = V6/V7: wire bytes, plaintexts, the
"PASSWORD" / ST1 / "MANUFACTURER SN " / 0x92 contents) and from tshark's reading of the nDPI capture
(procedures MF-52, SF-15, MF-62, MF-37 written to ST7, then a full read of ST8).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openami.c1222 import protect
from openami.c1222.acse import C1222Auth, Message
from openami.c1222.aptitle import ApTitle
from openami.c1222.decode import (
    MAC_BAD,
    MAC_GOOD,
    MAC_NO_KEY,
    MAC_NONE,
    MessageDecoder,
    decode_messages,
    describe_procedure,
    describe_request,
    describe_response,
    jsonable,
)
from openami.c1222.eax import EaxPrime
from openami.c1222.epsem import Epsem, EpsemControl, SecurityMode
from openami.c1222.services import (
    ConnectionType,
    FullRead,
    FullWrite,
    Identify,
    NodeType,
    OkResponse,
    PartialReadOffset,
    ReadResponse,
    Request,
    Response,
    Security,
    Wait,
)
from openami.errors import LocalProtocolError
from tests.c1222.services.strategies import exchanges

KEY = bytes.fromhex("01020304050607080102030405060708")
EX8_REQUEST = bytes.fromhex(
    "604fa20580037bc175a60480027b04a803020103ac0fa20da00ba109800102810448f3d061be2a282881268841d10cda"
    "76206811b36f781489a11997773e117cb07aa3aa40374a7107c50da7f799c5d4e8"
)
EX8_RESPONSE = bytes.fromhex(
    "6048a20480027b04a403020103a60580037bc175a803020103ac0fa20da00ba109800102810448f3d060be1e281c811a"
    "884baee4349631ab5e56a0e6e0e90dfad558591ee4ea334cb268"
)
EX8_P_REQUEST = "175150415353574f52442020202020202020202020200002083f00010000100010"
EX8_P_RESPONSE = "140000104d414e55464143545552455220534e2092"
# nDPI capture, frame 2 (UDP): four procedure writes to ST7 and a read of ST8.
NDPI_PROCEDURES = bytes.fromhex(
    "6077a211060f607c86f7540116000101400000876da60e060c607c86f75401160001014021a80402020f8abe4c284a81"
    "48800b40000700053408003e087e0f40000700090f0000024954524efeb40b40000700053e08000182371a4000070014"
    "25080024360507290000033c033cef330c0058023e03300008"
)
HOST, METER = ApTitle.parse(".123.8437"), ApTitle.parse(".123.4")


def build(
    services: list[bytes],
    mode: int = 0,
    *,
    request: bool = True,
    ident: int = 7,
    a4: int | None = None,
    called: ApTitle | None = None,
    calling: ApTitle | None = None,
    ed_class: bytes | None = None,
    key: bytes = KEY,
) -> bytes:
    control = EpsemControl(security_mode=SecurityMode(mode), ed_class_included=ed_class is not None)
    epsem = Epsem(control=control, services=tuple(services), ed_class=ed_class).encode()
    auth = C1222Auth(key_id=2, iv=(ident * 2 + (0 if request else 1)).to_bytes(4, "big")) if mode else None
    if request:
        called, calling = called or METER, calling or HOST
    else:
        called, calling = called or HOST, calling or METER
    message = Message(
        called=called,
        calling=calling,
        called_invocation_id=a4,
        calling_invocation_id=ident,
        auth=auth,
        user_information=epsem,
    )
    return protect.seal(message, key)


def assert_json(report: Any) -> None:
    assert json.loads(json.dumps(report)) == report


# ------------------------------------------------------------------------------------------ Example 8


def test_example8_with_the_key() -> None:
    request, response = decode_messages([EX8_REQUEST, EX8_RESPONSE], {2: KEY})
    assert request["kind"] == "request" and response["kind"] == "response"
    assert request["security"]["mac"] == MAC_GOOD and response["security"]["mac"] == MAC_GOOD
    assert request["security"]["plaintext"] == EX8_P_REQUEST
    assert response["security"]["plaintext"] == EX8_P_RESPONSE
    assert request["acse"]["called"] == ".123.8437" and request["acse"]["calling"] == ".123.4"
    assert request["acse"]["auth"] == {"form": "C12.22", "key_id": 2, "iv": "48f3d061"}
    security, read = request["services"]
    assert (security["type"], security["password_text"].rstrip(), security["user_id"]) == ("Security", "PASSWORD", 2)
    assert (read["type"], read["table"], read["table_name"], read["offset"], read["octet_count"]) == (
        "PartialReadOffset",
        1,
        "ST1",
        16,
        16,
    )
    (data,) = response["services"]
    assert (data["type"], data["text"], data["count"], data["checksum"]) == (
        "ReadResponse",
        "MANUFACTURER SN ",
        16,
        0x92,
    )
    assert data["checksum_ok"] is True
    assert data["request"] == {"code": 0x3F, "service": "partial read by offset", "position": 1}
    assert response["request_index"] == 0 and request["response_index"] == 1
    assert_json([request, response])


@pytest.mark.parametrize(
    ("keys", "verdict"),
    [({2: bytes(16)}, MAC_BAD), ({}, MAC_NO_KEY), ({3: KEY}, MAC_NO_KEY)],
)
def test_example8_wrong_or_missing_key(keys: dict[int, bytes], verdict: str) -> None:
    for report in decode_messages([EX8_REQUEST, EX8_RESPONSE], keys):
        assert report["security"]["mac"] == verdict
        assert "plaintext" not in report["security"] and "services" not in report
        assert report["security"]["ciphertext"] and report["kind"] == "unknown"


def test_every_prefix_and_trailing_garbage_give_a_report() -> None:
    for cut in range(len(EX8_REQUEST)):
        report = MessageDecoder({2: KEY}).decode(EX8_REQUEST[:cut])
        assert "error" in report
        assert_json(report)
    report = MessageDecoder({2: KEY}).decode(EX8_REQUEST + b"\x00")
    assert "after the C12.22 APDU" in report["error"]


@settings(max_examples=200)
@given(st.binary(max_size=120))
def test_random_bytes_give_a_report(data: bytes) -> None:
    for apdu in (data, b"\x60" + bytes((len(data),)) + data if len(data) < 0x80 else data):
        report = MessageDecoder({2: KEY}).decode(apdu)
        assert report["length"] == len(apdu)
        assert_json(report)


# ---------------------------------------------------------------------------------------- security


def test_mode1_good_and_tampered() -> None:
    apdu = build([Wait(30).encode()], 1)
    good = MessageDecoder({2: KEY}).decode(apdu)
    assert good["security"]["mac"] == MAC_GOOD and good["services"][0]["seconds"] == 30
    tampered = apdu[:-1] + bytes((apdu[-1] ^ 1,))
    bad = MessageDecoder({2: KEY}).decode(tampered)
    assert bad["security"]["mac"] == MAC_BAD
    assert bad["services"][0]["seconds"] == 30  # mode 1 is cleartext: still readable
    assert MessageDecoder().decode(apdu)["security"]["mac"] == MAC_NO_KEY


def test_cleartext_and_ed_class() -> None:
    report = MessageDecoder().decode(build([Identify().encode()], ed_class=b"EPRI"))
    assert report["security"] == {"mode": "cleartext", "mac": MAC_NONE}
    assert report["epsem"]["ed_class"] == b"EPRI".hex() and report["epsem"]["control_hex"] == "0x90"
    encrypted = MessageDecoder({2: KEY}).decode(build([Identify().encode()], 2, ed_class=b"EPRI"))
    assert encrypted["epsem"]["ed_class"] == b"EPRI".hex()


def test_secured_message_without_key_id() -> None:
    message = Message.decode(build([Wait(1).encode()], 1))
    bare = dataclasses.replace(message, auth=None).encode()
    report = MessageDecoder({2: KEY}).decode(bare)
    assert report["security"]["mac"] == MAC_NO_KEY and "session" in report["security"]["note"]


@pytest.mark.parametrize("mode", [1, 2])
def test_good_mac_over_a_malformed_epsem(mode: int) -> None:
    """A peer may authenticate garbage: the MAC is good, the EPSEM error and the plaintext are shown."""
    body = b"\x05\x20"  # a service length running past the end
    control = bytes((0x80 | mode << 2,))
    auth = C1222Auth(key_id=2, iv=b"\x00\x00\x00\x09")
    placeholder = Message(
        called=METER, calling=HOST, calling_invocation_id=9, auth=auth, user_information=control + body + bytes(4)
    )
    n = protect.canonified_cleartext(placeholder)
    eax = EaxPrime(KEY)
    sent, mac = (body, eax.tag(n + body)) if mode == 1 else eax.seal(n, body)
    apdu = dataclasses.replace(placeholder, user_information=control + sent + mac).encode()
    report = MessageDecoder({2: KEY}).decode(apdu)
    assert report["security"]["mac"] == MAC_GOOD and report["security"]["plaintext"] == body.hex()
    assert report["error"].startswith("EPSEM:")


# ------------------------------------------------------------------------------------------ pairing


def test_response_pairs_by_a4_and_mirrored_titles() -> None:
    decoder = MessageDecoder()
    decoder.decode(build([FullRead(3).encode()], ident=40, called=ApTitle.parse(".9.9")))  # other peer
    decoder.decode(build([FullRead(1).encode()], ident=40))
    answer = decoder.decode(build([ReadResponse(b"abc").encode()], request=False, ident=900, a4=40))
    assert answer["request_index"] == 1
    assert answer["services"][0]["summary"].startswith("OK to full read ST1: 3 bytes 'abc'")
    third = decoder.decode(build([ReadResponse(b"abc").encode()], request=False, ident=902, a4=40))
    assert "request_index" not in third  # answered already; the other request went to another peer
    other = ApTitle.parse(".9.9")
    again = decoder.decode(build([ReadResponse(b"abc").encode()], request=False, ident=901, a4=40, calling=other))
    assert again["request_index"] == 0
    assert third["services"][0]["raw"] == "0003616263" + f"{-sum(b'abc') & 0xFF:02x}"  # count, data, checksum


def test_response_pairs_by_a8_when_a4_is_missing() -> None:
    decoder = MessageDecoder()
    decoder.decode(build([Wait(9).encode()], ident=333976609))
    answer = decoder.decode(build([OkResponse().encode()], request=False, ident=333976609))
    assert answer["request_index"] == 0 and answer["services"][0]["type"] == "OkResponse"


def test_titles_must_mirror() -> None:
    decoder = MessageDecoder()
    decoder.decode(build([Wait(9).encode()], ident=5))
    stranger = decoder.decode(
        build([OkResponse().encode()], request=False, ident=6, a4=5, calling=ApTitle.parse(".1.2"))
    )
    assert "request_index" not in stranger
    absolute = decoder.decode(
        build([OkResponse().encode()], request=False, ident=6, a4=5, calling=METER.absolute(), called=HOST.absolute())
    )
    assert absolute["request_index"] == 0  # relative and absolute forms of one title match


def test_response_without_request_shows_code_and_raw_bytes() -> None:
    report = MessageDecoder().decode(build([b"\x0a"], request=False, a4=1))
    (service,) = report["services"]
    assert (service["response"], service["code"], service["raw"]) == ("ISSS", 0x0A, "")
    assert "invalid service sequence state" in service["description"]


def test_mixed_epsem() -> None:
    report = MessageDecoder().decode(build([Wait(1).encode(), b"\x00"]))
    assert report["kind"] == "mixed"
    assert report["services"][1]["response"] == "OK"


def test_checksum_errors_are_reported_not_raised() -> None:
    write = FullWrite(6, b"AB").encode()
    request, _ = describe_request(write[:-1] + b"\x00")
    assert request["checksum_ok"] is False and request["expected_checksum"] == (-(0x41 + 0x42)) & 0xFF
    response = describe_response(b"\x00\x00\x08testdata\x00", FullRead(0))
    assert (response["checksum"], response["expected_checksum"], response["text"]) == (0, 0xA6, "testdata")


# --------------------------------------------------------------------------------------- procedures


def test_ndpi_procedure_writes() -> None:
    report = MessageDecoder().decode(NDPI_PROCEDURES)
    services = report["services"]
    assert [s["type"] for s in services] == ["FullWrite"] * 4 + ["FullRead"]
    assert [s["table"] for s in services] == [7, 7, 7, 7, 8]
    procedures = [s["procedure"] for s in services[:4]]
    assert [(p["number"], p["manufacturer"]) for p in procedures] == [(52, True), (15, False), (62, True), (37, True)]
    assert procedures[1]["description"] == "clear specific pending tables"
    assert all(s["checksum_ok"] for s in services[:4])


def test_st8_response() -> None:
    decoder = MessageDecoder()
    decoder.decode(build([FullRead(8).encode()], ident=3))
    st8 = (10 | 0x3000).to_bytes(2, "little") + b"\x05\x00" + b"\x01\x02"
    report = decoder.decode(build([ReadResponse(st8).encode()], request=False, ident=4, a4=3))
    procedure = report["services"][0]["procedure"]
    assert (procedure["name"], procedure["sequence"], procedure["result"], procedure["response_data"]) == (
        "SP10",
        5,
        "completed",
        "0102",
    )
    assert procedure["selector_text"] == "respond now and on completion"
    assert describe_procedure(b"\x01\x00") is None and describe_procedure(b"\x01\x00\x00", result=True) is None


# ------------------------------------------------------------------------------- every service type


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(exchanges, st.sampled_from([0, 1, 2]))
def test_every_exchange_reports_its_types(exchange: tuple[Request, Response], mode: int) -> None:
    request, response = exchange
    decoder = MessageDecoder({2: KEY})
    asked = decoder.decode(build([request.encode()], mode, ident=11))
    answered = decoder.decode(build([response.encode()], mode, request=False, ident=12, a4=11))
    assert asked["services"][0]["type"] == type(request).__name__
    assert answered["services"][0]["type"] == type(response).__name__
    assert answered["request_index"] == 0
    assert all(s["summary"] for s in asked["services"] + answered["services"])
    assert_json([asked, answered])


def test_bad_keys_are_refused() -> None:
    with pytest.raises(LocalProtocolError):
        MessageDecoder({2: bytes(15)})
    with pytest.raises(LocalProtocolError):
        MessageDecoder({256: KEY})


def test_jsonable() -> None:
    assert jsonable(NodeType.RELAY | NodeType.END_DEVICE) == {"value": 0x21, "flags": ["RELAY", "END_DEVICE"]}
    assert jsonable(ConnectionType(0)) == {"value": 0, "flags": []}
    assert jsonable((b"\x01", ApTitle.parse(".1.2"), None)) == ["01", ".1.2", None]
    assert jsonable(Security(b"PW", 2)) == {"type": "Security", "password": b"PW".ljust(20).hex(), "user_id": 2}
    assert jsonable(PartialReadOffset(1, 2, 3))["octet_count"] == 3
