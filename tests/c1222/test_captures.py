"""Every public capture in ../shared/c1222-pcaps/ parses to ACSE + EPSEM and re-encodes byte-exactly.

The capture files are read in place (never copied). A minimal pcap/pcapng reader below takes the
TCP/UDP payloads out of Ethernet or Linux-cooked frames; TCP payloads go through `MessageSplitter`.
Expected values (number of APDUs, EPSEM control, service codes, invocation ids, MACs) were read with
Wireshark's tshark 4.0 (an independent decoder); `test_tshark_agrees` re-checks them live.
"""

from __future__ import annotations

import dataclasses
import shutil
import struct
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from openami.c1222 import protect
from openami.c1222.acse import C1222Auth, Message
from openami.c1222.epsem import Epsem, SecurityMode, split_epsem
from openami.c1222.framing import MessageSplitter

PCAPS = Path(__file__).resolve().parents[3] / "shared" / "c1222-pcaps"
KEY_ID_2 = bytes.fromhex("01020304050607080102030405060708")  # Example 8's key (id 2)

# file → per APDU: (EPSEM control, service codes (cleartext only), calling AP invocation id, MAC hex)
EXPECTED: dict[str, list[tuple[int, list[int] | None, int, str | None]]] = {
    "c1222_ident_service_tcp.pcap": [(0x80, [0x20], 333976609, None), (0x80, [0x00], 333976609, None)],
    "c1222_logon_service_tcp.pcap": [(0x80, [0x50], 333976609, None), (0x80, [0x00], 333976609, None)],
    "c1222_reg_service_tcp.pcap": [(0x80, [0x27], 333976609, None), (0x80, [0x00], 333976609, None)],
    "c1222_resolve_service_tcp.pcap": [(0x80, [0x25], 333976609, None), (0x80, [0x00], 333976609, None)],
    "c1222_rw_service_tcp.pcap": [(0x80, [0x31], 333976609, None), (0x80, [0x00], 333976609, None)],
    "c1222_security_service_tcp.pcap": [(0x80, [0x51], 333976609, None), (0x80, [0x00], 333976609, None)],
    "c1222_service_error_tcp.pcap": [(0x80, [0x20], 333976609, None), (0x80, [0x0A], 333976609, None)],
    "c1222_trace_service_tcp.pcap": [(0x80, [0x26], 333976609, None), (0x80, [0x00], 333976609, None)],
    "c1222_wait_service_tcp.pcap": [(0x80, [0x70], 333976609, None), (0x80, [0x00], 333976609, None)],
    "c1222_std_example8.pcap": [(0x88, None, 3, "99c5d4e8"), (0x88, None, 3, "334cb268")],
    "c1222overIPv4.cap": [(0x88, None, 333976609, "a71f7f27"), (0x88, None, 44, "38a2d998")],
    "c1222_over_ipv6.pcap": [(0x88, None, 1988137462, "e04931f0"), (0x88, None, 11, "d5633d08")],
    "ndpi_c1222.pcapng": [
        (0x80, [0x20], 3977, None),
        (0x80, [0x40, 0x40, 0x40, 0x40, 0x30], 3978, None),
        (0x88, None, 333976609, "a71f7f27"),
        (0x88, None, 44, "38a2d998"),
    ],
}

pytestmark = pytest.mark.skipif(not PCAPS.is_dir(), reason=f"captures not found at {PCAPS}")

# ------------------------------------------------------------------------------------ tiny pcap reader


def _frames(data: bytes) -> list[tuple[int, bytes]]:
    """(link type, frame bytes) of a classic pcap or a pcapng file."""
    frames: list[tuple[int, bytes]] = []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = "<" if magic[0] in (0xD4, 0x4D) else ">"
        linktype = struct.unpack(order + "I", data[20:24])[0]
        pos = 24
        while pos + 16 <= len(data):
            incl = struct.unpack(order + "I", data[pos + 8 : pos + 12])[0]
            frames.append((linktype, data[pos + 16 : pos + 16 + incl]))
            pos += 16 + incl
        return frames
    assert magic == b"\x0a\x0d\x0d\x0a", "neither pcap nor pcapng"
    order = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    links: list[int] = []
    pos = 0
    while pos + 12 <= len(data):
        kind, size = struct.unpack(order + "II", data[pos : pos + 8])
        body = data[pos + 8 : pos + size - 4]
        if kind == 1:  # interface description
            links.append(struct.unpack(order + "H", body[:2])[0])
        elif kind == 6:  # enhanced packet
            iface, _, _, captured = struct.unpack(order + "IIII", body[:16])
            frames.append((links[iface], body[20 : 20 + captured]))
        pos += size
    return frames


def _payload(linktype: int, frame: bytes) -> tuple[tuple[object, ...], bytes] | None:
    """(flow key, TCP/UDP payload) of one frame; None for anything else."""
    if linktype == 1:  # Ethernet (one optional 802.1Q tag)
        ethertype, pos = struct.unpack(">H", frame[12:14])[0], 14
        if ethertype == 0x8100:
            ethertype, pos = struct.unpack(">H", frame[16:18])[0], 18
    elif linktype == 113:  # Linux cooked capture v1
        ethertype, pos = struct.unpack(">H", frame[14:16])[0], 16
    else:
        return None
    if ethertype == 0x0800:
        ihl = (frame[pos] & 0x0F) * 4
        proto, src, dst = frame[pos + 9], frame[pos + 12 : pos + 16], frame[pos + 16 : pos + 20]
        total = struct.unpack(">H", frame[pos + 2 : pos + 4])[0]
        end, pos = pos + total, pos + ihl
    elif ethertype == 0x86DD:
        proto, src, dst = frame[pos + 6], frame[pos + 8 : pos + 24], frame[pos + 24 : pos + 40]
        end = pos + 40 + struct.unpack(">H", frame[pos + 4 : pos + 6])[0]
        pos += 40
    else:
        return None
    sport, dport = struct.unpack(">HH", frame[pos : pos + 4])
    if proto == 6:
        start = pos + (frame[pos + 12] >> 4) * 4
    elif proto == 17:
        start = pos + 8
    else:
        return None
    return (proto, src, sport, dst, dport), frame[start:end]


def apdus(path: Path) -> list[bytes]:
    """The C12.22 APDUs of a capture, in capture order (TCP streams split with MessageSplitter)."""
    splitters: dict[tuple[object, ...], MessageSplitter] = defaultdict(MessageSplitter)
    out: list[bytes] = []
    for linktype, frame in _frames(path.read_bytes()):
        found = _payload(linktype, frame)
        if found is None or not found[1]:
            continue
        flow, payload = found
        out += splitters[flow].feed(payload) if flow[0] == 6 else [payload]
    assert all(s.buffered == 0 for s in splitters.values())
    return out


# ---------------------------------------------------------------------------------------------- tests


def test_every_capture_is_listed() -> None:
    assert sorted(p.name for p in PCAPS.iterdir() if p.suffix in (".pcap", ".cap", ".pcapng")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_capture(name: str) -> None:
    found = apdus(PCAPS / name)
    assert len(found) == len(EXPECTED[name])
    for apdu, (control, codes, invocation_id, mac) in zip(found, EXPECTED[name], strict=True):
        message = Message.decode(apdu)
        assert message.encode() == apdu
        assert dataclasses.replace(message).encode() == apdu  # these peers all use shortest lengths
        assert message.calling_invocation_id == invocation_id
        assert message.user_information[0] == control
        epsem_control, _, wire_mac = split_epsem(message.user_information)
        assert (wire_mac.hex() if wire_mac else None) == mac
        if epsem_control.security_mode is SecurityMode.CLEARTEXT:
            epsem = Epsem.decode(message.user_information)
            assert [s[0] for s in epsem.services] == codes
            assert epsem.encode() == message.user_information
            assert protect.open(apdu).services == epsem.services
        else:
            # Secured traffic carries key id and IV in a C12.22 authentication value.
            assert isinstance(message.auth, C1222Auth)
            assert message.auth.key_id is not None and message.auth.iv is not None


def test_example8_opens() -> None:
    request, response = apdus(PCAPS / "c1222_std_example8.pcap")
    opened = protect.open(request, {2: KEY_ID_2})
    assert [s[0] for s in opened.services] == [0x51, 0x3F]
    assert protect.open(response, {2: KEY_ID_2}).services[0][0] == 0x00


@pytest.mark.parametrize("name", ["c1222overIPv4.cap", "c1222_over_ipv6.pcap"])
def test_unknown_key_captures_parse_only(name: str) -> None:
    for apdu in apdus(PCAPS / name):
        message = Message.decode(apdu)
        assert isinstance(message.auth, C1222Auth) and message.auth.key_id == 0
        with pytest.raises(protect.UnknownKeyError):
            protect.open(apdu, {2: KEY_ID_2})


@pytest.mark.tshark
@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs Debian's tshark")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tshark_agrees(name: str) -> None:
    result = subprocess.run(
        [
            "tshark", "-r", str(PCAPS / name), "-Y", "c1222",
            "-T", "fields", "-e", "c1222.epsem.flags", "-e", "c1222.calling_AP_invocation_id",
            "-e", "c1222.epsem.mac",
        ],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    rows = [line.split("\t") for line in result.stdout.splitlines() if line.strip()]
    ours = []
    for apdu in apdus(PCAPS / name):
        message = Message.decode(apdu)
        _, _, mac = split_epsem(message.user_information)
        ours.append(
            [f"0x{message.user_information[0]:02x}", str(message.calling_invocation_id), mac.hex() if mac else ""]
        )
    assert rows == ours
