"""Canonified cleartext, seal and open in security modes 0/1/2 (openami.c1222.protect).

Vectors from c12-protocol-facts.md §4: V1–V4 (EAX′ paper), V5 (IEEE 1703-2012 Annex G, mode 1) and
V6/V7 (the standard's Example 8, whose wire bytes are published too). Only N is published for V1–V5:
the messages are rebuilt from N here by the test's own code (the order of elements on the wire is
A2 A4 A6 A7 A8 8B AC BE; N moves A6 to the end and appends key id and IV), so the whole path — decode,
canonify, verify, decrypt, seal — is checked against them.
"""

from __future__ import annotations

import dataclasses
import shutil
import struct
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openami.c1222 import protect
from openami.c1222.acse import AeQualifier, C1222Auth, Message, decode_message
from openami.c1222.aptitle import ApTitle
from openami.c1222.eax import BadMacError, EaxPrime
from openami.c1222.epsem import Epsem, EpsemControl, ResponseControl, SecurityMode
from openami.c1222.security import KeyStore
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

KEY_A = bytes.fromhex("01020304050607080102030405060708")  # V1, V2, V5, V6, V7 (key id 2 in Example 8)
KEY_V3 = bytes.fromhex("102030405060708090a0b0c0d0e0f000")
KEY_V4 = bytes.fromhex("6624c7e23034e4036fe5cb3a8b5dab44")
BASE_CONTENT = bytes.fromhex("607c86f754011600")  # 2.16.124.113620.1.22.0


class Vector(NamedTuple):
    name: str
    key: bytes
    n: str
    p: str
    c: str  # ciphertext (mode 2) or "" (mode 1: P is sent)
    mac: str


VECTORS = [
    Vector(
        "V1",
        KEY_A,
        "a20c060a607c86f7540116001702a703020104a803020102ac0fa20da00ba109800102810448e99388be19281781159a"
        "a60d060b607c86f7540116001782110248e99388",
        "54454d500b40000700051a00000200e4",
        "4031cc957d4edf9a357f3db0fa9fe838",
        "6555c029",
    ),
    Vector(
        "V2",
        KEY_A,
        "a20c060a607c86f7540116007b02a703020104a803020102ac0fa20da00ba109800102810448f3d2f8be19281781159a"
        "a60d060b607c86f7540116007b82110248f3d2f8",
        "54454d500b40000700051a00000200e4",
        "8d2fbb7a0a8c4d40edaa10a46431c9b8",
        "fec6d9e8",
    ),
    Vector(
        "V3",
        KEY_V3,
        "a20e060c6086480186fc2f811caa4e01a806020439a00ebbac0fa20da00ba10980010081044bcee2c3be252823812188"
        "a60a06082b06010401828563004bcee2c3",
        "17513030303030303030303030303030303030303030000003300001",
        "9cf32c7ec24c250be7b0749feee71a220d0eee976ec23dbf0caa08ea",
        "00543e66",
    ),
    Vector(
        "V4",
        KEY_V4,
        "a211060f2b060104018285638e7f85f1c24e01a80602042bc81aa1ac0fa20da00ba10980010081044b97d2ccbe392837"
        "813588a60906072b060104828563004b97d2cc",
        "1751303030303030303030303030303030303030303000000330000103300078033000790330007a0330007b0330007d",
        "beb0989fadb020eb72ba46353cc0a2ac2a007a101afebaf9680d3b9659f991121b865f254f6ac92cdd213d31e3c4d2ca",
        "e6f89b6d",
    ),
    Vector(  # N here is the canonified message without P (the facts file gives N ‖ P).
        "V5",
        KEY_A,
        "A20D060B607C86F7540116007BC175A803020100BE0D280B810984A60C060A607C86F7540116007B040248F3C204",
        "03300005",
        "",
        "515AE775",
    ),
    Vector(
        "V6",
        KEY_A,
        "a20d060b607c86f7540116007bc175a803020103ac0fa20da00ba109800102810448f3d061be2a2828812688a60c060a"
        "607c86f7540116007b040248f3d061",
        "175150415353574f52442020202020202020202020200002083f00010000100010",
        "41d10cda76206811b36f781489a11997773e117cb07aa3aa40374a7107c50da7f7",
        "99c5d4e8",
    ),
    Vector(
        "V7",
        KEY_A,
        "a20c060a607c86f7540116007b04a403020103a803020103ac0fa20da00ba109800102810448f3d060be1e281c811a88"
        "a60d060b607c86f7540116007bc1750248f3d060",
        "140000104d414e55464143545552455220534e2092",
        "4baee4349631ab5e56a0e6e0e90dfad558591ee4ea",
        "334cb268",
    ),
]
V5_FULL_N = "A20D060B607C86F7540116007BC175A803020100BE0D280B810984A60C060A607C86F7540116007B040248F3C20403300005"
EXAMPLE8_REQUEST = bytes.fromhex(
    "604fa20580037bc175a60480027b04a803020103ac0fa20da00ba109800102810448f3d061be2a282881268841d10cda"
    "76206811b36f781489a11997773e117cb07aa3aa40374a7107c50da7f799c5d4e8"
)
EXAMPLE8_RESPONSE = bytes.fromhex(
    "6048a20480027b04a403020103a60580037bc175a803020103ac0fa20da00ba109800102810448f3d060be1e281c811a88"
    "4baee4349631ab5e56a0e6e0e90dfad558591ee4ea334cb268"
)


def _len(n: int) -> bytes:
    return bytes((n,)) if n < 0x80 else bytes((0x81, n)) if n < 0x100 else bytes((0x82,)) + n.to_bytes(2, "big")


def _read(buf: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) with the test's own length reader."""
    first = buf[pos + 1]
    if first < 0x80:
        return buf[pos], pos + 2, pos + 2 + first
    k = first & 0x7F
    n = int.from_bytes(buf[pos + 2 : pos + 2 + k], "big")
    return buf[pos], pos + 2 + k, pos + 2 + k + n


def rebuild(v: Vector, relative: bool) -> tuple[bytes, int, bytes]:
    """The wire APDU of a vector from its N, body and MAC; ``relative`` writes titles under the C12.22
    base in the relative form. Returns (apdu, key id, iv) — the last two from the end of N."""
    n = bytes.fromhex(v.n)
    elements: dict[int, bytes] = {}
    pos = 0
    be_header = b""
    while pos < len(n) - 5:
        tag, start, end = _read(n, pos)
        if tag == 0xBE:  # header only: BE L 28 L 81 L <control>
            _, s2, _ = _read(n, start)
            _, s3, _ = _read(n, s2)
            be_header = n[pos : s3 + 1]
            pos = s3 + 1
            continue
        tlv = n[pos:end]
        if tag in (0xA2, 0xA6) and relative and n[start + 2 : start + 2 + len(BASE_CONTENT)] == BASE_CONTENT:
            rel = n[start + 2 + len(BASE_CONTENT) : end]
            tlv = bytes((tag, len(rel) + 2, 0x80, len(rel))) + rel
        elements[tag] = tlv
        pos = end
    key_id, iv = n[-5], n[-4:]
    body = bytes.fromhex(v.c or v.p)
    order = [t for t in (0xA1, 0xA2, 0xA4, 0xA6, 0xA7, 0xA8, 0x8B, 0xAC) if t in elements]
    content = b"".join(elements[t] for t in order) + be_header + body + bytes.fromhex(v.mac)
    return b"\x60" + _len(len(content)) + content, key_id, iv


@pytest.mark.parametrize("relative", [True, False])
@pytest.mark.parametrize("v", VECTORS, ids=[v.name for v in VECTORS])
def test_vectors(v: Vector, relative: bool) -> None:
    apdu, key_id, iv = rebuild(v, relative)
    message = Message.decode(apdu)
    assert protect.canonified_cleartext(message, key_id, iv) == bytes.fromhex(v.n)
    opened = protect.open(apdu, v.key, key_id, iv)  # key id / IV are the session's when AC is absent
    assert opened.plaintext == bytes.fromhex(v.p)
    assert opened.key_id == key_id and opened.iv == iv
    assert opened.mac == bytes.fromhex(v.mac)
    plain = dataclasses.replace(message, user_information=message.user_information[:1] + opened.plaintext)
    assert protect.seal(plain, v.key, key_id, iv) == apdu


def test_v5_full_n() -> None:
    # Annex G authenticates the whole canonified message with an empty plaintext: tag(N ‖ P).
    apdu, key_id, iv = rebuild(VECTORS[4], relative=True)
    n = protect.canonified_cleartext(apdu, key_id, iv)
    assert n + bytes.fromhex("03300005") == bytes.fromhex(V5_FULL_N)
    assert apdu[-4:] == EaxPrime(KEY_A).tag(bytes.fromhex(V5_FULL_N))


def test_rebuild_matches_the_example8_capture() -> None:
    assert rebuild(VECTORS[5], relative=True)[0] == EXAMPLE8_REQUEST
    assert rebuild(VECTORS[6], relative=True)[0] == EXAMPLE8_RESPONSE


def test_example8() -> None:
    request = protect.open(EXAMPLE8_REQUEST, {2: KEY_A})
    assert request.security_mode is SecurityMode.ENCRYPTED
    assert request.services == (b"\x51" + b"PASSWORD".ljust(20) + b"\x00\x02", bytes.fromhex("3f00010000100010"))
    response = protect.open(EXAMPLE8_RESPONSE, {2: KEY_A})
    assert response.services == (bytes.fromhex("00 0010") + b"MANUFACTURER SN " + b"\x92",)
    assert response.message.called_invocation_id == request.message.calling_invocation_id
    # N straight from the APDU bytes; the key id and IV come from its AC.
    assert protect.canonified_cleartext(EXAMPLE8_REQUEST) == bytes.fromhex(VECTORS[5].n)


def test_key_sources() -> None:
    for keys in (KEY_A, EaxPrime(KEY_A), {2: KEY_A}, KeyStore({2: KEY_A})):
        assert protect.open(EXAMPLE8_REQUEST, keys).plaintext == bytes.fromhex(VECTORS[5].p)
    for keys in ({1: KEY_A}, KeyStore({0: KEY_A})):
        with pytest.raises(protect.UnknownKeyError) as info:
            protect.open(EXAMPLE8_REQUEST, keys)
        assert info.value.key_id == 2 and info.value.message.calling_invocation_id == 3
    with pytest.raises(LocalProtocolError):
        protect.open(EXAMPLE8_REQUEST)


def test_session_values_do_not_override_the_message() -> None:
    # The AC in the message wins over key id / IV from the session.
    assert protect.open(EXAMPLE8_REQUEST, KEY_A, 7, b"\x00\x00\x00\x00").key_id == 2


def test_bad_mac_is_an_error_value() -> None:
    for index in (-1, -5, len(EXAMPLE8_REQUEST) - 20, 13):  # MAC, ciphertext, ciphertext, calling title
        tampered = bytearray(EXAMPLE8_REQUEST)
        tampered[index] ^= 0x01
        with pytest.raises(protect.MessageMacError) as info:
            protect.open(bytes(tampered), KEY_A)
        assert isinstance(info.value, BadMacError) and isinstance(info.value, RemoteProtocolError)
        assert info.value.message == Message.decode(bytes(tampered))
        assert info.value.key_id == 2
    wrong_key = bytes(16)
    with pytest.raises(BadMacError):
        protect.open(EXAMPLE8_REQUEST, wrong_key)


def test_mode1_tampering() -> None:
    apdu, key_id, iv = rebuild(VECTORS[4], relative=True)
    for i in range(2, len(apdu)):
        tampered = bytearray(apdu)
        tampered[i] ^= 0x40
        with pytest.raises(ProtocolError):
            protect.open(bytes(tampered), KEY_A, key_id, iv)


def test_missing_key_material() -> None:
    apdu, _, _ = rebuild(VECTORS[4], relative=True)  # no AC: key id and IV must come from the session
    with pytest.raises(RemoteProtocolError):
        protect.open(apdu, KEY_A)
    message = Message.decode(apdu)
    with pytest.raises(LocalProtocolError):
        protect.canonified_cleartext(message)
    with pytest.raises(LocalProtocolError):
        protect.canonified_cleartext(message, 2, b"\x00")
    with pytest.raises(LocalProtocolError):
        protect.canonified_cleartext(message, 2, b"\x00" * 4, base=ApTitle((1,), relative=True))
    plain = Message(calling_invocation_id=1, user_information=b"\x84\x01\x20")
    with pytest.raises(LocalProtocolError):
        protect.seal(plain, KEY_A, 2)  # no IV
    with pytest.raises(LocalProtocolError):
        protect.seal(plain, None, 2, b"\x00" * 4)  # no key
    with pytest.raises(LocalProtocolError):
        protect.seal(Message(user_information=b"\x84\x05\x20"), KEY_A, 2, b"\x00" * 4)  # bad EPSEM
    with pytest.raises(LocalProtocolError):
        protect.seal(Message(user_information=b"\x8c\x01\x20"), KEY_A, 2, b"\x00" * 4)  # mode 3


def test_cleartext() -> None:
    message = Message(calling_invocation_id=5, user_information=b"\x80\x01\x20")
    apdu = protect.seal(message)
    assert apdu == message.encode()
    opened = protect.open(apdu)
    assert opened.security_mode is SecurityMode.CLEARTEXT
    assert opened.services == (b"\x20",)
    assert (opened.key_id, opened.iv, opened.mac) == (None, None, None)


# ---------------------------------------------------------------------------------------- properties

rel_titles = st.lists(st.integers(0, 2**20), min_size=1, max_size=4).map(lambda a: ApTitle(tuple(a), True))
abs_titles = st.lists(st.integers(0, 2**20), max_size=4).map(lambda a: ApTitle((1, 3, 6, *a)))
titles = st.one_of(st.none(), rel_titles, abs_titles)
ids = st.one_of(st.none(), st.integers(0, 2**32))


@st.composite
def sealed_inputs(draw: st.DrawFn) -> tuple[Message, bytes, int, bytes, tuple[bytes, ...]]:
    mode = draw(st.sampled_from([SecurityMode.AUTHENTICATED, SecurityMode.ENCRYPTED]))
    ed = draw(st.one_of(st.none(), st.binary(min_size=4, max_size=4)))
    control = EpsemControl(security_mode=mode, ed_class_included=ed is not None)
    services = tuple(draw(st.lists(st.binary(min_size=1, max_size=200), min_size=1, max_size=3)))
    key_id = draw(st.integers(0, 255))
    iv = draw(st.binary(min_size=4, max_size=4))
    auth = draw(st.one_of(st.none(), st.just(C1222Auth(key_id=key_id, iv=iv))))
    message = Message(
        application_context=draw(st.one_of(st.none(), st.just(ApTitle((2, 16, 124, 113620, 1, 22))))),
        called=draw(titles),
        called_invocation_id=draw(ids),
        calling=draw(titles),
        calling_ae_qualifier=draw(st.one_of(st.none(), st.integers(0, 7).map(AeQualifier))),
        calling_invocation_id=draw(ids),
        mechanism=draw(st.one_of(st.none(), st.binary(max_size=10))),
        auth=auth,
        user_information=Epsem(control=control, services=services, ed_class=ed).encode(),
    )
    return message, draw(st.binary(min_size=16, max_size=16)), key_id, iv, services


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(sealed_inputs(), st.data())
def test_seal_open_round_trip(
    inputs: tuple[Message, bytes, int, bytes, tuple[bytes, ...]], data: st.DataObject
) -> None:
    message, key, key_id, iv, services = inputs
    apdu = protect.seal(message, key, key_id, iv)
    received, used = decode_message(apdu)
    assert used == len(apdu)
    opened = protect.open(apdu, {key_id: key}, key_id, iv)
    assert opened.services == services
    assert opened.plaintext == message.user_information[1:]
    # Every element but the EPSEM arrives as sent.
    assert dataclasses.replace(received, user_information=message.user_information) == message
    if opened.security_mode is SecurityMode.ENCRYPTED:
        assert received.user_information[1:-4] != opened.plaintext
    # Any single changed byte is refused (malformed, or the MAC does not verify) — except a control
    # byte turned to mode 0, which opens as cleartext: the caller refuses a cleartext answer.
    i = data.draw(st.integers(0, len(apdu) - 1), label="index")
    tampered = bytearray(apdu)
    tampered[i] ^= data.draw(st.integers(1, 255), label="xor")
    try:
        result = protect.open(bytes(tampered), {key_id: key}, key_id, iv)
    except ProtocolError:
        return
    assert result.security_mode is SecurityMode.CLEARTEXT


@settings(max_examples=200)
@given(st.binary(max_size=120))
def test_open_random_bytes(data: bytes) -> None:
    try:
        opened = protect.open(data, KEY_A, 2, b"\x00\x00\x00\x00")
    except ProtocolError:
        return
    assert opened.message.encode() == data and opened.services


@settings(max_examples=100)
@given(st.binary(min_size=1, max_size=60))
def test_open_random_epsem(epsem: bytes) -> None:
    message = Message(called=ApTitle((1,), True), calling_invocation_id=1, user_information=epsem)
    try:
        opened = protect.open(message.encode(), KEY_A, 2, b"\x00\x00\x00\x00")
    except ProtocolError:
        return
    assert opened.security_mode is SecurityMode.CLEARTEXT  # a random 4-byte MAC does not verify
    assert opened.plaintext == epsem[1:]


# ------------------------------------------------------------------------ Wireshark as a second opinion


def _pcap(apdus: list[bytes]) -> bytes:
    """A classic pcap of Ethernet/IPv4/TCP frames to port 1153, one APDU each, in one TCP stream."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    seq = 1000
    src, dst = bytes((10, 0, 0, 1)), bytes((10, 0, 0, 2))
    for i, apdu in enumerate(apdus):
        tcp = struct.pack(">HHIIBBHHH", 40000, 1153, seq, 1, 5 << 4, 0x18, 65535, 0, 0)
        size = 20 + len(tcp) + len(apdu)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, size, i, 0, 64, 6, 0, src, dst)
        frame = bytes(6) + bytes((2, 0, 0, 0, 0, 1)) + b"\x08\x00" + ip + tcp + apdu
        out += struct.pack("<IIII", 1_700_000_000 + i, 0, len(frame), len(frame)) + frame
        seq += len(apdu)
    return out


@pytest.mark.tshark
@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs Debian's tshark")
def test_tshark_verifies_our_macs(tmp_path: Path) -> None:
    apdus: list[bytes] = []
    for mode, rc in (
        (SecurityMode.AUTHENTICATED, ResponseControl.ALWAYS),
        (SecurityMode.ENCRYPTED, ResponseControl.ALWAYS),
        (SecurityMode.ENCRYPTED, ResponseControl.ON_EXCEPTION),
    ):
        epsem = Epsem(
            control=EpsemControl(security_mode=mode, response_control=rc),
            services=(b"\x30\x00\x01", b"\x52"),
        )
        message = Message(
            called=ApTitle((123, 8437), relative=True),
            calling=ApTitle((123, 4), relative=True),
            calling_invocation_id=10 + len(apdus),
            auth=C1222Auth(key_id=2, iv=(0x48F3D100 + len(apdus)).to_bytes(4, "big")),
            user_information=epsem.encode(),
        )
        apdus.append(protect.seal(message, KEY_A))
    path = tmp_path / "ours.pcap"
    path.write_bytes(_pcap(apdus))
    result = subprocess.run(
        [
            "tshark", "-r", str(path), "-o", "c1222.baseoid: 2.16.124.113620.1.22.0",
            "-o", 'uat:c1222_decryption_table:"02",01020304050607080102030405060708',
            "-T", "fields", "-e", "c1222.crypto_good", "-e", "c1222.crypto_bad", "-e", "c1222.cmd",
        ],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    rows = [line.split("\t") for line in result.stdout.splitlines() if line.strip()]
    assert len(rows) == 3
    for good, bad, cmd in rows:
        assert (good, bad) == ("1", "0")
        assert cmd.split(",") == ["0x30", "0x52"]
