"""Wireshark's tshark (an independent C12.22 decoder with EAX′ checking) reads the traffic we write.

Every service — request and ok response: Identify, Terminate, Disconnect, Registration,
Deregistration, Resolve, Trace, Full / Default / Partial-offset / Partial-index Read, Full /
Partial-offset / Partial-index Write (and a procedure call through ST7), Logon, Security, Logoff,
Authenticate, Negotiate, Wait, Timing Setup — is encoded with openami's service codecs, wrapped in
EPSEM + ACSE, sealed with `protect.seal` in security modes 0, 1 and 2, and written with
`openami.capture.write_pcap`: once over TCP/IPv4 (with a read response large enough to span several
segments) and once over UDP/IPv6. tshark runs once per file and must report: a good MAC
(``crypto_good``) for every secured message and no bad one, the service codes we sent (``cmd`` for
requests, ``err`` = 0 for the ok responses), the table ids, offsets, counts, write sizes and
checksums, procedure numbers, logon / security / wait / negotiate / timing-setup / authenticate
fields we encoded (tshark 4.0 decodes no more: not Identify responses, read payloads, indexed access,
Registration / Resolve / Trace — c12-protocol-facts.md §9), good IP / TCP / UDP checksums, and no
expert item above "chat" level (no malformed packet, no bad checksum, no TCP analysis warning).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openami.c1222 import protect
from openami.c1222.acse import AeQualifier, C1222Auth, Message
from openami.c1222.aptitle import C1222_APPLICATION_CONTEXT, ApTitle
from openami.c1222.epsem import Epsem, EpsemControl, SecurityMode
from openami.c1222.services import (
    Authenticate,
    AuthenticateResponse,
    ConnectionType,
    DefaultRead,
    Deregistration,
    DeviceIdentityFeature,
    Disconnect,
    FullRead,
    FullWrite,
    Identify,
    IdentifyResponse,
    Logoff,
    Logon,
    LogonResponse,
    Negotiate,
    NegotiateResponse,
    NodeType,
    OkResponse,
    PartialReadIndex,
    PartialReadOffset,
    PartialWriteIndex,
    PartialWriteOffset,
    ReadResponse,
    RegInfo,
    Registration,
    RegistrationResponse,
    Request,
    Resolve,
    ResolveResponse,
    Response,
    Security,
    SessionCtrlFeature,
    Terminate,
    TimingSetup,
    TimingSetupResponse,
    Trace,
    TraceResponse,
    Wait,
    table_checksum,
)
from openami.capture import Endpoint, Record, Transport, write_pcap

pytestmark = [
    pytest.mark.tshark,
    pytest.mark.skipif(shutil.which("tshark") is None, reason="needs Debian's tshark on PATH (./run setup)"),
]

KEY_ID = 2
KEY = bytes.fromhex("01020304050607080102030405060708")  # the key of c12-protocol-facts.md V1 / Example 8
PORT = 21153  # not 1153: tshark must be told with -d, as in c12-protocol-facts.md §9
HOST, METER, RELAY = ApTitle.parse(".123.8437"), ApTitle.parse(".123.4"), ApTitle.parse(".123.7")
CHAT = 0x00200000  # Wireshark PI_CHAT: the highest expert severity allowed
PROCEDURE = (10).to_bytes(2, "little") + b"\x05" + bytes.fromhex("2506011200")  # SP10 set date/time, seq 5

# (name, requests in one EPSEM, their ok responses in one EPSEM)
CASES: list[tuple[str, list[Request], list[Response]]] = [
    (
        "identify",
        [Identify()],
        [IdentifyResponse(3, 1, 0, (SessionCtrlFeature(4, True), DeviceIdentityFeature(0, b"SN-0042")))],
    ),
    ("terminate", [Terminate()], [OkResponse()]),
    ("disconnect", [Disconnect()], [OkResponse()]),
    (
        "registration",
        [
            Registration(
                NodeType.END_DEVICE,
                ConnectionType.CONNECTION_MODE_SUPPORTED | ConnectionType.ACCEPT_CONNECTIONS,
                b"EPRI",
                METER,
                ApTitle.parse(".99.1234"),
                b"\x0a\x00\x00\x07",
                3600,
            )
        ],
        [RegistrationResponse(METER, 30, 3600, RegInfo.CONNECTION_MODE | RegInfo.ACCEPT_CONNECTIONS)],
    ),
    ("deregistration", [Deregistration(METER)], [OkResponse()]),
    ("resolve", [Resolve(METER)], [ResolveResponse(b"\x0a\x00\x00\x07")]),
    ("trace", [Trace(METER)], [TraceResponse((RELAY, METER))]),
    ("full read", [FullRead(0x0805)], [ReadResponse(b"MT5 DATA")]),
    ("default read", [DefaultRead()], [ReadResponse(b"default table")]),
    ("partial read offset", [PartialReadOffset(1, 16, 16)], [ReadResponse(b"MANUFACTURER SN ")]),
    ("partial read index", [PartialReadIndex(64, (2, 7), 12)], [ReadResponse(bytes(range(12)))]),
    ("full write", [FullWrite(6, b"ACME POWER AND LIGHT")], [OkResponse()]),
    ("procedure", [FullWrite(7, PROCEDURE)], [OkResponse()]),
    ("partial write offset", [PartialWriteOffset(6, 20, b"NORTH")], [OkResponse()]),
    ("partial write index", [PartialWriteIndex(64, (3,), b"\x01\x02")], [OkResponse()]),
    ("logon", [Logon(2, b"OPERATOR", 120)], [LogonResponse(120)]),
    ("security", [Security(b"SECRET PASSWORD", 2)], [OkResponse()]),
    ("logoff", [Logoff()], [OkResponse()]),
    ("authenticate", [Authenticate(b"\x00" + bytes(range(8)))], [AuthenticateResponse(bytes(range(9)))]),
    ("negotiate", [Negotiate(512, 8, (6, 7))], [NegotiateResponse(512, 8, 6)]),
    ("wait", [Wait(45)], [OkResponse()]),
    ("timing setup", [TimingSetup(20, 2, 4, 3)], [TimingSetupResponse(20, 2, 4, 3)]),
    # Example 8's shape: Security + Read in one request, answered by the read data alone.
    ("security + read", [Security(b"PASSWORD", 2), PartialReadOffset(1, 16, 16)], [ReadResponse(b"MANUFACTURER SN ")]),
    ("big read", [FullRead(64)], [ReadResponse(bytes(range(256)) * 16)]),  # spans several TCP segments
]


@dataclass(frozen=True)
class Sent:
    """One message we wrote, with what tshark must report for it."""

    name: str
    mode: int
    services: list[Request] | list[Response]
    request: bool


def _message(services: list[bytes], mode: int, n: int, *, request: bool) -> bytes:
    """Requests from HOST to METER (A8 = n); responses back (A4 = n). Odd n add A1, A7 and an ED class."""
    extras = n % 2 == 1
    control = EpsemControl(security_mode=SecurityMode(mode), ed_class_included=extras)
    epsem = Epsem(control=control, services=tuple(services), ed_class=b"OAMI" if extras else None).encode()
    common: dict[str, Any] = {
        "application_context": C1222_APPLICATION_CONTEXT if extras else None,
        "calling_ae_qualifier": AeQualifier.URGENT if extras else None,
        "auth": C1222Auth(key_id=KEY_ID, iv=(0x50000000 + 2 * n + (0 if request else 1)).to_bytes(4, "big"))
        if mode
        else None,
        "user_information": epsem,
    }
    if request:
        message = Message(called=METER, calling=HOST, calling_invocation_id=n, **common)
    else:
        message = Message(called=HOST, called_invocation_id=n, calling=METER, calling_invocation_id=n + 500, **common)
    return protect.seal(message, KEY)


def _traffic(transport: Transport) -> tuple[list[Record], list[Sent]]:
    if transport == "tcp":
        client, server = Endpoint("192.0.2.10", 40123), Endpoint("192.0.2.20", PORT)
    else:
        client, server = Endpoint("2001:db8::10", 40123), Endpoint("2001:db8::20", PORT)
    records: list[Record] = []
    sent: list[Sent] = []
    n = 0
    for mode in (0, 1, 2):
        for name, requests, responses in CASES:
            if transport == "udp" and name == "big read":
                continue
            n += 1
            stamp = 1_700_000_000 + n
            request = _message([r.encode() for r in requests], mode, n, request=True)
            response = _message([r.encode() for r in responses], mode, n, request=False)
            records += [
                Record(stamp, client, server, transport, request),
                Record(stamp + 0.5, server, client, transport, response),
            ]
            sent += [Sent(name, mode, requests, True), Sent(name, mode, responses, False)]
    return records, sent


FIELDS = [
    "frame.number", "c1222.epsem.flags", "c1222.epsem.edclass", "c1222.cmd", "c1222.err",
    "c1222.crypto_good", "c1222.crypto_bad", "c1222.read.table", "c1222.read.offset", "c1222.read.count",
    "c1222.write.table", "c1222.write.offset", "c1222.write.size", "c1222.write.chksum",
    "c1222.write.chksum.status", "c1222.procedure.num", "c1222.procedure.mfg", "c1222.procedure.sequence",
    "c1222.logon.id", "c1222.logon.user", "c1222.security.password", "c1222.wait.seconds",
    "c1222.negotiate.pktsize", "c1222.negotiate.numpkts", "c1222.timingsetup.traffic",
    "c1222.timingsetup.interchar", "c1222.timingsetup.respto", "c1222.timingsetup.nbrretries",
    "c1222.authenticate.len", "_ws.expert.severity", "_ws.expert.message", "_ws.malformed",
    "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
]  # fmt: skip


def _run_tshark(path: Path, transport: Transport) -> list[dict[str, list[str]]]:
    command = [
        "tshark", "-n", "-r", str(path),
        "-d", f"{transport}.port=={PORT},c1222",
        "-o", "c1222.baseoid: 2.16.124.113620.1.22.0",
        "-o", f'uat:c1222_decryption_table:"{KEY_ID:02x}",{KEY.hex()}',
        "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
        "-T", "json",
    ]  # fmt: skip
    for name in FIELDS:
        command += ["-e", name]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)
    return [packet["_source"]["layers"] for packet in json.loads(result.stdout)]


@pytest.fixture(scope="module")
def decoded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[Sent], list[dict[str, list[str]]]]]:
    out = {}
    for transport in ("tcp", "udp"):
        records, sent = _traffic(transport)
        path = tmp_path_factory.mktemp("interop") / f"{transport}.pcap"
        write_pcap(path, records)
        out[transport] = (sent, _run_tshark(path, transport))
    return out


def _ints(row: dict[str, list[str]], name: str) -> list[int]:
    return [int(value, 0) for value in row.get(name, [])]


def _expected_request_fields(requests: list[Request]) -> Iterator[tuple[str, list[int | str]]]:
    """What tshark's dissector shows for the requests we encoded (the fields it decodes).

    tshark shows every Negotiate (0x60–0x6B) as 0x60: packet-c1222.c folds the baud-rate count away.
    """
    codes = [0x60 if isinstance(r, Negotiate) else r.code for r in requests]
    fields: dict[str, list[int | str]] = {"c1222.cmd": list(codes)}
    for r in requests:
        if isinstance(r, FullRead | PartialReadOffset):
            fields.setdefault("c1222.read.table", []).append(r.table)
        if isinstance(r, PartialReadOffset):
            fields.setdefault("c1222.read.offset", []).append(r.offset)
            fields.setdefault("c1222.read.count", []).append(r.octet_count)
        if isinstance(r, FullWrite | PartialWriteOffset):
            fields.setdefault("c1222.write.table", []).append(r.table)
            fields.setdefault("c1222.write.size", []).append(len(r.data))
            fields.setdefault("c1222.write.chksum", []).append(table_checksum(r.data))
        if isinstance(r, PartialWriteOffset):
            fields.setdefault("c1222.write.offset", []).append(r.offset)
        if isinstance(r, FullWrite) and r.table == 7:
            bits = int.from_bytes(r.data[:2], "little")
            fields.setdefault("c1222.procedure.num", []).append(bits & 0x07FF)
            fields.setdefault("c1222.procedure.mfg", []).append((bits >> 11) & 1)
            fields.setdefault("c1222.procedure.sequence", []).append(r.data[2])
        if isinstance(r, Logon):
            fields.setdefault("c1222.logon.id", []).append(r.user_id)
            fields.setdefault("c1222.logon.user", []).append(r.user.decode("ascii"))
        if isinstance(r, Security):
            fields.setdefault("c1222.security.password", []).append(r.password.decode("ascii"))
            if r.user_id is not None:
                fields.setdefault("c1222.logon.id", []).append(r.user_id)
        if isinstance(r, Wait):
            fields.setdefault("c1222.wait.seconds", []).append(r.seconds)
        if isinstance(r, Negotiate):
            fields.setdefault("c1222.negotiate.pktsize", []).append(r.packet_size)
            fields.setdefault("c1222.negotiate.numpkts", []).append(r.nbr_packets)
        if isinstance(r, TimingSetup):
            for name, value in (
                ("traffic", r.traffic),
                ("interchar", r.inter_char),
                ("respto", r.resp_to),
                ("nbrretries", r.nbr_retries),
            ):
                fields.setdefault(f"c1222.timingsetup.{name}", []).append(value)
        if isinstance(r, Authenticate):
            fields.setdefault("c1222.authenticate.len", []).append(len(r.data))
    yield from fields.items()


def _problems(sent: list[Sent], rows: list[dict[str, list[str]]], mode: int) -> Iterator[str]:
    messages = [row for row in rows if "c1222.epsem.flags" in row]
    if len(messages) != len(sent):
        yield f"tshark shows {len(messages)} C12.22 messages, we wrote {len(sent)}"
        return
    for ours, row in zip(sent, messages, strict=True):
        if ours.mode != mode:
            continue
        where = f"frame {row['frame.number'][0]} ({ours.name}, {'request' if ours.request else 'response'})"
        if mode:
            if row.get("c1222.crypto_good") != ["1"] or row.get("c1222.crypto_bad") != ["0"]:
                yield f"{where}: crypto_good {row.get('c1222.crypto_good')}, crypto_bad {row.get('c1222.crypto_bad')}"
                continue
        elif "c1222.crypto_good" in row:
            yield f"{where}: crypto fields on a cleartext message"
        if ours.request:
            for name, expected in _expected_request_fields(ours.services):  # type: ignore[arg-type]
                got: list[int | str] = list(row.get(name, []))
                if expected and isinstance(expected[0], int):
                    got = list(_ints(row, name))
                if got != expected:
                    yield f"{where}: {name} = {got}, we encoded {expected}"
            statuses = row.get("c1222.write.chksum.status", [])
            if statuses != ["1"] * len(statuses) or len(statuses) != len(row.get("c1222.write.chksum", [])):
                yield f"{where}: write checksum status {statuses}"
        else:
            if "c1222.cmd" in row or _ints(row, "c1222.err") != [0] * len(ours.services):
                yield f"{where}: cmd {row.get('c1222.cmd')}, err {row.get('c1222.err')}"


@pytest.mark.parametrize("transport", ["tcp", "udp"])
@pytest.mark.parametrize("mode", [0, 1, 2])
def test_tshark_reads_every_service(
    decoded: dict[str, tuple[list[Sent], list[dict[str, list[str]]]]], transport: str, mode: int
) -> None:
    sent, rows = decoded[transport]
    assert sum(1 for s in sent if s.mode == mode) >= 2 * (len(CASES) - 1)
    problems = list(_problems(sent, rows, mode))
    assert problems == []


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_tshark_finds_nothing_wrong(
    decoded: dict[str, tuple[list[Sent], list[dict[str, list[str]]]]], transport: str
) -> None:
    _, rows = decoded[transport]
    checksums = "tcp.checksum.status" if transport == "tcp" else "udp.checksum.status"
    bad: list[tuple[object, ...]] = []
    for row in rows:
        severities = [int(s) for s in row.get("_ws.expert.severity", [])]
        if any(s > CHAT for s in severities) or "_ws.malformed" in row:
            bad.append((row["frame.number"], row.get("_ws.expert.message")))
        if row.get(checksums) != ["1"] or row.get("ip.checksum.status", ["1"]) != ["1"]:
            bad.append((row["frame.number"], "checksum", row.get(checksums), row.get("ip.checksum.status")))
    assert bad == []
    if transport == "tcp":  # the big read response was cut into segments and put back together
        flags = [row for row in rows if "c1222.epsem.flags" in row]
        assert len(rows) > len(flags) + 3


def test_tshark_and_openami_agree_on_tampering(tmp_path: Path) -> None:
    """The checks above can fail: a flipped MAC bit and a wrong write checksum are caught by both."""
    from openami.c1222.decode import MAC_BAD, MAC_GOOD, MessageDecoder

    good = _message([Wait(5).encode()], 2, 2, request=True)
    bad_mac = good[:-1] + bytes((good[-1] ^ 0x01,))
    write = FullWrite(6, b"NORTH").encode()
    bad_sum = _message([write[:-1] + bytes((write[-1] ^ 0xFF,))], 0, 4, request=True)
    client, server = Endpoint("192.0.2.10", 40123), Endpoint("192.0.2.20", PORT)
    write_pcap(tmp_path / "t.pcap", [Record(1.0, client, server, "tcp", m) for m in (good, bad_mac, bad_sum)])
    rows = [row for row in _run_tshark(tmp_path / "t.pcap", "tcp") if "c1222.epsem.flags" in row]
    assert [(row.get("c1222.crypto_good"), row.get("c1222.crypto_bad")) for row in rows[:2]] == [
        (["1"], ["0"]),
        (["0"], ["1"]),
    ]
    assert any("checksum" in message.lower() for message in rows[2].get("_ws.expert.message", []))
    decoder = MessageDecoder({KEY_ID: KEY})
    reports = [decoder.decode(m) for m in (good, bad_mac, bad_sum)]
    assert [r["security"]["mac"] for r in reports[:2]] == [MAC_GOOD, MAC_BAD]
    assert reports[2]["services"][0]["checksum_ok"] is False
