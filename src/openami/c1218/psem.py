"""C12.18 PSEM application layer on top of the link: pieces shared by the client and the server cores.

The cores themselves are `openami.c1218.client.PsemClient` (the reader: a request queue, one request
outstanding at a time) and `openami.c1218.server.PsemServer` (the meter's optical port: session state,
Negotiate, table services through a handler). Both are sans-IO: bytes and ``now`` (seconds) in,
events out, ``next_timer``/``handle_timer`` for time.

Negotiate baud-rate codes (one byte each in the request and the answer): 1 = 300, 2 = 600, 3 = 1200,
4 = 2400, 5 = 4800, 6 = 9600, 7 = 14400, 8 = 19200, 9 = 28800, 10 = 57600 bit/s — the code table of
termineter's ``c1218/data.py`` (``C1218NegotiateRequest.set_baudrate``). Other codes (0 and 11–255) carry
no rate we know: a Negotiate answer with one of them leaves the line speed alone (our choice).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from openami.c1218.packet import PACKET_OVERHEAD
from openami.errors import LocalProtocolError

__all__ = [
    "BAUD_RATES",
    "DEFAULT_BAUD_CODE",
    "READ_RESPONSE_OVERHEAD",
    "Negotiated",
    "baud_code",
    "baud_rate",
    "max_read_octets",
]

BAUD_RATES: Mapping[int, int] = MappingProxyType(
    {1: 300, 2: 600, 3: 1200, 4: 2400, 5: 4800, 6: 9600, 7: 14400, 8: 19200, 9: 28800, 10: 57600}
)
"""Negotiate baud-rate code → bit/s (termineter ``c1218/data.py``; see the module docstring)."""

DEFAULT_BAUD_CODE = 6
"""9600 bit/s: the speed an optical-port session starts at (the rate termineter and MeteringSDK open the
probe with); the server answers it to a Negotiate that offers no code it supports."""

READ_RESPONSE_OVERHEAD = 4
"""Bytes of a read answer around the table data: ``00 count:2 <data> cksum:1``."""


def baud_rate(code: int) -> int | None:
    """Bit/s of a Negotiate baud-rate ``code``, or None for a code without a known rate."""
    return BAUD_RATES.get(code)


def baud_code(rate: int) -> int:
    """The Negotiate code of ``rate`` (bit/s); `LocalProtocolError` for a rate without a code."""
    for code, value in BAUD_RATES.items():
        if value == rate:
            return code
    raise LocalProtocolError(f"{rate} bit/s has no C12.18 baud-rate code (known: {sorted(BAUD_RATES.values())})")


def max_read_octets(packet_size: int, nbr_packets: int) -> int:
    """Table octets one read answer can carry at ``packet_size`` bytes × ``nbr_packets`` packets."""
    return max(0, (packet_size - PACKET_OVERHEAD) * nbr_packets - READ_RESPONSE_OVERHEAD)


@dataclass(frozen=True, slots=True)
class Negotiated:
    """A Negotiate exchange is complete; the link already uses the new sizes.

    ``packet_size`` (bytes, whole packet) and ``nbr_packets`` as answered; ``baud_code`` the answered
    code, ``baud_rate`` its bit/s (None: keep the current speed). The driver switches the line speed when
    it sees this event, after writing every `SendBytes` that came before it: on the client the event
    follows the ACK of the answer, on the server it comes when the answer has been acknowledged.
    """

    packet_size: int
    nbr_packets: int
    baud_code: int

    @property
    def baud_rate(self) -> int | None:
        return baud_rate(self.baud_code)
