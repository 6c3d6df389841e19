"""`MeterClient` against a meter served on loopback TCP and UDP in security modes 0, 1 and 2.

The meter is `MeterServer`: the meter's `Responder` over a small working engine (`FakeMeter` from the
meter tests) behind a `C1222Endpoint`. Expected values come from what the engine was fed or from the
meter's own table store, never from the client. `element_at` / `decode_read` are checked against the
whole-table decode. Every async test runs bounded by `tests.transport.support.run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import socket
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.layout import Layout
from openami.c1219.nodes import ArrayNode, Node, RecordNode
from openami.c1219.procedures import RemoteResetParams, ResultCode, SetDateTimeParams, TimeDateQual
from openami.c1222.acse import Message
from openami.c1222.aptitle import C1222_BASE, ApTitle
from openami.c1222.association import Association, AssociationConfig, RequestReceived
from openami.c1222.association.wire import build_apdu
from openami.c1222.codes import ResponseCode
from openami.c1222.epsem import EpsemControl
from openami.c1222.security import KeyStore, SecurityMode
from openami.c1222.services import FullRead, ReadResponse, Request, Response
from openami.client import (
    ConnectError,
    MacError,
    MeterClient,
    ProcedureTimeout,
    ResponseError,
    ResponseTimeout,
    decode_read,
    element_at,
)
from openami.errors import LocalProtocolError
from openami.meter.config import Identity, Key, MeterConfig, SecuritySettings
from openami.meter.responder import Responder
from openami.transport import C1222Endpoint, TcpServer, UdpSocket, serve_tcp, serve_udp

from ..meter.test_procedures import FakeMeter
from ..transport.support import run

KEY = bytes.fromhex("01020304050607080102030405060708")  # c12-protocol-facts.md §4, V1 (key id 2)
WRONG_KEY = bytes(range(16))
KEY_ID = 2
METER = ApTitle.parse(".123.8437")
LOOPBACK = "127.0.0.1"
TRANSPORTS = pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
MODES = pytest.mark.parametrize("mode", list(SecurityMode), ids=lambda m: f"mode{int(m)}")


class MeterServer:
    """The meter side: a `Responder` over a `FakeMeter`, served by a `C1222Endpoint` on loopback.

    Reads and writes need at least ``mode`` (ST41 minimums), so a test in mode 2 really went secured.
    ``seen`` lists every service the meter's application answered."""

    def __init__(self, mode: SecurityMode = SecurityMode.CLEARTEXT, **settings: Any) -> None:
        security = SecuritySettings(keys=(Key(KEY_ID, KEY),), min_read_mode=mode, min_write_mode=mode)
        config = MeterConfig(identity=Identity(ap_title=str(METER)), security=security, **settings)
        self.live = FakeMeter()
        self.responder = Responder(config, self.live)
        core = AssociationConfig(
            ap_title=METER,
            keys=self.responder.keys,
            key_id=KEY_ID,
            security_mode=mode,
            authenticator=self.responder.access.authenticator,
        )
        self.endpoint = C1222Endpoint(Association(core), on_request=self._answer)
        self.seen: list[Request] = []
        self.port = 0
        self._tcp: TcpServer | None = None
        self._udp: UdpSocket | None = None

    async def _answer(self, event: RequestReceived) -> Sequence[Response]:
        self.seen.extend(event.requests)
        return self.responder.handle(event, self.endpoint.clock.now())

    async def start(self, udp: bool) -> int:
        if udp:
            self._udp = await serve_udp(LOOPBACK, 0, self.endpoint)
            self.port = self._udp.port
        else:
            self._tcp = await serve_tcp(LOOPBACK, 0, self.endpoint)
            self.port = self._tcp.port
        return self.port

    async def stop(self) -> None:
        await self.endpoint.aclose()
        if self._tcp is not None:
            await self._tcp.close()
        if self._udp is not None:
            self._udp.close()

    def value(self, number: int) -> dict[str, Any]:
        """The meter's own decode of table ``number`` (live tables refreshed first)."""
        self.responder.refresh(number)
        return self.responder.store.value(number)


@contextlib.asynccontextmanager
async def serving(
    mode: SecurityMode = SecurityMode.CLEARTEXT, udp: bool = False, **settings: Any
) -> AsyncIterator[MeterServer]:
    server = MeterServer(mode, **settings)
    await server.start(udp)
    try:
        yield server
    finally:
        await server.stop()


def client(server: MeterServer, udp: bool, mode: SecurityMode, **kw: Any) -> MeterClient:
    settings: dict[str, Any] = {
        "udp": udp,
        "called": METER,
        "security_mode": mode,
        "keys": {KEY_ID: KEY} if mode else None,
        "response_timeout": 2.0,
        "retries": 1,
    }
    settings.update(kw)
    return MeterClient(LOOPBACK, server.port, **settings)


# -- reads ----------------------------------------------------------------------------------------------------------
@TRANSPORTS
@MODES
def test_full_offset_and_index_reads_decode(udp: bool, mode: SecurityMode) -> None:
    async def body() -> None:
        async with serving(mode, udp) as server:
            server.live.consume(420, 100, 1680)
            async with client(server, udp, mode) as meter:
                full = await meter.read(23)
                assert full.decoded["TOT_DATA_BLOCK"]["SUMMATIONS"] == [420.0, 100.0]
                assert full.decoded["TOT_DATA_BLOCK"]["DEMANDS"][0]["DEMAND"] == [1680.0]
                assert (full.element, full.note) == ("", None)
                assert full.data == server.responder.store.read(23)

                span = server.responder.store.layout(23).locate("TOT_DATA_BLOCK.SUMMATIONS[1]")
                part = await meter.read(23, offset=span.offset, count=span.size)
                assert (part.decoded, part.element) == (100.0, "TOT_DATA_BLOCK.SUMMATIONS[1]")
                assert part.data == server.responder.store.read(23)[span.offset : span.offset + span.size]

                by_index = await meter.read(23, index=(1, 0, 1))  # TOT_DATA_BLOCK → SUMMATIONS → [1]
                assert (by_index.decoded, by_index.element) == (100.0, "TOT_DATA_BLOCK.SUMMATIONS[1]")
                both = await meter.read(23, index=(1, 0, 0), count=2)
                assert both.decoded == [420.0, 100.0]
                fields = await meter.read(23, index=(0,), count=2)  # NBR_DEMAND_RESETS and TOT_DATA_BLOCK
                assert fields.decoded["NBR_DEMAND_RESETS"] == 0
                assert fields.decoded["TOT_DATA_BLOCK"]["SUMMATIONS"] == [420.0, 100.0]

    run(body())


@TRANSPORTS
def test_json_form_and_configuration_read_once(udp: bool) -> None:
    async def body() -> None:
        async with serving(udp=udp) as server, client(server, udp, SecurityMode.CLEARTEXT) as meter:
            server.live.consume(5, 1, 20)
            read = await meter.read(22)  # DATA_SELECTION_TBL: dimensioned by ST21
            await meter.read(22)
            await meter.read(12)  # UOM_ENTRY_TBL: dimensioned by ST11
            reads = [r.table for r in server.seen if isinstance(r, FullRead)]
            assert reads.count(0) == 1 and reads.count(21) == 1 and reads.count(11) == 1
            shape = json.loads(json.dumps(read.to_json()))
            assert set(shape) == {"table", "data_hex", "decoded", "element", "note"}
            assert shape["table"] == 22 and bytes.fromhex(shape["data_hex"]) == server.responder.store.read(22)
            layout = server.responder.store.layout(22)
            assert shape["decoded"] == layout.to_json(server.value(22))

    run(body())


def test_undecodable_partial_read_keeps_the_octets() -> None:
    async def body() -> None:
        async with serving() as server, client(server, False, SecurityMode.CLEARTEXT) as meter:
            span = server.responder.store.layout(23).locate("TOT_DATA_BLOCK.SUMMATIONS[0]")
            read = await meter.read(23, offset=span.offset + 1, count=span.size)  # straddles two values
            assert read.decoded is None and read.note and "not one element" in read.note
            assert read.data == server.responder.store.read(23)[span.offset + 1 : span.offset + 1 + span.size]

    run(body())


# -- writes and procedures -----------------------------------------------------------------------------------------
@TRANSPORTS
@MODES
def test_write_then_read_back(udp: bool, mode: SecurityMode) -> None:
    async def body() -> None:
        async with serving(mode, udp) as server, client(server, udp, mode, password="PROGRAMMER") as meter:
            st6 = (await meter.read(6)).json
            st6["UTILITY_DIV"] = "NORTH DIVISION".ljust(20)
            await meter.write(6, st6)
            assert server.value(6)["UTILITY_DIV"] == "NORTH DIVISION".ljust(20)
            assert (await meter.read(6)).decoded["UTILITY_DIV"] == "NORTH DIVISION".ljust(20)

            span = server.responder.store.layout(6).locate("CUSTOMER_ID")
            await meter.write(6, b"CUST-42", offset=span.offset)
            assert server.value(6)["CUSTOMER_ID"].startswith("CUST-42")
            await meter.write(6, "EAST".ljust(20), index=(1,))  # UTILITY_DIV is field 1
            assert (await meter.read(6, index=(1,))).decoded == "EAST".ljust(20)

    run(body())


@TRANSPORTS
@MODES
def test_procedures_sp9_and_sp10(udp: bool, mode: SecurityMode) -> None:
    async def body() -> None:
        async with serving(mode, udp) as server:
            server.live.consume(100, 10, 999)
            async with client(server, udp, mode, password="OPERATOR", user_id=6) as meter:
                reset = await meter.procedure(9, RemoteResetParams(demand_reset=True).encode())
                assert (reset.procedure, reset.mfg, reset.result) == (9, False, ResultCode.COMPLETED)
                assert server.live.resets == 1 and server.live.demand_max == 0
                assert [e.user_id for e in server.live.log if e.code == 20] == [6]
                when = dt.datetime(2027, 1, 2, 3, 4, 5)
                params = SetDateTimeParams(when, TimeDateQual.for_datetime(when)).encode(
                    server.responder.config.formats
                )
                clock = await meter.procedure(10, params)
                assert clock.result == ResultCode.COMPLETED and clock.seq_nbr == (reset.seq_nbr + 1) & 0xFF
                assert server.live.now == when
                refused = await meter.procedure(9, b"\xff")  # reserved ACTION_FLAG bits
                assert refused.result == ResultCode.INVALID_PARAMETER

    run(body())


def test_a_procedure_that_takes_time_is_polled_until_st8_reports_it() -> None:
    async def body() -> None:
        async with serving(procedure_durations=((9, 0.3), (10, 60.0))) as server:
            server.live.consume(100, 10, 999)
            operator = {"password": "OPERATOR", "procedure_poll": 0.05}
            async with client(server, False, SecurityMode.CLEARTEXT, procedure_timeout=10.0, **operator) as meter:
                reset = await meter.procedure(9, RemoteResetParams(demand_reset=True).encode())
                assert reset.result == ResultCode.COMPLETED and server.live.resets == 1
                assert sum(isinstance(r, FullRead) and r.table == 8 for r in server.seen) >= 2
            async with client(server, False, SecurityMode.CLEARTEXT, procedure_timeout=0.2, **operator) as meter:
                when = dt.datetime(2027, 1, 2, 3, 4, 5)
                params = SetDateTimeParams(when).encode(server.responder.config.formats)
                with pytest.raises(ProcedureTimeout):
                    await meter.procedure(10, params)
                assert server.live.now != when

    run(body())


# -- errors ---------------------------------------------------------------------------------------------------------
@TRANSPORTS
def test_response_codes_become_typed_errors(udp: bool) -> None:
    async def body() -> None:
        async with serving(udp=udp) as server:
            async with client(server, udp, SecurityMode.CLEARTEXT) as meter:
                with pytest.raises(ResponseError) as absent:
                    await meter.read(24)  # ST24 is not among the meter's tables
                assert absent.value.code == ResponseCode.ONP and absent.value.service == "read ST24"
                with pytest.raises(ResponseError) as refused:
                    await meter.procedure(9, RemoteResetParams(demand_reset=True).encode())
                assert refused.value.code == ResponseCode.ISC and "write ST7" in str(refused.value)
            async with client(server, udp, SecurityMode.CLEARTEXT, password="GUESS") as meter:
                with pytest.raises(ResponseError) as wrong:
                    await meter.read(23)
                assert wrong.value.code == ResponseCode.ERR and "password" in str(wrong.value)
            assert server.live.resets == 0

    run(body())


@TRANSPORTS
@pytest.mark.parametrize("mode", [SecurityMode.AUTHENTICATED, SecurityMode.ENCRYPTED], ids=["mode1", "mode2"])
def test_a_wrong_key_is_a_timeout_that_says_so(udp: bool, mode: SecurityMode) -> None:
    async def body() -> None:
        async with serving(mode, udp) as server:
            wrong = client(server, udp, mode, keys={KEY_ID: WRONG_KEY}, response_timeout=0.2, retries=0)
            async with wrong as meter:
                with pytest.raises(ResponseTimeout) as failed:
                    await meter.read(1)
            assert "check the key" in str(failed.value) and failed.value.attempts == 1
            assert server.endpoint.association.stats.bad_mac >= 1
            assert not server.seen

    run(body())


class _ForgingMeter(asyncio.DatagramProtocol):
    """Answers every request with a read response sealed under a key the client does not hold."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        request = Message.decode(data)
        assert request.calling is not None and request.calling_invocation_id is not None
        answer = build_apdu(
            called=request.calling,
            calling=METER,
            calling_invocation_id=1,
            called_invocation_id=request.calling_invocation_id,
            services=[ReadResponse(b"forged").encode()],
            control=EpsemControl(security_mode=SecurityMode.ENCRYPTED),
            keys=KeyStore({KEY_ID: WRONG_KEY}),
            key_id=KEY_ID,
            iv=(1_800_000_000).to_bytes(4, "big"),
            base=C1222_BASE,
        )
        self.transport.sendto(answer, addr)


def test_an_answer_that_fails_its_mac_is_told_apart_from_a_timeout() -> None:
    async def body() -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(_ForgingMeter, local_addr=(LOOPBACK, 0))
        port = transport.get_extra_info("sockname")[1]
        try:
            meter = MeterClient(
                LOOPBACK, port, udp=True, called=METER, security_mode=2, keys={KEY_ID: KEY}, response_timeout=30.0
            )
            async with meter:
                with pytest.raises(MacError) as failed:
                    await meter.read(1)
            assert failed.value.key_id == KEY_ID and "MAC" in str(failed.value)
        finally:
            transport.close()

    run(body())


def test_nothing_listening_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]  # closed again before the client dials: refused

    async def body() -> None:
        with pytest.raises(ConnectError):
            await MeterClient(LOOPBACK, port, called=METER).connect()

    run(body())


def test_misuse_is_a_local_protocol_error() -> None:
    with pytest.raises(LocalProtocolError):
        MeterClient(LOOPBACK, security_mode=2)  # no key
    with pytest.raises(LocalProtocolError):
        MeterClient(LOOPBACK, user_id=3)  # a user id without a password
    with pytest.raises(LocalProtocolError):
        MeterClient(LOOPBACK, password="P" * 21)

    async def body() -> None:
        async with serving() as server, client(server, False, SecurityMode.CLEARTEXT) as meter:
            with pytest.raises(LocalProtocolError):
                await meter.read(23, offset=0)  # no count
            with pytest.raises(LocalProtocolError):
                await meter.read(23, offset=0, count=1, index=(0,))
            with pytest.raises(LocalProtocolError):
                await meter.write(6, {"OWNER_NAME": "X"}, offset=0)
            with pytest.raises(LocalProtocolError):
                await meter.write(6, {"OWNER_NAME": 5})  # does not fit the layout
            assert not [r for r in server.seen if not isinstance(r, FullRead)]

    run(body())


# -- decoding partial reads (no network) ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tables() -> dict[int, tuple[Layout, bytes]]:
    server = MeterServer()
    server.live.consume(420, 100, 1680)
    server.live.consume(80, 20, 1500)
    out = {}
    for number in (6, 23, 52, 64, 74, 113):
        server.responder.refresh(number)
        out[number] = (server.responder.store.layout(number), server.responder.store.read(number))
    return out


def _value_at(value: Any, path: str) -> Any:
    """Follow ``A.B[2].C`` into a decoded table value (the oracle for partial decodes)."""
    for part in path.replace("[", ".[").split("."):
        if part:
            value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    return value


def _index_paths(node: Node, prefix: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = []
    if isinstance(node, RecordNode):
        children = [child for _, child in node.fields]
    elif isinstance(node, ArrayNode):
        children = [node.element] * min(node.count, 3)
    else:
        return out
    for i, child in enumerate(children):
        out.append((*prefix, i))
        out += _index_paths(child, (*prefix, i))
    return out


def test_every_element_found_by_its_offset_decodes_as_in_the_whole_table(tables: dict[int, Any]) -> None:
    for number, (layout, data) in tables.items():
        whole = layout.decode(data)
        for path in _index_paths(layout.root):
            span = layout.locate_index(path)
            if not span.size:
                continue
            found = element_at(layout, span.offset, span.size)
            assert found is not None and (found.offset, found.size) == (span.offset, span.size), (number, path)
            read = decode_read(number, layout, data[span.offset : span.offset + span.size], offset=span.offset)
            assert read.note is None and read.element == found.path
            expected = _value_at(whole, found.path)
            assert read.decoded == (expected[: found.count] if found.count > 1 else expected), (number, found.path)
            by_index = decode_read(number, layout, data[span.offset : span.offset + span.size], index=path)
            assert by_index.decoded == _value_at(whole, span.path), (number, path)


@settings(max_examples=200, deadline=None)
@given(number=st.sampled_from([6, 23, 52, 64, 74, 113]), start=st.integers(0, 400), size=st.integers(0, 400))
def test_any_offset_and_count_decodes_or_gives_a_note(
    tables: dict[int, Any], number: int, start: int, size: int
) -> None:
    layout, data = tables[number]
    chunk = data[start : start + size]
    read = decode_read(number, layout, chunk, offset=start)
    assert read.data == chunk
    if read.decoded is None:
        assert read.note
    else:
        assert read.element is not None and read.note is None
        found = element_at(layout, start, len(chunk))
        assert found is not None
        expected = _value_at(layout.decode(data), read.element)
        if found.count > 1:
            first = int(read.element.rsplit("[", 1)[1][:-1])
            parent = _value_at(layout.decode(data), read.element.rsplit("[", 1)[0])
            expected = parent[first : first + found.count]
        assert read.decoded == expected


def test_truncated_oversized_and_random_octets_give_a_note(tables: dict[int, Any]) -> None:
    layout, data = tables[23]
    for n in range(len(data)):
        read = decode_read(23, layout, data[:n])
        assert read.decoded is None and read.note and read.data == data[:n]
    read = decode_read(23, layout, data + b"\x00")
    assert read.decoded is None and read.note
    assert decode_read(23, None, data, note="no layout").note == "no layout"


@settings(max_examples=200, deadline=None)
@given(
    number=st.sampled_from([6, 23, 52, 64, 74, 113]),
    blob=st.binary(max_size=300),
    index=st.none() | st.lists(st.integers(0, 5), min_size=1, max_size=4),
    offset=st.none() | st.integers(0, 300),
    count=st.integers(1, 4),
)
def test_random_octets_never_raise(
    tables: dict[int, Any], number: int, blob: bytes, index: list[int] | None, offset: int | None, count: int
) -> None:
    layout, _ = tables[number]
    read = decode_read(number, layout, blob, offset=None if index is not None else offset, index=index, count=count)
    assert read.data == blob
    assert read.decoded is not None or read.note
