"""A client and a server `LinkEndpoint` run a whole C12.18 session over a simulated, faulty line.

The PSEM payloads are written by hand from c12-protocol-facts.md §3/§5; the server side is a small
lookup in this file. What is checked is the link: every request reaches the server exactly once and in
order, every answer reaches the client exactly once and in order, whatever the line did.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from openami.c1218 import (
    DEVICE_CHANNEL_TRAFFIC_TIMEOUT,
    LinkConfig,
    LinkEndpoint,
    LinkFailed,
    MessageSent,
    PeerDuplicate,
)

from .harness import CLIENT, SERVER, Faults, Session, Wire, read_response
from .test_packet import wire_packet

# --- requests (facts §3 / §5) ---------------------------------------------------------------------------
IDENTIFY = bytes.fromhex("20")
NEGOTIATE = bytes.fromhex("61 0100 04 06")  # 256-byte packets, 4 packets, baud code 6
LOGON = bytes.fromhex("50 0002") + b"OPENAMI   "  # user id 2, user name blank-padded to 10
SECURITY = b"\x51" + b"PASSWORD".ljust(20, b" ")
READ_ST1 = bytes.fromhex("30 0001")
READ_ST0 = bytes.fromhex("30 0000")
READ_MT64 = bytes.fromhex("30 0840")  # manufacturer table 64 (bit 11 set)
WRITE_DATA = bytes(range(100))
WRITE_ST6 = (
    bytes.fromhex("40 0006") + len(WRITE_DATA).to_bytes(2, "big") + WRITE_DATA + bytes(((-sum(WRITE_DATA)) & 0xFF,))
)
LOGOFF = bytes.fromhex("52")
TERMINATE = bytes.fromhex("21")

# --- table contents the test meter serves ---------------------------------------------------------------
ST0 = bytes.fromhex(  # EPRI c12test's ST0 (facts §7)
    "120a9a455052490200131801000d0d03050d06ffadf0df033ffcf0c11fffff033effafa20185ffff1f308ffff7f85f10fe"
    "ff1e16dbe0a8e00803346860800afcf30024a500a001811967100082f5e0"
)
ST1 = b"EPRI" + b"OPENAMI1" + bytes((1, 2, 3, 4)) + b"MANUFACTURER SN "
MT64 = bytes((i * 7 + 3) & 0xFF for i in range(400))
IDENTIFY_OK = bytes.fromhex("00 00 01 00 00")  # ok, C12.18, version 1, revision 0, end of features


def make_meter(packet_size: int, nbr_packets: int) -> Callable[[bytes], bytes]:
    """The test meter: answers each request; Negotiate with the given packet size and count."""
    tables = {0: ST0, 1: ST1, 0x0840: MT64}

    def answer(request: bytes) -> bytes:
        code = request[0]
        if code == 0x20:
            return IDENTIFY_OK
        if 0x60 <= code <= 0x6B:
            return b"\x00" + packet_size.to_bytes(2, "big") + bytes((nbr_packets, 6))
        if code == 0x30:
            return read_response(tables[int.from_bytes(request[1:3], "big")])
        return b"\x00"  # Logon, Security, Full Write, Logoff, Terminate

    return answer


FULL_SESSION = [IDENTIFY, NEGOTIATE, LOGON, SECURITY, READ_ST1, READ_ST0, WRITE_ST6, READ_MT64, LOGOFF, TERMINATE]


def expected_answers(packet_size: int, nbr_packets: int) -> list[bytes]:
    negotiated = b"\x00" + packet_size.to_bytes(2, "big") + bytes((nbr_packets, 6))
    ok = b"\x00"
    return [
        IDENTIFY_OK,
        negotiated,
        ok,
        ok,
        read_response(ST1),
        read_response(ST0),
        ok,
        read_response(MT64),
        ok,
        ok,
    ]


def run_session(
    seed: int, faults: Faults | None = None, *, packet_size: int = 64, nbr_packets: int = 8
) -> tuple[Session, Wire]:
    rng = random.Random(seed)
    both = faults or Faults()
    wire = Wire(rng, faults={CLIENT: both, SERVER: both})
    # The harness line runs at 9600 baud, so the ACK timing guard can be on; the meter ends idle sessions.
    client = LinkEndpoint(LinkConfig(baud_rate=9600))
    meter = LinkEndpoint(LinkConfig(baud_rate=9600, channel_traffic_timeout=DEVICE_CHANNEL_TRAFFIC_TIMEOUT))
    session = Session(client, meter, wire, make_meter(packet_size, nbr_packets))
    session.run(FULL_SESSION)
    return session, wire


def test_payload_sizes_force_multi_packet_messages() -> None:
    # Guard on the scenario itself: at 64-byte packets (56 data bytes) these cross packet boundaries.
    assert len(WRITE_ST6) > 56
    assert len(read_response(ST0)) > 56
    assert len(read_response(MT64)) > 7 * 56
    assert len(read_response(MT64)) <= 8 * 56


@pytest.mark.parametrize(("packet_size", "nbr_packets"), [(64, 8), (256, 4)])
def test_clean_line_full_session(packet_size: int, nbr_packets: int) -> None:
    session, wire = run_session(1, packet_size=packet_size, nbr_packets=nbr_packets)
    log = session.log
    assert log.server_received == FULL_SESSION
    assert log.client_received == expected_answers(packet_size, nbr_packets)
    assert not log.failures
    assert session.client.stats.retransmissions == session.server.stats.retransmissions == 0
    assert session.client.stats.naks_sent == session.server.stats.naks_sent == 0
    assert session.client.packet_size == session.server.packet_size == packet_size
    # Packets per message: one each, except ST0 (83 bytes), the Full Write (106) and MT64 (404), which take
    # 2, 2 and 8 packets of 56 data bytes at 64-byte packets; 1, 1 and 2 packets of 248 at 256-byte packets.
    server_packets = {64: 10 - 2 + 2 + 8, 256: 10 - 2 + 1 + 2}[packet_size]
    client_packets = {64: 10 - 1 + 2, 256: 10}[packet_size]
    assert session.server.stats.packets_sent == server_packets
    assert session.client.stats.packets_sent == client_packets
    # Each side sent its packets and one ACK per packet received, nothing else.
    assert sorted(map(len, wire.sent[SERVER]))[:client_packets] == [1] * client_packets
    assert len(wire.sent[SERVER]) == len(wire.sent[CLIENT]) == server_packets + client_packets


def check_invariants(session: Session) -> bool:
    """What must hold on any line: nothing delivered twice, out of order or changed. True if complete."""
    log = session.log
    answers = expected_answers(64, 8)
    assert log.server_received == FULL_SESSION[: len(log.server_received)]
    assert log.client_received == answers[: len(log.client_received)]
    return log.client_received == answers


# Packet faults of every kind but line duplication, at rates well above a real optical port's.
NOISE = Faults(corrupt=0.08, drop=0.03, truncate=0.03, drop_control=0.05, corrupt_control=0.05)


def test_noisy_line_sessions_complete_or_fail_loudly() -> None:
    complete = 0
    totals = {"retransmissions": 0, "naks_sent": 0, "receive_errors": 0}
    for seed in range(40):
        session, wire = run_session(seed, NOISE)
        assert wire.injected > 0
        if check_invariants(session):
            complete += 1
            assert not session.log.failures
        else:
            # Four faults in a row on one packet: the link gives up, and says so.
            assert session.log.failures
        for name in totals:
            totals[name] += sum(getattr(s, name) for s in (session.client.stats, session.server.stats))
    assert complete >= 36
    assert all(total > 0 for total in totals.values())


def test_heavy_corruption_is_recovered_by_nak_and_retransmission() -> None:
    complete = 0
    for seed in range(10):
        session, _ = run_session(seed, Faults(corrupt=0.25))
        if check_invariants(session):
            complete += 1
            stats = (session.client.stats, session.server.stats)
            assert sum(s.naks_sent for s in stats) == sum(s.naks_received for s in stats) > 0
            assert sum(s.retransmissions for s in stats) > 0
        else:
            assert session.log.failures
    assert complete >= 7


def test_duplicated_packets_are_dropped_by_toggle() -> None:
    for seed in range(10):
        session, wire = run_session(seed, Faults(duplicate=0.2))
        assert check_invariants(session)
        log = session.log
        duplicates = log.count(CLIENT, PeerDuplicate) + log.count(SERVER, PeerDuplicate)
        assert duplicates == wire.injected > 0
        assert duplicates == session.client.stats.duplicates + session.server.stats.duplicates


def test_everything_at_once_never_delivers_a_wrong_message() -> None:
    # Line duplication together with loss can defeat C12.18 itself (an extra ACK is taken for the ACK of
    # the next packet, which may have been lost): such a session stalls, but no message is ever delivered
    # twice, out of order or changed.
    faults = Faults(corrupt=0.05, drop=0.02, truncate=0.02, duplicate=0.02, drop_control=0.03, corrupt_control=0.03)
    complete = sum(check_invariants(run_session(seed, faults)[0]) for seed in range(40))
    assert complete >= 36


def test_lost_acks_cause_retransmissions_seen_as_duplicates() -> None:
    session, _ = run_session(7, Faults(drop_control=0.3))
    log = session.log
    assert log.server_received == FULL_SESSION
    assert log.client_received == expected_answers(64, 8)
    assert session.client.stats.retransmissions + session.server.stats.retransmissions > 0
    assert log.count(CLIENT, PeerDuplicate) + log.count(SERVER, PeerDuplicate) > 0


def test_dead_line_surfaces_link_failed_after_three_retries() -> None:
    wire = Wire(random.Random(0), faults={CLIENT: Faults(drop=1.0)})
    session = Session(LinkEndpoint(), LinkEndpoint(), wire, make_meter(64, 1))
    log = session.run([IDENTIFY])
    assert len(log.failures) == 1
    assert log.failures[0].payload == IDENTIFY
    # The Identify packet of facts §5, sent once and retransmitted three times.
    assert wire.sent[CLIENT] == [bytes.fromhex("EE 00 00 00 00 01 20 13 10")] * 4
    assert log.server_received == []
    assert session.client.stats.link_failures == 1
    assert not session.client.busy


def test_lost_answer_fails_on_the_server_side_only() -> None:
    # Every packet from the meter is lost (its ACK byte still gets through): the request is delivered and
    # acknowledged, the answer never is. The meter reports LinkFailed; the client's link is idle (waiting
    # for the answer is the application layer's business).
    wire = Wire(random.Random(0), faults={SERVER: Faults(drop=1.0)})
    session = Session(LinkEndpoint(), LinkEndpoint(), wire, make_meter(64, 1))
    log = session.run([IDENTIFY], max_time=60.0, stop_on_failure=False)
    assert log.server_received == [IDENTIFY]
    assert [f.payload for f in log.failures] == [IDENTIFY_OK]
    assert [f.payload for f in log.events[SERVER] if isinstance(f, LinkFailed)] == [IDENTIFY_OK]
    assert MessageSent(IDENTIFY) in log.events[CLIENT]
    assert log.client_received == []
    assert [data for data in wire.sent[SERVER] if len(data) > 1] == [wire_packet(IDENTIFY_OK)] * 4


def test_link_recovers_after_failure_and_reset() -> None:
    wire = Wire(random.Random(0), faults={CLIENT: Faults(drop=1.0)})
    client, server = LinkEndpoint(), LinkEndpoint()
    session = Session(client, server, wire, make_meter(64, 8))
    assert len(session.run([IDENTIFY]).failures) == 1
    client.reset()
    server.reset()
    wire.faults.clear()
    again = Session(client, server, wire, make_meter(64, 8))
    log = again.run(FULL_SESSION)
    assert log.server_received == FULL_SESSION
    assert log.client_received == expected_answers(64, 8)
