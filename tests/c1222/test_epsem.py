"""EPSEM control byte, body and envelope (openami.c1222.epsem); layouts from c12-protocol-facts.md §2."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1222.epsem import (
    ED_CLASS_SIZE,
    MAC_SIZE,
    Epsem,
    EpsemControl,
    ResponseControl,
    SecurityMode,
    decode_epsem_body,
    encode_epsem_body,
    join_epsem,
    split_epsem,
)
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

# Example 8 request plaintext P (facts V6): Security "PASSWORD" user id 2; Partial Read ST1 @0x10 x16.
V6_P = bytes.fromhex("175150415353574f52442020202020202020202020200002083f00010000100010")
# EAX′ paper vector 1 P: ED class "TEMP", then one Full Write of ST7.
V1_P = bytes.fromhex("54454d500b40000700051a00000200e4")
# nDPI capture, UDP frame 2: four writes to ST7 and a read of ST8 in one EPSEM (tshark: 40,40,40,40,30).
NDPI_EPSEM = bytes.fromhex(
    "800b40000700053408003e087e0f40000700090f0000024954524efeb40b40000700053e08000182371a40000700142508"
    "0024360507290000033c033cef330c0058023e03300008"
)


def length(n: int, octets: int = 0) -> bytes:
    """The test's BER length writer (``octets`` > 0 forces that many long-form octets)."""
    if octets == 0:
        if n < 0x80:
            return bytes((n,))
        octets = (n.bit_length() + 7) // 8
    return bytes((0x80 | octets,)) + n.to_bytes(octets, "big")


# ------------------------------------------------------------------------------------- control byte


@pytest.mark.parametrize(
    ("byte", "fields"),
    [
        (0x80, {}),
        (0x84, {"security_mode": SecurityMode.AUTHENTICATED}),
        (0x88, {"security_mode": SecurityMode.ENCRYPTED}),
        (
            0x9A,
            {
                "ed_class_included": True,
                "security_mode": SecurityMode.ENCRYPTED,
                "response_control": ResponseControl.NEVER,
            },
        ),
        (0x81, {"response_control": ResponseControl.ON_EXCEPTION}),
        (0xC0, {"recovery_session": True}),
        (0xA0, {"proxy_service_used": True}),
        (0x00, {"reserved": False}),
    ],
)
def test_control_byte(byte: int, fields: dict[str, object]) -> None:
    control = EpsemControl(**fields)  # type: ignore[arg-type]
    assert control.encode() == bytes((byte,))
    assert control.to_int() == byte
    assert EpsemControl.decode(byte) == control
    assert EpsemControl.decode(bytes((byte,))) == control


def test_all_control_bytes() -> None:
    for byte in range(256):
        if (byte >> 2) & 3 == 3 or byte & 3 == 3:  # reserved security mode / response control
            with pytest.raises(RemoteProtocolError):
                EpsemControl.decode(byte)
            continue
        control = EpsemControl.decode(byte)
        assert control.encode() == bytes((byte,))
        assert int(control.security_mode) == (byte >> 2) & 3
        assert int(control.response_control) == byte & 3
        assert control.ed_class_included == bool(byte & 0x10)


def test_control_errors() -> None:
    with pytest.raises(RemoteProtocolError):
        EpsemControl.decode(b"")
    with pytest.raises(RemoteProtocolError):
        EpsemControl.decode(b"\x80\x80")
    with pytest.raises(LocalProtocolError):
        EpsemControl.decode(256)
    with pytest.raises(LocalProtocolError):
        EpsemControl(security_mode=3)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------- body


def test_example8_body() -> None:
    ed_class, services = decode_epsem_body(V6_P, False)
    assert ed_class is None
    assert services == (
        b"\x51" + b"PASSWORD".ljust(20) + b"\x00\x02",
        bytes.fromhex("3f 0001 000010 0010"),
    )
    assert encode_epsem_body(None, services) == V6_P


def test_ed_class_body() -> None:
    ed_class, services = decode_epsem_body(V1_P, True)
    assert ed_class == b"TEMP"
    assert services == (bytes.fromhex("40 0007 0005 1a00000200 e4"),)
    assert encode_epsem_body(ed_class, services) == V1_P


def test_ndpi_epsem_five_services() -> None:
    epsem = Epsem.decode(NDPI_EPSEM)
    assert epsem.control == EpsemControl()
    assert [s[0] for s in epsem.services] == [0x40, 0x40, 0x40, 0x40, 0x30]
    assert epsem.services[-1] == bytes.fromhex("300008")
    assert epsem.encode() == NDPI_EPSEM


@pytest.mark.parametrize("size", [1, 0x7F, 0x80, 0xFF, 0x100, 0x1_0000])
def test_long_service_lengths(size: int) -> None:
    service = b"\x40" + bytes(size - 1)
    body = encode_epsem_body(None, [service, b"\x52"])
    assert body == length(size) + service + b"\x01\x52"
    assert decode_epsem_body(body, False) == (None, (service, b"\x52"))


def test_non_minimal_lengths_and_end_marker_are_read() -> None:
    for octets in (1, 2, 3, 4):
        body = length(3, octets) + b"\x30\x00\x01" + length(1, octets) + b"\x52"
        assert decode_epsem_body(body, False) == (None, (b"\x30\x00\x01", b"\x52"))
    # A zero length as the last octet ends the list (MeteringSDK, INL's parser).
    assert decode_epsem_body(b"\x01\x20\x00", False) == (None, (b"\x20",))
    assert decode_epsem_body(b"EDCL\x01\x20\x00", True) == (b"EDCL", (b"\x20",))


@pytest.mark.parametrize(
    ("body", "ed"),
    [
        (b"", False),  # no service
        (b"\x00", False),  # only an end marker
        (b"EDC", True),  # ED class cut short
        (b"EDCL", True),  # ED class, no service
        (b"\x02\x20", False),  # service runs past the end
        (b"\x01\x20\x00\x01\x21", False),  # zero length in the middle
        (b"\x01\x20\x00\x00", False),  # two zero lengths
        (b"\x01\x20\x81", False),  # length cut short
        (b"\x80", False),  # indefinite length
        (b"\x85\x00\x00\x00\x00\x01\x20", False),  # 5 length octets
    ],
)
def test_malformed_body(body: bytes, ed: bool) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_epsem_body(body, ed)


def test_encode_body_errors() -> None:
    with pytest.raises(LocalProtocolError):
        encode_epsem_body(None, [])
    with pytest.raises(LocalProtocolError):
        encode_epsem_body(None, [b""])
    with pytest.raises(LocalProtocolError):
        encode_epsem_body(b"ABC", [b"\x20"])


# ------------------------------------------------------------------------------------- split / join


def test_split_join() -> None:
    control = EpsemControl(security_mode=SecurityMode.ENCRYPTED)
    wire = b"\x88" + b"cipher" + b"MAC!"
    assert split_epsem(wire) == (control, b"cipher", b"MAC!")
    assert join_epsem(control, b"cipher", b"MAC!") == wire
    assert split_epsem(b"\x80\x01\x20") == (EpsemControl(), b"\x01\x20", None)
    assert join_epsem(EpsemControl(), b"\x01\x20") == b"\x80\x01\x20"
    with pytest.raises(RemoteProtocolError):
        split_epsem(b"")
    with pytest.raises(RemoteProtocolError):
        split_epsem(b"\x84MAC!")  # a MAC but no body
    with pytest.raises(LocalProtocolError):
        join_epsem(EpsemControl(), b"\x01\x20", b"MAC!")
    with pytest.raises(LocalProtocolError):
        join_epsem(control, b"x", b"MA")


def test_epsem_envelope() -> None:
    control = EpsemControl(security_mode=SecurityMode.AUTHENTICATED, ed_class_included=True)
    epsem = Epsem(control=control, services=(b"\x20",), ed_class=b"EDCL", mac=b"\x01\x02\x03\x04")
    wire = b"\x94EDCL\x01\x20\x01\x02\x03\x04"
    assert epsem.encode() == wire
    assert epsem.body() == b"EDCL\x01\x20"
    assert Epsem.decode(wire) == epsem
    unsealed = Epsem(control=control, services=(b"\x20",), ed_class=b"EDCL")
    assert Epsem.decode(wire[:-MAC_SIZE], with_mac=False) == unsealed
    with pytest.raises(LocalProtocolError):  # mode 2 with a MAC is ciphertext
        Epsem.decode(b"\x88\x01\x20\x01\x02\x03\x04")
    with pytest.raises(LocalProtocolError):
        Epsem(control=EpsemControl(), services=(b"\x20",), ed_class=b"EDCL")
    with pytest.raises(LocalProtocolError):
        Epsem(control=EpsemControl(), services=(b"\x20",), mac=b"1234")
    with pytest.raises(RemoteProtocolError):
        Epsem.decode(b"", with_mac=False)


# ---------------------------------------------------------------------------------------- properties

controls = st.builds(
    EpsemControl,
    security_mode=st.sampled_from(SecurityMode),
    response_control=st.sampled_from(ResponseControl),
    ed_class_included=st.booleans(),
    proxy_service_used=st.booleans(),
    recovery_session=st.booleans(),
    reserved=st.booleans(),
)
services = st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=5).map(tuple)
ed_classes = st.binary(min_size=ED_CLASS_SIZE, max_size=ED_CLASS_SIZE)


@st.composite
def epsems(draw: st.DrawFn) -> Epsem:
    """Cleartext EPSEMs (mode 0, or mode 1 with a MAC): the ones `Epsem.decode` reads."""
    control = draw(controls.filter(lambda c: c.security_mode is not SecurityMode.ENCRYPTED))
    mac = draw(st.binary(min_size=4, max_size=4)) if control.security_mode is SecurityMode.AUTHENTICATED else None
    ed = draw(ed_classes) if control.ed_class_included else None
    return Epsem(control=control, services=draw(services), ed_class=ed, mac=mac)


def _expected_body(ed: bytes | None, svcs: tuple[bytes, ...]) -> bytes:
    return (ed or b"") + b"".join(length(len(s)) + s for s in svcs)


@settings(max_examples=200)
@given(st.one_of(st.none(), ed_classes), services)
def test_body_round_trip(ed: bytes | None, svcs: tuple[bytes, ...]) -> None:
    body = encode_epsem_body(ed, svcs)
    assert body == _expected_body(ed, svcs)
    assert decode_epsem_body(body, ed is not None) == (ed, svcs)
    for n in range(len(body)):  # every proper prefix is short by at least part of a service
        try:
            got = decode_epsem_body(body[:n], ed is not None)
        except RemoteProtocolError:
            continue
        assert got[1] == svcs[: len(got[1])] and len(got[1]) < len(svcs)


@settings(max_examples=200)
@given(epsems())
def test_epsem_round_trip(epsem: Epsem) -> None:
    wire = epsem.encode()
    assert wire == epsem.control.encode() + _expected_body(epsem.ed_class, epsem.services) + (epsem.mac or b"")
    assert Epsem.decode(wire) == epsem
    assert Epsem.decode(wire).encode() == wire
    control, body, mac = split_epsem(wire)
    assert join_epsem(control, body, mac) == wire


@settings(max_examples=200)
@given(st.binary(max_size=100), st.booleans())
def test_random_body(data: bytes, ed: bool) -> None:
    try:
        ed_class, svcs = decode_epsem_body(data, ed)
    except RemoteProtocolError:
        return
    again = encode_epsem_body(ed_class, svcs)
    assert decode_epsem_body(again, ed) == (ed_class, svcs)
    # Byte-exact unless the input used a non-minimal length or the end marker.
    if len(again) == len(data):
        assert again == data


@settings(max_examples=200)
@given(st.binary(max_size=100))
def test_random_epsem(data: bytes) -> None:
    try:
        epsem = Epsem.decode(data)
    except ProtocolError:
        return
    assert Epsem.decode(epsem.encode()) == epsem
