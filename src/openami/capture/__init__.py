"""Packet captures in and out (sans-IO): C12.22 APDUs from pcap/pcapng bytes, pcap bytes from APDUs.

Reading: `read_capture` (classic pcap in both byte orders, µs or ns; pcapng with several sections
and interfaces) → link layer (Ethernet with VLAN tags, Linux cooked v1/v2, raw IP, BSD loopback)
→ IPv4 / IPv6 with extension headers → TCP (reassembled per direction, cut into APDUs with
`openami.c1222.framing.MessageSplitter`) or UDP (one APDU per datagram) → `Record` s. A malformed file
raises `CaptureError` (a `ProtocolError`); frames it cannot use are skipped with a note.

Writing: `write_pcap` / `pcap_bytes` turn records back into a classic pcap of synthetic
Ethernet/IP/TCP-or-UDP frames with correct checksums and sequence numbers (what tshark needs to
read our traffic).
"""

from __future__ import annotations

from openami.capture.files import Frame, read_frames
from openami.capture.packets import TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, Packet, PacketError, parse_packet
from openami.capture.reassembly import Capture, TcpStream, iter_records, read_capture
from openami.capture.types import C1222_PORT, CaptureError, Endpoint, LinkType, Record, Transport
from openami.capture.writer import (
    PcapWriter,
    build_frame,
    internet_checksum,
    pcap_bytes,
    synthesize_frames,
    write_pcap,
)

__all__ = [
    "C1222_PORT",
    "TCP_ACK",
    "TCP_FIN",
    "TCP_PSH",
    "TCP_RST",
    "TCP_SYN",
    "Capture",
    "CaptureError",
    "Endpoint",
    "Frame",
    "LinkType",
    "Packet",
    "PacketError",
    "PcapWriter",
    "Record",
    "TcpStream",
    "Transport",
    "build_frame",
    "internet_checksum",
    "iter_records",
    "parse_packet",
    "pcap_bytes",
    "read_capture",
    "read_frames",
    "synthesize_frames",
    "write_pcap",
]
