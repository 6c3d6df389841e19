"""`PsemClient` and `PsemServer` run whole C12.18 sessions over the simulated line of `harness.Wire`.

The meter behind the server is `TableMeter` below: a dict of table bytes (ST0 is EPRI's c12test ST0 from
c12-protocol-facts.md §7), access control by password, and one procedure (SP9) run through ST7/ST8.
Expected answers are written by hand from the table dict and facts §3/§5/§6, not computed by the cores.
"""

from __future__ import annotations

import random
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1218 import LinkConfig, Packet, SendBytes, decode_packet
from openami.c1218.client import ClientEvent, ClientFailed, ProcedureResult, PsemClient, Response, UnexpectedMessage
from openami.c1218.psem import BAUD_RATES, Negotiated, baud_code, baud_rate, max_read_octets
from openami.c1218.server import (
    AnswerFailed,
    PsemServer,
    PsemServerConfig,
    Rejected,
    Served,
    ServerEvent,
    ServerSession,
    SessionEnded,
    SessionState,
)
from openami.c1219.procedures import ProcedureRequest, ProcedureResponse, ResultCode, StandardProcedure
from openami.c1222.codes import ResponseCode
from openami.c1222.services import (
    Disconnect,
    ErrorResponse,
    FullRead,
    FullWrite,
    Identify,
    IdentifyResponse,
    Logoff,
    Logon,
    Negotiate,
    NegotiateResponse,
    OkResponse,
    PartialReadOffset,
    ReadResponse,
    Request,
    Security,
    Terminate,
    Wait,
)
from openami.c1222.services import Response as ServiceResponse
from openami.errors import LocalProtocolError, ProtocolError

from .harness import CLIENT, SERVER, Faults, Wire

# --- the test meter's tables ----------------------------------------------------------------------------
ST0 = bytes.fromhex(  # EPRI c12test's ST0 (facts §7), 79 bytes
    "120a9a455052490200131801000d0d03050d06ffadf0df033ffcf0c11fffff033effafa20185ffff1f308ffff7f85f10fe"
    "ff1e16dbe0a8e00803346860800afcf30024a500a001811967100082f5e0"
)
ST1 = b"EPRI" + b"OPENAMI1" + bytes((1, 2, 3, 4)) + b"MANUFACTURER SN "
ST6 = bytes(100)
MT64 = bytes((i * 7 + 3) & 0xFF for i in range(400))
WRITE_DATA = bytes(range(100))
PASSWORD = b"SECRET"
PASSWORD_FIELD = b"SECRET".ljust(20, b" ")  # the 20-byte Security field, blank padded
IDENTIFY_PACKET = bytes.fromhex("EE 00 00 00 00 01 20 13 10")  # facts §5

SP9 = ProcedureRequest(StandardProcedure.REMOTE_RESET, seq_nbr=7, params=b"\x01")
ST7_SP9 = bytes.fromhex("09 00 07 01")  # TABLE_IDB_BFLD 9 little-endian, SEQ_NBR 7, one parameter byte (§6)
ST8_SP9 = bytes.fromhex("09 00 07 00")  # ... RESULT_CODE 0 (completed), no response data


def tables() -> dict[int, bytes]:
    return {0: ST0, 1: ST1, 6: ST6, 8: b"", 0x0840: MT64}


class TableMeter:
    """The handler: reads from ``tables``; writes (ST6) and ST7 only with the password; SP9 completes."""

    def __init__(self) -> None:
        self.tables = tables()
        self.procedures: list[ProcedureRequest] = []

    def __call__(self, request: Request, session: ServerSession) -> ServiceResponse:
        if isinstance(request, FullRead | PartialReadOffset):
            data = self.tables.get(request.table)
            if data is None:
                return ErrorResponse(ResponseCode.ONP)
            if isinstance(request, FullRead):
                return ReadResponse(data)
            end = request.offset + request.octet_count
            return ReadResponse(data[request.offset : end]) if end <= len(data) else ErrorResponse(ResponseCode.ONP)
        if isinstance(request, FullWrite):
            if session.password != PASSWORD_FIELD:
                return ErrorResponse(ResponseCode.ISC)
            if request.table == 7:
                try:
                    procedure = ProcedureRequest.decode(request.data)
                except ProtocolError:
                    return ErrorResponse(ResponseCode.ERR)
                self.procedures.append(procedure)
                done = procedure.standard is StandardProcedure.REMOTE_RESET
                self.tables[8] = procedure.response(ResultCode.COMPLETED if done else ResultCode.UNRECOGNIZED).encode()
                return OkResponse()
            if request.table == 6:
                self.tables[6] = request.data
                return OkResponse()
            return ErrorResponse(ResponseCode.IAR)
        return ErrorResponse(ResponseCode.SNS)


def password_check(request: Request, session: ServerSession) -> ServiceResponse:
    """Authorizer: any Logon; Security only with PASSWORD."""
    if isinstance(request, Security) and request.password != PASSWORD_FIELD:
        return ErrorResponse(ResponseCode.ISC)
    return OkResponse()


E = TypeVar("E")

# --- driver ---------------------------------------------------------------------------------------------


class Line:
    """Client and server joined by a `Wire`; simulated time, nothing read from a clock."""

    def __init__(self, client: PsemClient, server: PsemServer, wire: Wire) -> None:
        self.client = client
        self.server = server
        self.wire = wire
        self.now = 0.0
        self.client_events: list[ClientEvent] = []
        self.server_events: list[ServerEvent] = []

    def send(self, data: list[bytes]) -> None:
        """Write what a `PsemClient` request method returned."""
        for chunk in data:
            self.wire.transmit(CLIENT, chunk, self.now)

    def _on(self, side: str, events: list[ClientEvent] | list[ServerEvent]) -> None:
        log: list[object] = self.client_events if side == CLIENT else self.server_events  # type: ignore[assignment]
        for event in events:
            if isinstance(event, SendBytes):
                self.wire.transmit(side, event.data, self.now)
            else:
                log.append(event)

    def idle(self) -> bool:
        return not self.client.busy and self.wire.empty and not self.server.link.busy

    def run(self, until: float | None = None, max_time: float = 1200.0) -> None:
        """Until the client has its answers and the line is quiet, or (with ``until``) until that time."""
        for _ in range(200_000):
            if until is None and self.idle():
                return
            times = [t for t in (self.wire.next_time(), self.client.next_timer(), self.server.next_timer()) if t]
            if not times or min(times) > (max_time if until is None else until):
                break
            self.now = max(self.now, min(times))
            wire_time = self.wire.next_time()
            if wire_time is not None and wire_time <= self.now:
                _, dst, chunk = self.wire.pop_due()
                if dst == SERVER:
                    self._on(SERVER, self.server.receive_data(chunk, self.now))
                else:
                    self._on(CLIENT, self.client.receive_data(chunk, self.now))
                continue
            for side, core in ((CLIENT, self.client), (SERVER, self.server)):
                due = core.next_timer()
                if due is not None and due <= self.now:
                    self._on(side, core.handle_timer(self.now))
        else:
            raise AssertionError("driver loop did not settle")
        if until is not None:
            self.now = max(self.now, until)

    def responses(self) -> list[tuple[Request, ServiceResponse]]:
        return [(e.request, e.response) for e in self.client_events if isinstance(e, Response)]

    def client_of(self, kind: type[E]) -> list[E]:
        return [e for e in self.client_events if isinstance(e, kind)]

    def server_of(self, kind: type[E]) -> list[E]:
        return [e for e in self.server_events if isinstance(e, kind)]


def make_line(
    seed: int = 0,
    faults: Faults | None = None,
    *,
    config: PsemServerConfig | None = None,
    guard: bool = True,
    client_faults: Faults | None = None,
    server_faults: Faults | None = None,
) -> tuple[Line, TableMeter]:
    both = faults or Faults()
    wire = Wire(random.Random(seed), faults={CLIENT: client_faults or both, SERVER: server_faults or both})
    baud = 9600 if guard else None  # the harness line runs at 9600 baud, so the ACK timing guard may be on
    meter = TableMeter()
    server = PsemServer(
        LinkConfig(baud_rate=baud, channel_traffic_timeout=6.0), meter, config, authorize=password_check
    )
    return Line(PsemClient(LinkConfig(baud_rate=baud)), server, wire), meter


# --- the full session -----------------------------------------------------------------------------------


def queue_full_session(line: Line) -> None:
    c, now = line.client, line.now
    line.send(c.identify(now))
    line.send(c.negotiate(128, 4, (8, 6), now))  # the meter supports code 6 (9600) only
    line.send(c.logon(2, b"OPENAMI", now))
    line.send(c.security(PASSWORD, now))
    line.send(c.read(1, now))
    line.send(c.read(0, now))
    line.send(c.read_offset(0, 10, 20, now))
    line.send(c.write(6, WRITE_DATA, now))
    line.send(c.read(6, now))
    line.send(c.read(0x0840, now))
    line.send(c.run_procedure(SP9, now))
    line.send(c.logoff(now))
    line.send(c.terminate(now))


FULL_SESSION: list[tuple[Request, ServiceResponse]] = [
    (Identify(), IdentifyResponse(0, 1, 0)),
    (Negotiate(128, 4, (8, 6)), NegotiateResponse(128, 4, 6)),
    (Logon(2, b"OPENAMI   "), OkResponse()),
    (Security(PASSWORD_FIELD), OkResponse()),
    (FullRead(1), ReadResponse(ST1)),
    (FullRead(0), ReadResponse(ST0)),
    (PartialReadOffset(0, 10, 20), ReadResponse(ST0[10:30])),
    (FullWrite(6, WRITE_DATA), OkResponse()),
    (FullRead(6), ReadResponse(WRITE_DATA)),
    (FullRead(0x0840), ReadResponse(MT64)),
    (FullWrite(7, ST7_SP9), OkResponse()),
    (FullRead(8), ReadResponse(ST8_SP9)),
    (Logoff(), OkResponse()),
    (Terminate(), OkResponse()),
]


def test_scenario_sizes_need_negotiation_and_multi_packet_messages() -> None:
    # 64-byte packets carry 56 data bytes; 128-byte packets × 4 carry 480 per message.
    assert len(FullWrite(6, WRITE_DATA).encode()) > 56  # the write request takes two packets
    assert 3 * 120 < 4 + len(MT64) <= 4 * 120  # the MT64 answer takes four packets
    assert max_read_octets(64, 1) == 52 and max_read_octets(128, 4) == 476


def check_full_session(line: Line, meter: TableMeter) -> None:
    assert line.responses() == FULL_SESSION
    assert not line.client_of(ClientFailed) and not line.client_of(UnexpectedMessage)
    assert line.client_of(Negotiated) == [Negotiated(128, 4, 6)]
    assert line.client_of(ProcedureResult) == [ProcedureResult(SP9, ProcedureResponse(9, False, 7, ResultCode(0)))]
    result = line.client_of(ProcedureResult)[0]
    assert isinstance(result, ProcedureResult) and result.ok
    assert meter.procedures == [SP9]
    assert meter.tables[6] == WRITE_DATA
    # The server answered exactly what the client decoded, and ended the session after Terminate.
    assert [(e.request, e.response) for e in line.server_of(Served)] == FULL_SESSION
    assert line.server_of(Negotiated) == [Negotiated(128, 4, 6)]
    assert line.server_of(SessionEnded) == [SessionEnded("terminate")]
    assert line.server.session == ServerSession()
    assert line.client.link.packet_size == line.server.link.packet_size == 64  # both back at the defaults
    assert line.client.identity == IdentifyResponse(0, 1, 0)
    assert line.client.negotiated is None


def test_full_session_on_a_clean_line() -> None:
    line, meter = make_line()
    queue_full_session(line)
    line.run()
    check_full_session(line, meter)
    assert line.wire.sent[CLIENT][0] == IDENTIFY_PACKET
    stats = (line.client.link.stats, line.server.link.stats)
    assert all(s.naks_sent == s.retransmissions == 0 for s in stats)
    assert line.server.link.stats.packets_sent == len(FULL_SESSION) - 1 + 4  # MT64 answer in 4 packets


def test_corruption_is_recovered_by_nak_and_retransmission() -> None:
    complete, naks, retransmissions = 0, 0, 0
    for seed in range(8):
        line, meter = make_line(seed, Faults(corrupt=0.15))
        queue_full_session(line)
        line.run()
        assert line.wire.injected > 0
        # Whatever happened, nothing wrong was ever delivered: the answers are a prefix of the session's.
        assert line.responses() == FULL_SESSION[: len(line.responses())]
        if not line.client_of(ClientFailed):
            check_full_session(line, meter)
            complete += 1
        stats = (line.client.link.stats, line.server.link.stats)
        naks += sum(s.naks_sent for s in stats)
        retransmissions += sum(s.retransmissions for s in stats)
    assert complete >= 7
    assert naks > 0 and retransmissions > 0


def test_noisy_line_of_every_kind_completes_or_fails_loudly() -> None:
    noise = Faults(corrupt=0.08, drop=0.03, truncate=0.03, drop_control=0.05, corrupt_control=0.05)
    complete = 0
    for seed in range(10):
        line, meter = make_line(100 + seed, noise)
        queue_full_session(line)
        line.run()
        assert line.responses() == FULL_SESSION[: len(line.responses())]
        if line.responses() == FULL_SESSION:
            check_full_session(line, meter)
            complete += 1
        else:
            assert line.client_of(ClientFailed)
    assert complete >= 8


# --- session rules --------------------------------------------------------------------------------------


def run_requests(line: Line, requests: list[Request]) -> list[tuple[Request, ServiceResponse]]:
    for request in requests:
        line.send(line.client.request(request, line.now))
    line.run()
    return line.responses()


ISSS = ErrorResponse(ResponseCode.ISSS)


def test_out_of_sequence_services_answer_isss() -> None:
    line, _ = make_line()
    script: list[tuple[Request, ServiceResponse]] = [
        (FullRead(1), ISSS),  # base state: nothing but Identify / Terminate
        (Logon(2, b"X"), ISSS),
        (Security(PASSWORD), ISSS),
        (Logoff(), ISSS),
        (Wait(5), ISSS),
        (Negotiate(64, 1), ISSS),
        (Identify(), IdentifyResponse(0, 1, 0)),
        (FullRead(1), ISSS),  # identified, not logged on
        (Security(PASSWORD), ISSS),
        (Logoff(), ISSS),
        (Wait(5), OkResponse()),
        (Logon(2, b"X"), OkResponse()),
        (Negotiate(64, 1), ISSS),  # Negotiate only before Logon
        (Identify(), ISSS),
        (Logon(2, b"X"), ISSS),
        (Disconnect(), ErrorResponse(ResponseCode.SNS)),  # not a C12.18 service
        (FullRead(1), ReadResponse(ST1)),
        (Logoff(), OkResponse()),
        (FullRead(1), ISSS),  # logged off: back to identified
        (Logon(3, b"Y"), OkResponse()),
        (Terminate(), OkResponse()),
        (FullRead(1), ISSS),  # terminated: back to base
        (Identify(), IdentifyResponse(0, 1, 0)),
    ]
    assert run_requests(line, [request for request, _ in script]) == script
    assert line.server_of(SessionEnded) == [SessionEnded("terminate")]
    assert line.server.session.state is SessionState.IDENTIFIED


def logged_on(line: Line) -> None:
    for send in (line.client.identify, lambda now: line.client.logon(2, b"OPENAMI", now)):
        line.send(send(line.now))


def test_unknown_table_answers_the_handlers_error() -> None:
    line, _ = make_line()
    logged_on(line)
    answers = run_requests(line, [FullRead(0x0123), PartialReadOffset(0, 70, 20), FullRead(2048 | 5)])
    assert answers[2:] == [
        (FullRead(0x0123), ErrorResponse(ResponseCode.ONP)),
        (PartialReadOffset(0, 70, 20), ErrorResponse(ResponseCode.ONP)),  # past the end of the 79-byte ST0
        (FullRead(0x0805), ErrorResponse(ResponseCode.ONP)),
    ]


def test_security_and_access_control_reach_the_handler() -> None:
    line, meter = make_line()
    logged_on(line)
    answers = run_requests(
        line,
        [FullWrite(6, b"no"), Security(b"WRONG"), FullWrite(6, b"no"), Security(PASSWORD), FullWrite(6, b"yes")],
    )
    isc = ErrorResponse(ResponseCode.ISC)
    assert [response for _, response in answers[2:]] == [isc, isc, isc, OkResponse(), OkResponse()]
    assert meter.tables[6] == b"yes"
    assert line.server.session.password == PASSWORD_FIELD and line.server.session.user_id == 2


def test_negotiate_takes_the_smaller_sizes_and_a_supported_baud() -> None:
    config = PsemServerConfig(max_packet_size=512, max_nbr_packets=2, bauds=(6, 8))
    line, _ = make_line(config=config, guard=False)
    line.send(line.client.identify(0.0))
    script = [
        (Negotiate(2048, 16, (9, 8, 6)), NegotiateResponse(512, 2, 8)),  # server limits; first supported code
        (Negotiate(100, 1, (3,)), NegotiateResponse(100, 1, 8)),  # offer below the limits; 1200 unsupported
        (Negotiate(256, 4), NegotiateResponse(256, 2, 8)),  # no code offered: the current one
        (Negotiate(8, 1), ErrorResponse(ResponseCode.IAR)),  # a packet of 8 bytes carries no data
    ]
    assert run_requests(line, [request for request, _ in script])[1:] == script
    assert (
        line.client_of(Negotiated)
        == line.server_of(Negotiated)
        == [
            Negotiated(512, 2, 8),
            Negotiated(100, 1, 8),
            Negotiated(256, 2, 8),
        ]
    )
    assert Negotiated(512, 2, 8).baud_rate == 19200
    for link in (line.client.link, line.server.link):
        assert (link.packet_size, link.nbr_packets) == (256, 2)
    assert line.server.session.baud_code == 8


def test_answer_too_large_for_the_negotiated_sizes_is_onp() -> None:
    line, _ = make_line()
    logged_on(line)
    answers = run_requests(line, [FullRead(0x0840), FullRead(1)])  # 404-byte answer, 56-byte messages
    assert answers[2:] == [(FullRead(0x0840), ErrorResponse(ResponseCode.ONP)), (FullRead(1), ReadResponse(ST1))]


def test_request_too_large_raises_when_idle_and_fails_alone_when_queued() -> None:
    line, _ = make_line()
    try:
        line.client.write(6, WRITE_DATA, 0.0)
    except LocalProtocolError:
        pass
    else:
        raise AssertionError("a 106-byte request at 56-byte messages must be refused")
    assert not line.client.busy
    line.send(line.client.identify(0.0))
    line.send(line.client.write(6, WRITE_DATA, 0.0))  # queued: fails when its turn comes
    line.send(line.client.identify(0.0))
    line.run()
    assert [type(e) for e in line.client_events] == [Response, ClientFailed, Response]
    failed = line.client_of(ClientFailed)[0]
    assert isinstance(failed, ClientFailed) and failed.request == FullWrite(6, WRITE_DATA) and failed.dropped == ()


def test_procedure_refused_on_st7_skips_the_st8_read() -> None:
    line, meter = make_line()
    logged_on(line)  # no Security: the meter refuses ST7 writes
    line.send(line.client.run_procedure(SP9, 0.0))
    line.send(line.client.logoff(0.0))
    line.run()
    assert [request for request, _ in line.responses()] == [
        Identify(),
        Logon(2, b"OPENAMI"),
        FullWrite(7, ST7_SP9),
        Logoff(),
    ]
    assert line.client_of(ProcedureResult) == [ProcedureResult(SP9, None, "ST7 write answered ISC")]
    assert meter.procedures == []


def test_channel_traffic_timeout_ends_the_session() -> None:
    line, _ = make_line()
    logged_on(line)
    line.run()
    assert line.server.session.state is SessionState.LOGGED_ON
    line.run(until=line.now + 5.0)
    assert not line.server_of(SessionEnded)
    line.run(until=line.now + 2.0)  # more than 6 s since the last packet
    assert line.server_of(SessionEnded) == [SessionEnded("channel traffic timeout")]
    assert line.server.session == ServerSession()
    assert run_requests(line, [FullRead(1)])[-1] == (FullRead(1), ISSS)


# --- failures -------------------------------------------------------------------------------------------


def test_dead_line_gives_client_failed() -> None:
    line, _ = make_line(client_faults=Faults(drop=1.0))
    line.send(line.client.identify(0.0))
    line.send(line.client.logon(2, b"OPENAMI", 0.0))
    line.run()
    failed = line.client_of(ClientFailed)
    assert len(failed) == 1 and isinstance(failed[0], ClientFailed)
    assert failed[0].request == Identify() and failed[0].dropped == (Logon(2, b"OPENAMI"),)
    assert "link failed" in failed[0].reason
    assert line.wire.sent[CLIENT] == [IDENTIFY_PACKET] * 4  # sent once, retried three times
    assert not line.client.busy and line.server_events == []


def test_lost_answers_give_client_failed_after_the_answer_timeout() -> None:
    line, _ = make_line(server_faults=Faults(drop=1.0))  # the meter's packets are lost, its ACKs are not
    line.send(line.client.identify(0.0))
    line.send(line.client.logon(2, b"OPENAMI", 0.0))
    line.run()
    failed = line.client_of(ClientFailed)
    assert len(failed) == 1 and isinstance(failed[0], ClientFailed)
    assert failed[0].request == Identify() and failed[0].dropped == (Logon(2, b"OPENAMI"),)
    assert "no answer" in failed[0].reason
    assert [e.payload for e in line.server_of(AnswerFailed) if isinstance(e, AnswerFailed)] == [
        bytes.fromhex("00 00 01 00 00")
    ]
    assert line.now >= line.client.answer_timeout


def client_packet(payload: bytes, toggle: bool = False) -> bytes:
    return Packet.build(payload, toggle=toggle).encode()


def test_client_reports_undecodable_and_unexpected_answers() -> None:
    client = PsemClient()
    first = client.read(1, 0.0)
    assert first == [client_packet(bytes.fromhex("30 0001"))]
    client.read(0, 0.0)
    client.receive_data(b"\x06", 0.1)  # the read is acknowledged
    bad_checksum = bytes.fromhex("00 0002 6162 00")  # table data "ab" with checksum 00, not 3D
    events = client.receive_data(client_packet(bad_checksum), 0.2)
    assert events[0] == SendBytes(b"\x06")
    failed = events[1]
    assert isinstance(failed, ClientFailed) and failed.request == FullRead(1) and failed.dropped == ()
    assert "checksum" in failed.reason
    assert events[2:] == [SendBytes(client_packet(bytes.fromhex("30 0000"), toggle=True))]  # next request
    client.receive_data(b"\x06", 0.3)
    client.receive_data(client_packet(b"\x04", toggle=True), 0.4)  # ONP for ST0
    assert not client.busy
    assert client.receive_data(client_packet(b"\x00"), 0.5) == [SendBytes(b"\x06"), UnexpectedMessage(b"\x00")]


def test_baud_codes() -> None:
    # termineter c1218/data.py: 300 → 1 … 9600 → 6 … 57600 → 10.
    assert [baud_rate(code) for code in (1, 6, 8, 10)] == [300, 9600, 19200, 57600]
    assert baud_rate(0) is None and baud_rate(11) is None
    assert all(baud_code(rate) == code for code, rate in BAUD_RATES.items())
    try:
        baud_code(1234)
    except LocalProtocolError:
        pass
    else:
        raise AssertionError("1234 bit/s has no code")


# --- properties -----------------------------------------------------------------------------------------


def check_server_output(events: list[ServerEvent]) -> None:
    """Every byte the server writes is an ACK, a NAK or a packet carrying a PSEM response."""
    for event in events:
        assert isinstance(event, SendBytes | Served | Rejected | Negotiated | AnswerFailed | SessionEnded)
        if isinstance(event, SendBytes) and len(event.data) > 1:
            assert ResponseCode(decode_packet(event.data).data[0]) is not None
        elif isinstance(event, SendBytes):
            assert event.data in (b"\x06", b"\x15")


@settings(max_examples=200)
@given(st.lists(st.binary(max_size=90), max_size=8), st.booleans())
def test_random_bytes_into_the_server_never_raise(chunks: list[bytes], log_on: bool) -> None:
    server = PsemServer(None, TableMeter())
    now = 0.0
    if log_on:
        for i, body in enumerate((b"\x20", Logon(2, b"X").encode())):
            check_server_output(server.receive_data(client_packet(body, toggle=bool(i % 2)), now))
    for chunk in chunks:
        now += 0.3
        check_server_output(server.receive_data(chunk, now))
        due = server.next_timer()
        if due is not None and due <= now + 0.3:
            check_server_output(server.handle_timer(due))


@settings(max_examples=200)
@given(st.lists(st.binary(min_size=1, max_size=56), min_size=1, max_size=8), st.booleans())
def test_every_message_gets_exactly_one_psem_answer(payloads: list[bytes], log_on: bool) -> None:
    server = PsemServer(None, TableMeter())
    bodies = ([b"\x20", Logon(2, b"X").encode()] if log_on else []) + payloads
    answered: list[ServerEvent] = []
    for i, body in enumerate(bodies):  # alternating toggles: every packet is a new message
        events = server.receive_data(client_packet(body, toggle=bool(i % 2)), 0.1 * i)
        check_server_output(events)
        answered += [e for e in events if isinstance(e, Served | Rejected)]
    assert len(answered) == len(bodies)


@settings(max_examples=100)
@given(st.lists(st.binary(max_size=90), max_size=8))
def test_random_bytes_into_the_client_never_raise(chunks: list[bytes]) -> None:
    client = PsemClient()
    client.read(1, 0.0)
    client.read(0, 0.0)
    now = 0.0
    for chunk in chunks:
        now += 0.5
        for event in client.receive_data(chunk, now) + client.handle_timer(now + 5.0):
            assert isinstance(
                event, SendBytes | Response | Negotiated | ProcedureResult | ClientFailed | UnexpectedMessage
            )
            assert not isinstance(event, Response) or event.request in (FullRead(1), FullRead(0))
        now += 5.0


def test_client_queue_properties_and_reset() -> None:
    client = PsemClient()
    assert client.identify(0.0) == [IDENTIFY_PACKET]
    assert client.logon(2, b"OPENAMI", 0.0) == []  # queued behind the outstanding Identify
    assert client.outstanding == Identify() and client.pending == (Logon(2, b"OPENAMI"),)
    assert client.next_timer() == 2.0  # the link's response timeout for the Identify packet
    assert client.reset() == (Identify(), Logon(2, b"OPENAMI"))
    assert not client.busy and not client.link.busy and client.next_timer() is None
    assert client.identify(1.0) == [IDENTIFY_PACKET]  # toggle 0 again after the reset
