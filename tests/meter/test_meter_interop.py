"""A head-end client against a running meter over memory, TCP and UDP, in security modes 0, 1 and 2.

The client knows nothing of the meter beforehand: it reads ST0 and the ACT_* tables over the wire, builds
its device configuration from them (`config_from_tables`) and decodes every other table with it. Then
writes (full, by offset, by index), procedures (SP9 demand reset, SP10 set time, SP21 disconnect and
connect, SP22 credit) checked against the engine, and the session services. A capture of a mode-1 and a
mode-2 session, written with `openami.capture.write_pcap`, is read by Wireshark's tshark (MACs and
checksums). termineter's C12.18 client reads the optical port over a pty. Bad input — malformed APDUs,
truncated frames, a wrong key, a wrong password, replays, oversized requests — gets the right answer or
a closed association, is counted, and leaves other associations working.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from openami.c1219.config import DeviceConfig
from openami.c1219.device import config_from_tables
from openami.c1219.layout import bind
from openami.c1219.procedures import (
    CreditAction,
    DirectLoadControlParams,
    LoadControlAction,
    ModifyCreditParams,
    ProcedureRequest,
    ProcedureResponse,
    RemoteResetParams,
    ResultCode,
    SetDateTimeParams,
)
from openami.c1219.std import STANDARD_TABLES
from openami.c1222.codes import ResponseCode
from openami.c1222.security import SecurityMode
from openami.c1222.services import (
    DefaultRead,
    ErrorResponse,
    FullRead,
    FullWrite,
    Identify,
    IdentifyResponse,
    Logoff,
    Logon,
    OkResponse,
    PartialReadIndex,
    PartialReadOffset,
    PartialWriteIndex,
    PartialWriteOffset,
    ReadResponse,
    Request,
    Response,
    Security,
    Wait,
)
from openami.capture import Endpoint, Record, write_pcap
from openami.meter.config import MeterConfig
from openami.meter.node import Meter
from openami.transport import (
    C1222Endpoint,
    Channel,
    ManualClock,
    RequestTimeout,
    SystemClock,
    connect_memory,
    open_tcp,
    open_udp,
)
from tests.transport.support import KEY, KEY_ID, run, until

from .test_node import CONFIG, T0, client, meter

TRANSPORTS = ["memory", "tcp", "udp"]
MODES = [SecurityMode.CLEARTEXT, SecurityMode.AUTHENTICATED, SecurityMode.ENCRYPTED]
PORT = 21153  # the port tshark is told to dissect as C12.22
MASTER = Security(b"MASTER")


@dataclass
class Link:
    """A meter, a head-end client and the channel between them; ``apdus`` is what the meter's core saw."""

    meter: Meter
    client: C1222Endpoint
    channel: Channel
    clock: ManualClock
    transport: str
    apdus: list[tuple[str, bytes]] = field(default_factory=list)
    closers: list[Callable[[], Any]] = field(default_factory=list)

    async def ask(self, *services: Request, **kw: Any) -> tuple[Response, ...]:
        result = await self.client.request(self.meter.title, list(services), via=self.channel, **kw)
        return result.responses

    async def read(self, number: int) -> bytes:
        answer = (await self.ask(MASTER, FullRead(number)))[-1]
        assert isinstance(answer, ReadResponse), (number, answer)
        return answer.data

    async def procedure(self, number: int, params: bytes = b"", seq: int = 1) -> ProcedureResponse:
        formats = self.meter.config.formats
        request = ProcedureRequest(number, seq_nbr=seq, params=params).encode(formats)
        _, written, read = await self.ask(MASTER, FullWrite(7, request), FullRead(8))
        assert written == OkResponse() and isinstance(read, ReadResponse), (written, read)
        return ProcedureResponse.decode(read.data, formats)

    async def close(self) -> None:
        for closer in reversed(self.closers):
            result = closer()
            if asyncio.iscoroutine(result):
                await result
        await self.meter.stop()
        await self.client.aclose()


async def open_link(transport: str, mode: SecurityMode, config: MeterConfig = CONFIG, **settings: Any) -> Link:
    """A meter (an hour per clock second) served on ``transport`` and a client in ``mode``."""
    clock = ManualClock(T0)
    node = meter(config, clock=clock, speed=3600.0, register=False, **settings)
    head = client(clock, mode)
    link_closers: list[Callable[[], Any]] = []
    channel: Channel
    if transport == "memory":
        near, _ = await connect_memory(head, node.endpoint)
        channel = near
        link_closers.append(lambda: near.close())
    elif transport == "tcp":
        server = await node.serve_tcp("127.0.0.1", 0, idle_timeout=None)
        channel = await open_tcp("127.0.0.1", server.port, head)
        link_closers.append(channel.close)
    else:
        sock = await node.serve_udp("127.0.0.1", 0)
        mine = await open_udp(head)
        channel = mine.peer("127.0.0.1", sock.port)
        link_closers.append(mine.close)
    link = Link(node, head, channel, clock, transport, closers=link_closers)
    node.association.tap = lambda direction, data: link.apdus.append((direction, data))
    node.start()
    return link


def linked(transport: str, mode: SecurityMode, body: Callable[[Link], Awaitable[None]], **kw: Any) -> None:
    async def go() -> None:
        link = await open_link(transport, mode, **kw)
        try:
            await body(link)
        finally:
            await link.close()

    run(go())


# -- every table, decoded with the configuration read over the wire ---------------------------------------------------
async def read_everything(link: Link) -> tuple[DeviceConfig, dict[int, dict[str, Any]]]:
    """Every table of the meter, decoded with the configuration its own ST0 and ACT_* tables give."""
    raw = {0: await link.read(0)}
    for number in (11, 21, 41, 51, 61, 62, 71, 111, 121):
        raw[number] = await link.read(number)
    config = config_from_tables(raw)
    used = sorted(bind(STANDARD_TABLES[0], config).decode(raw[0])["STD_TBLS_USED"])
    assert used == sorted(link.meter.responder.store.numbers)
    decoded = {}
    for number in used:
        data = raw.get(number) or await link.read(number)
        assert data == link.meter.responder.store.get(number), number
        decoded[number] = bind(STANDARD_TABLES[number], config).decode(data)
    return config, decoded


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_table_service_and_procedure(transport: str, mode: SecurityMode) -> None:
    async def body(link: Link) -> None:
        link.clock.advance(1.0)  # an hour of the household load
        device, tables = await read_everything(link)
        st1 = tables[1]
        assert st1["MFG_SERIAL_NUMBER"].strip() == link.meter.config.identity.serial
        formats = link.meter.config.formats
        layouts = {n: bind(STANDARD_TABLES[n], device) for n in (6, 23, 52, 116, 118)}

        # partial reads, by offset and by index, against the full read
        st23 = await link.read(23)
        part = (await link.ask(PartialReadOffset(23, 1, 8)))[0]
        assert part == ReadResponse(st23[1:9])
        span = layouts[23].locate("TOT_DATA_BLOCK.SUMMATIONS[1]")
        part = (await link.ask(PartialReadIndex(23, (1, 0, 1), 1)))[0]
        assert part == ReadResponse(st23[span.offset : span.offset + span.size])

        # writes: full, by offset, by index; read back
        st6 = dict(tables[6], OWNER_NAME="NORTH POWER")
        assert (await link.ask(MASTER, FullWrite(6, layouts[6].encode(st6))))[-1] == OkResponse()
        assert layouts[6].decode(await link.read(6))["OWNER_NAME"].rstrip() == "NORTH POWER"
        st118 = tables[118]
        st118["TIER_PRICES"][1]["PRICE"], st118["TIER_PRICES"][2]["PRICE"] = 0.42, 0.07
        octets = layouts[118].encode(st118)
        one, two = layouts[118].locate("TIER_PRICES[1]"), layouts[118].locate("TIER_PRICES[2]")
        data = octets[one.offset : one.offset + one.size]
        assert (await link.ask(MASTER, PartialWriteOffset(118, one.offset, data)))[-1] == OkResponse()
        index = list(layouts[118].root.by_name).index("TIER_PRICES")
        data = octets[two.offset : two.offset + two.size]
        assert (await link.ask(MASTER, PartialWriteIndex(118, (index, 2), data)))[-1] == OkResponse()
        prices = [p["PRICE"] for p in layouts[118].decode(await link.read(118))["TIER_PRICES"]]
        assert prices[1:3] == [0.42, 0.07]

        # SP9: the demand of the last hour goes to ST25 and ST23's maximum is cleared
        demand = layouts[23].decode(st23)["TOT_DATA_BLOCK"]["DEMANDS"][0]["DEMAND"][0]
        assert demand > 0
        assert (await link.procedure(9, RemoteResetParams(demand_reset=True).encode())).result == ResultCode.COMPLETED
        after = layouts[23].decode(await link.read(23))
        assert (after["TOT_DATA_BLOCK"]["DEMANDS"][0]["DEMAND"][0], after["NBR_DEMAND_RESETS"]) == (0.0, 1)
        # SP10: the meter clock is set
        when = dt.datetime(2030, 5, 6, 7, 8, 0)
        assert (await link.procedure(10, SetDateTimeParams(when).encode(formats), 2)).result == ResultCode.COMPLETED
        assert link.meter.live.clock().time == when
        st52 = layouts[52].decode(await link.read(52))
        assert st52["CLOCK_CALENDAR"] == when
        # SP21 on the service switch: the engine's switch opens and closes
        shed = DirectLoadControlParams(0, LoadControlAction.SHED).encode()
        assert (await link.procedure(21, shed, 3)).result == ResultCode.COMPLETED
        assert not link.meter.live.engine.connected[0]
        restore = DirectLoadControlParams(0, LoadControlAction.RESTORE).encode()
        assert (await link.procedure(21, restore, 4)).result == ResultCode.COMPLETED
        assert link.meter.live.engine.connected[0]
        # SP22: credit
        credit = ModifyCreditParams(CreditAction.SET, 25.0, 9).encode(formats)
        assert (await link.procedure(22, credit, 5)).result == ResultCode.COMPLETED
        st116 = layouts[116].decode(await link.read(116))
        assert float(st116["REMAINING_CREDIT"]) == 25.0

        # session services and the others
        identify = (await link.ask(Identify()))[0]
        assert isinstance(identify, IdentifyResponse) and identify.std == 3
        assert (await link.ask(DefaultRead()))[0] == ErrorResponse(ResponseCode.SNS)
        answers = await link.ask(Logon(7, b"HEADEND", 60), Security(b"OPERATOR"), FullRead(1), Wait(5), Logoff())
        assert [a.ok for a in answers] == [True] * 5
        assert (await link.ask(FullRead(42)))[0] == ErrorResponse(ResponseCode.ISC)  # passwords need MASTER
        counts = link.meter.counts()
        assert counts["requests_received"] == counts["responses_sent"] > 60
        assert counts["bad_mac"] == counts["violations"] == counts["replays"] == 0

    linked(transport, mode, body)


# -- tshark reads a captured session ----------------------------------------------------------------------------------
def _tshark(path: Path, transport: str) -> list[dict[str, list[str]]]:
    fields = [
        "frame.number", "c1222.epsem.flags", "c1222.crypto_good", "c1222.crypto_bad", "c1222.write.chksum.status",
        "c1222.write.chksum", "_ws.malformed", "_ws.expert.severity", "ip.checksum.status", "tcp.checksum.status",
        "udp.checksum.status",
    ]  # fmt: skip
    command = [
        "tshark", "-n", "-r", str(path), "-d", f"{transport}.port=={PORT},c1222",
        "-o", "c1222.baseoid: 2.16.124.113620.1.22.0",
        "-o", f'uat:c1222_decryption_table:"{KEY_ID:02x}",{KEY.hex()}',
        "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
        "-T", "json",
    ]  # fmt: skip
    for name in fields:
        command += ["-e", name]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return [packet["_source"]["layers"] for packet in json.loads(result.stdout)]


@pytest.mark.tshark
@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs Debian's tshark on PATH (./run setup)")
@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_tshark_checks_a_captured_session(transport: str, tmp_path: Path) -> None:
    records: list[Record] = []
    head, node = Endpoint("192.0.2.10", 40123), Endpoint("192.0.2.20", PORT)

    async def body(link: Link) -> None:
        link.clock.advance(1.0)
        await read_everything(link)
        await link.procedure(9, RemoteResetParams(demand_reset=True).encode())
        st6 = link.meter.responder.store.get(6)
        await link.ask(MASTER, FullWrite(6, st6), PartialWriteOffset(118, 3, b"\x00\x01"))

    for mode in (SecurityMode.AUTHENTICATED, SecurityMode.ENCRYPTED):
        captured: list[tuple[str, bytes]] = []

        async def session(link: Link, into: list[tuple[str, bytes]] = captured) -> None:
            await body(link)
            into.extend(link.apdus)

        linked(transport, mode, session)
        for n, (direction, apdu) in enumerate(captured):
            src, dst = (head, node) if direction == "in" else (node, head)
            records.append(Record(T0 + len(records) + n * 1e-3, src, dst, transport, apdu))  # type: ignore[arg-type]
    path = tmp_path / f"meter-{transport}.pcap"
    write_pcap(path, records)
    rows = _tshark(path, transport)
    messages = [row for row in rows if "c1222.epsem.flags" in row]
    assert len(messages) == len(records) > 150
    bad = [
        row["frame.number"]
        for row in messages
        if row.get("c1222.crypto_good") != ["1"] or row.get("c1222.crypto_bad") != ["0"]
    ]
    assert bad == []
    checksum = "tcp.checksum.status" if transport == "tcp" else "udp.checksum.status"
    assert all(row.get(checksum) == ["1"] and "_ws.malformed" not in row for row in rows)
    writes = [s for row in messages for s in row.get("c1222.write.chksum.status", [])]
    assert len(writes) >= 4 and set(writes) == {"1"}


# -- the optical port and termineter ----------------------------------------------------------------------------------
TERMINETER = textwrap.dedent(
    """
    import json, sys
    from c1218.connection import Connection
    link = Connection(sys.argv[1], enable_cache=False)
    assert link.start(), "identify / negotiate refused"
    assert link.login(username="0000", userid=5, password="MASTER"), "logon / security refused"
    st1 = link.get_table_data(1)
    st0 = link.get_table_data(0)
    link.stop()
    print(json.dumps({"st1": bytes(st1).hex(), "st0": bytes(st0).hex()}))
    """
)


def test_termineter_reads_the_optical_port() -> None:
    pytest.importorskip("c1218.connection", reason="termineter is not installed (pip install termineter)")

    async def go() -> None:
        node = meter(clock=SystemClock())  # C12.18 timing is real time
        pty = await node.serve_optical_pty()
        node.start()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", TERMINETER, pty.path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(process.communicate(), 15)
        assert process.returncode == 0, err.decode()
        got = json.loads(out)
        store = node.responder.store
        assert (bytes.fromhex(got["st1"]), bytes.fromhex(got["st0"])) == (store.get(1), store.get(0))
        await node.stop()

    run(go())


# -- bad input --------------------------------------------------------------------------------------------------------
def request_bytes(node: Meter, now: float, mode: SecurityMode) -> bytes:
    """The APDU of a Full Read ST1 request from a client of its own (.123.7)."""
    return client(ManualClock(now), mode, ".123.7").association.request(node.title, [FullRead(1)], now=now)[1]


async def _raw(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


def test_bad_input_over_tcp() -> None:
    async def go() -> None:
        clock = ManualClock(T0)
        node = meter(clock=clock, register=False, max_apdu_size=2048)
        server = await node.serve_tcp("127.0.0.1", 0, idle_timeout=None)
        node.start()
        head = client(clock, SecurityMode.ENCRYPTED)
        channel = await open_tcp("127.0.0.1", server.port, head)

        async def healthy() -> None:
            answer = await head.request(node.title, [FullRead(1)], via=channel)
            assert answer.responses[0] == ReadResponse(node.responder.store.get(1))

        # malformed APDU: that connection is closed and counted
        reader, writer = await _raw(server.port)
        writer.write(bytes.fromhex("6005a203800101"))
        assert await reader.read() == b""
        assert node.counts()["violations"] == 1
        # bytes that cannot start an APDU
        reader, writer = await _raw(server.port)
        writer.write(b"\x00garbage")
        assert await reader.read() == b""
        assert node.counts()["framing_errors"] == 1
        # a truncated frame: half an APDU, then silence until the read timeout
        apdu = request_bytes(node, clock.now(), SecurityMode.ENCRYPTED)
        reader, writer = await _raw(server.port)
        writer.write(apdu[: len(apdu) // 2])
        await until(lambda: any(c.receiving for c in server.connections))
        clock.advance(31.0)
        assert await reader.read() == b""
        assert node.counts()["read_timeouts"] == 1
        await healthy()

        # a replay: the same bytes again get the cached answer (not run twice); later, refused
        apdu = request_bytes(node, clock.now(), SecurityMode.ENCRYPTED)
        reader, writer = await _raw(server.port)
        answers = []
        for _ in range(2):
            writer.write(apdu)
            header = await reader.readexactly(2)
            answers.append(header + await reader.readexactly(header[1]))
        assert answers[0] == answers[1] and node.counts()["duplicates"] == 1
        clock.advance(200.0)  # past the duplicate window, inside the replay window
        writer.write(apdu)
        await until(lambda: node.counts()["replays"] == 1)
        writer.close()

        # wrong key: the MAC does not verify; nothing is answered; counted
        impostor = client(clock, SecurityMode.ENCRYPTED, title=".123.6", response_timeout=1.0, retries=0)
        impostor.association.config.keys.set(KEY_ID, bytes(range(16)))  # the right key id, another key
        other = await open_tcp("127.0.0.1", server.port, impostor)
        pending = asyncio.ensure_future(impostor.request(node.title, [FullRead(1)], via=other))
        await until(lambda: node.counts()["bad_mac"] == 1)
        clock.advance(1.0)
        with pytest.raises(RequestTimeout):
            await pending
        other.close()
        await impostor.aclose()

        # wrong password: ERR, counted; the next request is served
        refused = (await head.request(node.title, [Security(b"NOT IT"), FullRead(42)], via=channel)).responses
        assert refused[0] == ErrorResponse(ResponseCode.ERR)
        assert node.counters.password_failures == 1
        # oversized: the APDU is answered RQTL with our maximum
        answer = (await head.request(node.title, [FullWrite(6, bytes(3000))], via=channel)).responses[0]
        assert answer == ErrorResponse.too_large(ResponseCode.RQTL, 2048)
        assert node.counts()["rqtl_sent"] == 1
        await healthy()
        channel.close()
        await head.aclose()
        await node.stop()

    run(go())


def test_bad_input_over_udp_and_request_size_limit() -> None:
    async def go() -> None:
        clock = ManualClock(T0)
        node = meter(replace(CONFIG, max_request_size=64), clock=clock, register=False)
        sock = await node.serve_udp("127.0.0.1", 0)
        node.start()
        head = client(clock)
        mine = await open_udp(head)
        channel = mine.peer("127.0.0.1", sock.port)
        loop = asyncio.get_running_loop()
        raw, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, remote_addr=("127.0.0.1", sock.port))
        apdu = request_bytes(node, clock.now(), SecurityMode.CLEARTEXT)
        for datagram in (apdu[:-3], bytes.fromhex("6005a203800101"), b"\x00junk"):
            raw.sendto(datagram)
        # the truncated datagram and the junk are dropped, the malformed APDU is a protocol violation
        await until(lambda: (node.counts()["violations"], node.counts()["dropped"]) == (1, 2))
        answer = (await head.request(node.title, [FullWrite(6, bytes(100))], via=channel)).responses[0]
        assert answer == ErrorResponse.too_large(ResponseCode.RQTL, 64)  # the responder's limit (ST0 sizes)
        answer = (await head.request(node.title, [FullRead(1)], via=channel)).responses[0]
        assert answer == ReadResponse(node.responder.store.get(1))
        raw.close()
        mine.close()
        await head.aclose()
        await node.stop()

    run(go())
