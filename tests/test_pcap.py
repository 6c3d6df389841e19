"""The capture reader and writer (openami.capture).

Containers, link headers and IP/TCP headers are built here with the test's own writers, from the
tcpdump.org pcap / pcapng specifications and RFC 791 / 793 / 768 / 8200 layouts — never with the
code under test — except where the writer itself is what is tested (round trips). Expected frames,
endpoints and payload lengths of the real captures were read with Wireshark's tshark 4.0.
"""

from __future__ import annotations

import io
import itertools
import random
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from openami.capture import (
    TCP_ACK,
    TCP_SYN,
    Capture,
    CaptureError,
    Endpoint,
    LinkType,
    PcapWriter,
    Record,
    TcpStream,
    Transport,
    build_frame,
    parse_packet,
    pcap_bytes,
    read_capture,
    read_frames,
    write_pcap,
)
from openami.capture.packets import PacketError
from openami.errors import ProtocolError

PCAPS = Path(__file__).resolve().parents[2] / "shared" / "c1222-pcaps"
needs_pcaps = pytest.mark.skipif(not PCAPS.is_dir(), reason=f"captures not found at {PCAPS}")

A = Endpoint("192.0.2.1", 50000)
B = Endpoint("192.0.2.2", 1153)
A6 = Endpoint("2001:db8::1", 50000)
B6 = Endpoint("2001:db8::2", 1153)

# --------------------------------------------------------------------------- the test's own writers


def ber_len(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    octets = (n.bit_length() + 7) // 8
    return bytes((0x80 | octets,)) + n.to_bytes(octets, "big")


def apdu(content: bytes) -> bytes:
    """A C12.22-framed APDU (``60 L content``); the content is not a valid message, only framing counts."""
    return b"\x60" + ber_len(len(content)) + content


def classic(frames: list[tuple[int, int, bytes]], linktype: int = 1, order: str = "<", ns: bool = False) -> bytes:
    """A classic pcap: frames are (seconds, fraction, bytes)."""
    magic = 0xA1B23C4D if ns else 0xA1B2C3D4
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    for sec, frac, data in frames:
        out += struct.pack(order + "IIII", sec, frac, len(data), len(data)) + data
    return out


def block(kind: int, body: bytes, order: str = "<") -> bytes:
    body += b"\x00" * (-len(body) % 4)
    size = len(body) + 12
    return struct.pack(order + "II", kind, size) + body + struct.pack(order + "I", size)


def shb(order: str = "<") -> bytes:
    return block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1), order)


def option(code: int, value: bytes, order: str = "<") -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)


def idb(linktype: int, order: str = "<", options: bytes = b"") -> bytes:
    if options:
        options += struct.pack(order + "HH", 0, 0)
    return block(1, struct.pack(order + "HHI", linktype, 0, 65535) + options, order)


def epb(iface: int, ticks: int, data: bytes, order: str = "<") -> bytes:
    head = struct.pack(order + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data))
    return block(6, head + data, order)


def ipv4_tcp(src: str, dst: str, sport: int, dport: int, seq: int, flags: int, payload: bytes) -> bytes:
    """IPv4 + TCP by hand (checksums left zero: the reader does not check them)."""
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 8192, 0, 0) + payload
    ip = struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0)
    ip += bytes(int(x) for x in src.split(".")) + bytes(int(x) for x in dst.split("."))
    return ip + tcp


def ipv6_udp(payload: bytes, ext: bytes = b"", first_next: int = 17) -> bytes:
    """IPv6 (2001:db8::1 → 2001:db8::2) + optional extension headers + UDP 50000 → 1153."""
    udp = struct.pack(">HHHH", 50000, 1153, 8 + len(payload), 0) + payload
    src = bytes.fromhex("20010db8000000000000000000000001")
    dst = bytes.fromhex("20010db8000000000000000000000002")
    return struct.pack(">IHBB", 6 << 28, len(ext) + len(udp), first_next, 64) + src + dst + ext + udp


def ethernet(ip: bytes, ethertype: int = 0x0800) -> bytes:
    return bytes(6) + bytes(6) + ethertype.to_bytes(2, "big") + ip


def ones_complement_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = 0
    for i in range(0, len(data), 2):
        total += (data[i] << 8) | data[i + 1]
        total = (total & 0xFFFF) + (total >> 16)
    return total


# ----------------------------------------------------------------------------------- real captures

# name → (frame, transport, src, dst, TCP/UDP payload length) per C12.22 packet, as tshark lists them.
TSHARK_LISTING: dict[str, list[tuple[int, str, str, str, int]]] = {
    "c1222_ident_service_tcp.pcap": [
        (4, "tcp", "192.168.100.124:1577", "192.168.1.101:1153", 50),
        (5, "tcp", "192.168.1.101:1153", "192.168.100.124:1577", 91),
    ],
    "c1222_rw_service_tcp.pcap": [
        (4, "tcp", "192.168.100.124:1577", "192.168.1.101:1153", 56),
        (5, "tcp", "192.168.1.101:1153", "192.168.100.124:1577", 61),
    ],
    "c1222_over_ipv6.pcap": [
        (6, "tcp", "[fe80::21e:ecff:fe30:9474]:42787", "[fe80::203:47ff:feeb:3faf]:1153", 104),
        (8, "tcp", "[fe80::203:47ff:feeb:3faf]:1153", "[fe80::21e:ecff:fe30:9474]:42787", 155),
    ],
    "c1222_std_example8.pcap": [
        (1, "tcp", "10.1.1.1:1153", "10.2.2.2:50000", 81),
        (2, "tcp", "10.1.1.1:1153", "10.2.2.2:50000", 74),
    ],
    "c1222overIPv4.cap": [
        (1, "tcp", "192.168.1.101:1577", "192.168.100.124:1153", 73),
        (2, "tcp", "192.168.100.124:1153", "192.168.1.101:1577", 111),
    ],
    "ndpi_c1222.pcapng": [
        (1, "udp", "10.9.3.124:55092", "10.208.0.9:1153", 50),
        (2, "udp", "10.9.3.124:55092", "10.208.0.9:1153", 121),
        (3, "tcp", "192.168.1.101:1577", "192.168.100.124:1153", 73),
        (4, "tcp", "192.168.100.124:1153", "192.168.1.101:1577", 111),
    ],
}


@needs_pcaps
@pytest.mark.parametrize("name", sorted(TSHARK_LISTING))
def test_real_capture_matches_tshark(name: str) -> None:
    capture = read_capture((PCAPS / name).read_bytes())
    assert capture.notes == []
    got = [(r.frame, r.transport, str(r.src), str(r.dst), len(r.apdu)) for r in capture.records]
    assert got == TSHARK_LISTING[name]
    assert all(r.apdu[0] == 0x60 for r in capture.records)


@needs_pcaps
def test_every_real_capture_reads_cleanly() -> None:
    files = sorted(p for p in PCAPS.iterdir() if p.suffix in (".pcap", ".cap", ".pcapng"))
    assert files
    for path in files:
        capture = read_capture(path.read_bytes())
        assert capture.records and capture.notes == [], path.name


@needs_pcaps
def test_example8_time_stamps() -> None:
    # tshark: frame 2 is 0.000001 s after frame 1 (µs pcap), first at 2013-09-25 19:44:40 UTC.
    first, second = read_capture((PCAPS / "c1222_std_example8.pcap").read_bytes()).records
    assert first.timestamp == 1380138280.0
    assert second.timestamp == pytest.approx(1380138280.000001, abs=1e-7)


# --------------------------------------------------------------------------------------- containers


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("ns", [False, True])
def test_classic_pcap_byte_orders_and_resolutions(order: str, ns: bool) -> None:
    message = apdu(b"abc")
    frame = ethernet(ipv4_tcp("10.0.0.1", "10.0.0.2", 40000, 1153, 1000, TCP_ACK, message))
    frac = 250_000_000 if ns else 250_000
    data = classic([(1_700_000_000, frac, frame)], order=order, ns=ns)
    (record,) = read_capture(data).records
    assert record.timestamp == 1_700_000_000.25
    assert record.apdu == message
    assert (str(record.src), str(record.dst), record.transport, record.frame) == (
        "10.0.0.1:40000",
        "10.0.0.2:1153",
        "tcp",
        1,
    )


def test_pcapng_interfaces_blocks_and_sections() -> None:
    m1, m2, m3, m4, m5 = (apdu(bytes([i]) * i) for i in range(1, 6))
    udp_ip = ipv6_udp(m2)
    sll2 = struct.pack(">HHIHBB8s", 0x86DD, 0, 3, 1, 0, 6, bytes(8)) + udp_ip
    raw = ipv4_tcp("10.0.0.1", "10.0.0.2", 40000, 1153, 1 + len(m1), TCP_ACK, m3)  # same flow as m1
    ns_option = option(9, b"\x09")  # if_tsresol 10^-9
    bin_options = option(9, b"\x8a") + option(14, struct.pack("<q", 100))  # 2^-10 s, +100 s offset
    spb_body = struct.pack("<I", len(raw) + 0) + raw  # simple packet on interface 0 (raw IP)
    first = (
        shb()
        + idb(LinkType.RAW)
        + idb(LinkType.LINUX_SLL2, options=ns_option)
        + idb(LinkType.ETHERNET, options=bin_options)
        + block(5, b"\x00" * 8)  # interface statistics: skipped
        + epb(0, 5_000_000, ipv4_tcp("10.0.0.1", "10.0.0.2", 40000, 1153, 1, TCP_ACK, m1))
        + epb(1, 2_500_000_000, sll2)
        + block(3, spb_body)
        + epb(2, 3 * 1024, ethernet(ipv4_tcp("10.0.0.3", "10.0.0.4", 1153, 40001, 9, TCP_ACK, m4)))
    )
    obsolete = struct.pack(">HHIIII", 0, 0, 0, 7_000_000, len(m5) + 40, len(m5) + 40)
    second = (
        shb(">")
        + idb(LinkType.RAW, ">")
        + block(2, obsolete + ipv4_tcp("10.0.0.5", "10.0.0.6", 1153, 40002, 1, TCP_ACK, m5), ">")
    )
    capture = read_capture(first + second)
    assert capture.notes == []
    got = [(r.frame, r.timestamp, r.transport, r.apdu) for r in capture.records]
    assert got == [
        (1, 5.0, "tcp", m1),
        (2, 2.5, "udp", m2),
        (3, None, "tcp", m3),
        (4, 103.0, "tcp", m4),
        (5, 7.0, "tcp", m5),
    ]
    assert [f.interface for f in read_frames(first)] == [0, 1, 0, 2]


def test_loopback_and_cooked_link_types() -> None:
    message = apdu(b"xyz")
    ip4 = ipv4_tcp("127.0.0.1", "127.0.0.1", 40000, 1153, 1, TCP_ACK, message)
    ip6 = ipv6_udp(message)
    cases = [
        (LinkType.NULL, struct.pack("<I", 2) + ip4),
        (LinkType.NULL, struct.pack(">I", 2) + ip4),
        (LinkType.NULL, struct.pack("<I", 30) + ip6),
        (LinkType.LOOP, struct.pack(">I", 24) + ip6),
        (LinkType.LINUX_SLL, struct.pack(">HHH8sH", 0, 772, 6, bytes(8), 0x0800) + ip4),
        (LinkType.RAW, ip6),
        (LinkType.IPV4, ip4),
        (LinkType.ETHERNET, bytes(12) + b"\x81\x00\x00\x05" + b"\x88\xa8\x00\x06" + b"\x86\xdd" + ip6),
    ]
    for linktype, frame in cases:
        (record,) = read_capture(classic([(1, 0, frame)], linktype=linktype)).records
        assert record.apdu == message, linktype


def test_ipv6_extension_headers() -> None:
    message = apdu(b"ext")
    hop = bytes((60, 0)) + bytes(6)  # hop-by-hop, next = destination options, 8 bytes
    dest = bytes((44, 1)) + bytes(14)  # destination options, next = fragment, 16 bytes
    frag = bytes((17, 0, 0, 0)) + bytes(4)  # atomic fragment (offset 0, M = 0), next = UDP
    frame = ethernet(ipv6_udp(message, hop + dest + frag, first_next=0), 0x86DD)
    (record,) = read_capture(classic([(1, 0, frame)])).records
    assert record.apdu == message
    assert record.src == Endpoint("2001:db8::1", 50000)


def test_fragments_truncation_and_unknown_links_are_noted() -> None:
    message = apdu(b"frag")
    fragment = bytearray(ipv4_tcp("10.0.0.1", "10.0.0.2", 40000, 1153, 1, TCP_ACK, message))
    fragment[6] = 0x20  # more fragments
    v6_fragment = ipv6_udp(message, bytes((17, 0, 0, 1)) + bytes(4), first_next=44)
    whole = ethernet(ipv4_tcp("10.0.0.1", "10.0.0.2", 40000, 1153, 1, TCP_ACK, message))
    data = classic(
        [(1, 0, ethernet(bytes(fragment))), (2, 0, ethernet(v6_fragment, 0x86DD)), (3, 0, whole[:-2]), (4, 0, whole)]
    )
    capture = read_capture(data)
    assert [r.frame for r in capture.records] == [4]
    assert len(capture.notes) == 3
    assert "fragment" in capture.notes[0] and "fragment" in capture.notes[1] and "snap" in capture.notes[2]
    other = read_capture(classic([(1, 0, b"\x00" * 40)], linktype=147))
    assert other.records == [] and "link type 147" in other.notes[0]


def test_ports_filter() -> None:
    message = apdu(b"p")
    frame = ethernet(ipv4_tcp("10.0.0.1", "10.0.0.2", 40000, 2000, 1, TCP_ACK, message))
    data = classic([(1, 0, frame)])
    assert read_capture(data).records == []
    assert len(read_capture(data, ports=[2000]).records) == 1
    assert len(read_capture(data, ports=None).records) == 1


def test_non_ip_and_non_transport_frames_are_ignored() -> None:
    arp = bytes(12) + b"\x08\x06" + bytes(28)
    icmp = bytearray(ipv4_tcp("10.0.0.1", "10.0.0.2", 0, 0, 0, 0, b""))
    icmp[9] = 1
    capture = read_capture(classic([(1, 0, arp), (2, 0, ethernet(bytes(icmp)))]))
    assert capture.records == [] and capture.notes == [] and capture.frames == 2


# ------------------------------------------------------------------------------------ bad captures

GOOD = classic([(1, 0, ethernet(ipv4_tcp("10.0.0.1", "10.0.0.2", 40000, 1153, 1, TCP_ACK, apdu(b"ok"))))])


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "too short"),
        (b"GIF89a" + bytes(40), "bad magic"),
        (GOOD[:20], "truncated pcap header"),
        (GOOD[:30], "truncated record header"),
        (GOOD[:-3], "truncated record"),
        (GOOD[:4] + struct.pack("<H", 3) + GOOD[6:], "version"),
        (shb()[:-4] + b"\x00\x00\x00\x00", "trailing block length"),
        (shb() + struct.pack("<II", 6, 14) + bytes(6), "multiple of 4"),
        (shb() + struct.pack("<II", 6, 400) + bytes(8), "truncated block"),
        (shb() + epb(0, 0, b"x"), "interface 0 not described"),
        (block(0x0A0D0D0A, b"\x01\x02\x03\x04" + bytes(12)), "byte-order magic"),
        (block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 2, 0, -1)), "version 2.0"),
        (shb() + idb(1) + block(6, struct.pack("<IIIII", 0, 0, 0, 99, 99)), "announces 99 bytes"),
    ],
)
def test_malformed_captures_raise(data: bytes, words: str) -> None:
    with pytest.raises(CaptureError, match=words):
        read_capture(data)


def read_or_none(data: bytes) -> Capture | None:
    """`read_capture` with every TCP/UDP flow, or None if it raised `CaptureError` (nothing else may)."""
    try:
        capture = read_capture(data, ports=None)
    except CaptureError:
        return None
    assert all(r.apdu for r in capture.records)
    assert capture.frames >= len({r.frame for r in capture.records})
    return capture


def test_every_prefix_reads_or_raises_capture_error() -> None:
    pcapng = shb() + idb(1) + epb(0, 1, GOOD[40:])
    for whole in (GOOD, pcapng):
        results = [read_or_none(whole[:cut]) for cut in range(len(whole) + 1)]
        assert results[-1] is not None and len(results[-1].records) == 1
        assert all(r is None or not r.records for r in results[:-1])  # no APDU before the frame is whole


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_random_bytes_read_or_raise(data: bytes) -> None:
    for prefix in (GOOD[:24], shb() + idb(1)):
        capture = read_or_none(prefix + data)
        if capture is None:
            assert data  # the bare header prefixes are valid on their own
    assert read_or_none(data) is None or data[:4] in (GOOD[:4], shb()[:4])


@settings(max_examples=200)
@given(st.sampled_from(list(LinkType)), st.lists(st.binary(max_size=120), max_size=6))
def test_random_frames_never_raise(linktype: LinkType, frames: list[bytes]) -> None:
    """Valid containers with garbage frames: frames are skipped (noted), never an exception."""
    capture = read_or_none(classic([(1, 0, f) for f in frames], linktype=linktype))
    assert capture is not None and capture.frames == len(frames)


@settings(max_examples=200)
@given(st.data())
def test_corrupted_capture_reads_or_raises(data: st.DataObject) -> None:
    records = [Record(1.0, A, B, "tcp", apdu(b"x" * 40)), Record(2.0, B, A, "tcp", apdu(b"y" * 3000))]
    whole = bytearray(pcap_bytes(records, mss=500))
    for _ in range(data.draw(st.integers(1, 8))):
        whole[data.draw(st.integers(0, len(whole) - 1))] = data.draw(st.integers(0, 255))
    read_or_none(bytes(whole))


def test_parse_packet_errors_are_packet_errors() -> None:
    with pytest.raises(PacketError):
        parse_packet(LinkType.ETHERNET, bytes(10))
    bad_ihl = bytearray(ipv4_tcp("10.0.0.1", "10.0.0.2", 1, 2, 0, 0, b""))
    bad_ihl[0] = 0x43
    with pytest.raises(PacketError):
        parse_packet(LinkType.RAW, bytes(bad_ihl))
    assert issubclass(PacketError, ProtocolError)


# ----------------------------------------------------------------------------------- TCP reassembly


def segments_frames(pieces: list[tuple[int, int, bytes]], isn: int) -> bytes:
    """Frames A→B with SYN first (seq = isn), then each (stream offset, flags, data) piece."""
    frames = [(0, 0, ethernet(ipv4_tcp(A.address, B.address, A.port, B.port, isn, TCP_SYN, b"")))]
    for i, (offset, flags, data) in enumerate(pieces, start=1):
        seq = (isn + 1 + offset) & 0xFFFFFFFF
        frames.append((i, 0, ethernet(ipv4_tcp(A.address, B.address, A.port, B.port, seq, flags, data))))
    return classic(frames)


apdu_lists = st.lists(st.binary(max_size=300).map(apdu), min_size=1, max_size=5)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(apdu_lists, st.integers(0, 2**32 - 1), st.data())
def test_reassembly_out_of_order_and_retransmitted(apdus: list[bytes], isn: int, data: st.DataObject) -> None:
    stream = b"".join(apdus)
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(stream) - 1), max_size=12)))) if len(stream) > 1 else []
    bounds = [0, *cuts, len(stream)]
    pieces = [(a, TCP_ACK, stream[a:b]) for a, b in itertools.pairwise(bounds)]
    for _ in range(data.draw(st.integers(0, 4))):  # retransmissions, some overlapping the cuts
        a = data.draw(st.integers(0, len(stream) - 1))
        b = data.draw(st.integers(a + 1, len(stream)))
        pieces.append((a, TCP_ACK, stream[a:b]))
    pieces = data.draw(st.permutations(pieces))
    capture = read_capture(segments_frames(pieces, isn))
    assert [r.apdu for r in capture.records] == apdus
    assert capture.notes == []


def test_stream_without_syn_starts_at_first_segment() -> None:
    stream = TcpStream()
    m1, m2 = apdu(b"one"), apdu(b"two" * 50)
    assert stream.segment(0xFFFFFFF0, m1[:3]) == []
    assert stream.segment((0xFFFFFFF0 + len(m1) + 10) & 0xFFFFFFFF, m2[10:]) == []  # early, wraps past 2**32
    assert stream.segment((0xFFFFFFF0 + 3) & 0xFFFFFFFF, m1[3:] + m2[:10]) == [m1, m2]
    assert stream.segment(0xFFFFFFF0, m1) == []  # old retransmission
    assert stream.finish() == [] and stream.notes == []


def test_gap_is_noted_and_skipped() -> None:
    m1, m2, m3 = apdu(b"a" * 10), apdu(b"b" * 10), apdu(b"c" * 10)
    pieces = [(0, TCP_ACK, m1), (len(m1) + len(m2), TCP_ACK, m3)]  # m2 never captured
    capture = read_capture(segments_frames(pieces, 77))
    assert [r.apdu for r in capture.records] == [m1, m3]
    assert any(f"{len(m2)} bytes missing" in note for note in capture.notes)


def test_gap_resumes_at_the_next_apdu_start() -> None:
    m1, m2 = apdu(b"a" * 30), apdu(b"b" * 5)
    stream = TcpStream("s")
    assert stream.segment(100, m1[:10]) == []
    assert stream.segment(120, m1[20:]) == []  # bytes 10..20 were never captured
    assert stream.segment(100 + len(m1), m2) == []
    assert stream.finish() == [m2]
    assert stream.notes == [
        "s: 10 bytes missing at stream offset 10",
        "s: partial APDU of 10 bytes dropped at the gap",
        f"s: bytes 20..{len(m1)} after the gap start no APDU, dropped",
    ]
    lost = TcpStream("t")
    lost.segment(0, m1[:10])
    lost.segment(20, m1[20:])
    assert lost.finish() == [] and lost.notes[-1] == f"t: {len(m1) - 20} bytes after the gap start no APDU, dropped"


def test_partial_apdu_at_gap_and_end_is_noted() -> None:
    m1, m2 = apdu(b"a" * 10), apdu(b"b" * 10)
    pieces = [(0, TCP_ACK, m1 + m2[:4])]
    capture = read_capture(segments_frames(pieces, 5))
    assert [r.apdu for r in capture.records] == [m1]
    assert "stream ends inside an APDU (4 bytes)" in capture.notes[0]


def test_garbage_stops_the_direction_with_a_note() -> None:
    m1 = apdu(b"fine")
    junk = m1 + b"GET / HTTP/1.1\r\n"
    capture = read_capture(segments_frames([(0, TCP_ACK, junk), (len(junk), TCP_ACK, m1)], 1))
    assert [r.apdu for r in capture.records] == [m1]
    assert any("rest of this direction ignored" in n for n in capture.notes)


def test_new_syn_restarts_the_direction() -> None:
    m1, m2, m3 = apdu(b"first"), apdu(b"second"), apdu(b"third")
    first = segments_frames([(0, TCP_ACK, m1[:4]), (len(m1) + 3, TCP_ACK, m3)], 100)  # m3 held after a gap
    second = segments_frames([(0, TCP_ACK, m2)], 9000)
    capture = read_capture(first + second[24:])
    assert [(r.apdu, r.frame) for r in capture.records] == [(m3, 4), (m2, 5)]  # m3 comes out at the new SYN
    assert any("new SYN" in n for n in capture.notes)
    assert any("partial APDU of 4 bytes dropped" in n for n in capture.notes)


# ------------------------------------------------------------------------------------------- writer

endpoints4 = st.builds(
    Endpoint, st.ip_addresses(v=4).map(str), st.integers(1, 65535)
)  # fmt: skip
endpoints6 = st.builds(Endpoint, st.ip_addresses(v=6).map(lambda a: a.compressed), st.integers(1, 65535))
stamps = st.tuples(st.integers(0, 2**31), st.integers(0, 999_999)).map(lambda p: p[0] + p[1] / 10**6)


@st.composite
def conversations(draw: st.DrawFn) -> list[Record]:
    kind = draw(st.sampled_from([endpoints4, endpoints6]))
    a, b = draw(kind), draw(kind)
    assume(a != b)
    out = []
    for _ in range(draw(st.integers(1, 6))):
        src, dst = draw(st.sampled_from([(a, b), (b, a)]))
        transport: Transport = draw(st.sampled_from(["tcp", "udp"]))
        size = 1400 if transport == "udp" else 4000
        out.append(Record(draw(stamps), src, dst, transport, apdu(draw(st.binary(max_size=size)))))
    return out


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(conversations(), st.integers(1, 1460), st.booleans(), st.booleans(), st.booleans())
def test_writer_reader_round_trip(records: list[Record], mss: int, handshake: bool, ns: bool, big: bool) -> None:
    data = pcap_bytes(records, mss=mss, handshake=handshake, nanoseconds=ns, big_endian=big)
    capture = read_capture(data, ports=None)
    assert capture.notes == []
    assert [r[:5] for r in capture.records] == [r[:5] for r in records]


@settings(max_examples=100)
@given(st.sampled_from([(A, B), (A6, B6)]), st.sampled_from(["tcp", "udp"]), st.binary(max_size=600))
def test_written_checksums_verify(pair: tuple[Endpoint, Endpoint], transport: str, payload: bytes) -> None:
    src, dst = pair
    frame = build_frame(src, dst, transport, payload, seq=12345, ack=678)  # type: ignore[arg-type]
    ip = frame[14:]
    if src.address.count(".") == 3:
        assert frame[12:14] == b"\x08\x00"
        assert ones_complement_sum(ip[:20]) == 0xFFFF
        pseudo = ip[12:20] + bytes((0, ip[9])) + (len(ip) - 20).to_bytes(2, "big")
        segment = ip[20:]
    else:
        assert frame[12:14] == b"\x86\xdd"
        pseudo = ip[8:40] + (len(ip) - 40).to_bytes(4, "big") + bytes((0, 0, 0, ip[6]))
        segment = ip[40:]
    assert ones_complement_sum(pseudo + segment) == 0xFFFF
    packet = parse_packet(LinkType.ETHERNET, frame)
    assert packet is not None and packet.payload == payload and (packet.src, packet.dst) == (src, dst)


def test_tcp_writer_sequence_numbers() -> None:
    records = [Record(1.0, A, B, "tcp", apdu(b"q" * 30)), Record(2.0, B, A, "tcp", apdu(b"r" * 5))]
    frames = list(read_frames(pcap_bytes(records, mss=16)))
    packets = [parse_packet(f.linktype, f.data) for f in frames]
    assert all(p is not None for p in packets)
    flags = [p.flags for p in packets if p is not None]
    assert flags[:3] == [TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK]
    client = [p for p in packets[3:] if p is not None and p.src == A]
    isn = packets[0].seq if packets[0] is not None else 0
    assert [p.seq for p in client] == [(isn + 1 + 16 * i) & 0xFFFFFFFF for i in range(len(client))]
    assert b"".join(p.payload for p in client) == records[0].apdu


def test_write_pcap_to_path_and_file(tmp_path: Path) -> None:
    records = [Record(3.5, A, B, "udp", apdu(b"u"))]
    write_pcap(tmp_path / "a.pcap", records)
    buffer = io.BytesIO()
    write_pcap(buffer, records)
    assert (tmp_path / "a.pcap").read_bytes() == buffer.getvalue()
    assert [r[:5] for r in read_capture(buffer.getvalue()).records] == [r[:5] for r in records]


def test_pcap_writer_header_layout() -> None:
    header = PcapWriter(nanoseconds=True, big_endian=True).header()
    assert header[:4] == b"\xa1\xb2\x3c\x4d" and len(header) == 24
    record = PcapWriter().packet(1.9999999, b"ab")
    assert struct.unpack("<IIII", record[:16]) == (2, 0, 2, 2)


def test_writer_refuses_bad_input() -> None:
    from openami.errors import LocalProtocolError

    with pytest.raises(LocalProtocolError):
        build_frame(A, B6, "tcp", b"")
    with pytest.raises(LocalProtocolError):
        build_frame(Endpoint("not-an-ip", 1), B, "tcp", b"")
    with pytest.raises(LocalProtocolError):
        build_frame(A, B, "sctp", b"")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        build_frame(A, B, "udp", bytes(70000))
    with pytest.raises(LocalProtocolError):
        pcap_bytes([Record(1.0, A, B, "tcp", b"x")], mss=0)
    with pytest.raises(LocalProtocolError):
        PcapWriter().packet(-1.0, b"")


def test_shuffled_real_segments() -> None:
    """Segments of a written conversation fed in a random order still give the same APDUs."""
    records = [Record(1.0, A, B, "tcp", apdu(bytes(range(256)) * 9))]
    frames = list(read_frames(pcap_bytes(records, mss=100)))
    rng = random.Random(1)
    body = frames[3:]
    rng.shuffle(body)
    data = classic([(1, 0, f.data) for f in [*frames[:3], *body, body[0]]])
    assert [r.apdu for r in read_capture(data).records] == [records[0].apdu]
