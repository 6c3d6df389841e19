"""The simulated HAN medium: frames from `openami.link` endpoints cross a PLC or ZigBee link whose loss and
latency come from the physics, driven by simulated time (no asyncio, no clock reads).

- `MediumModel` (protocol): the frame error probability and the airtime of a frame of n bytes.
  `PlcModel` wraps an `openami.channel.Link` (loss = `frame_error_rate(link, n)`; airtime = whole OFDM
  symbols at the modem's raw bit rate, plus an optional preamble). `ZigbeeModel` wraps an
  `openami.channel.zigbee.ZigbeeLink` (loss = the 802.15.4 Annex E PER; airtime at 250 kbit/s with the
  6-octet synchronisation header and PHR).
- `GilbertElliott`: impulsive-noise bursts as a two-state chain stepped once per frame on the medium (good
  → bad with ``p_enter``, bad → good with ``p_leave``; in the bad state a frame is lost with ``loss_bad``),
  so a burst drops consecutive frames (mean burst length 1/p_leave frames). In the good state frames are
  lost with the model's probability.
- `HanMedium`: one shared half-duplex channel. A frame starts when the channel is free, occupies it for its
  airtime and reaches its destination after ``processing_s`` more (receiver decoding and MAC handling).
  Lost frames are dropped, or with ``deliver_corrupted`` delivered with one bit flipped so the receiver
  sees a CRC failure (and may NAK). Randomness comes only from the injected ``rng``. `PlcMedium` and
  `ZigbeeMedium` build one from a channel link or a distance.
- `HanNetwork`: a discrete-event driver that runs `openami.link.HanEndpoint` nodes over a medium until
  idle, recording every event with its simulated time.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from openami.channel.link import Link, frame_error_rate
from openami.channel.zigbee import MAX_PSDU_BYTES, LogDistancePathLoss, ZigbeeLink, airtime_s
from openami.errors import LocalProtocolError
from openami.link.arq import ArqEvent, HanEndpoint, Transmit

__all__ = [
    "Delivery",
    "GilbertElliott",
    "HanMedium",
    "HanNetwork",
    "MediumModel",
    "MediumStats",
    "PlcMedium",
    "PlcModel",
    "TimedEvent",
    "ZigbeeMedium",
    "ZigbeeModel",
]


class MediumModel(Protocol):
    """Loss and airtime of a frame of ``frame_bytes`` bytes on one link."""

    def frame_error_probability(self, frame_bytes: int) -> float:
        """Probability (0..1) that the frame is received with an error."""
        ...

    def airtime_s(self, frame_bytes: int) -> float:
        """Seconds the frame occupies the medium."""
        ...


@dataclass(frozen=True, eq=False)
class PlcModel:
    """A PLC hop: ``link`` (modem, channel, noise, optional impulsive noise) and ``preamble_s`` (s) added to
    every frame's airtime (0 by default: preamble and frame-control symbols are not modelled)."""

    link: Link
    preamble_s: float = 0.0

    @property
    def bit_rate_bps(self) -> float:
        """Raw (uncoded) PHY bit rate: data bits per OFDM symbol / symbol duration (bit/s)."""
        modem = self.link.modem
        return modem.bits_per_symbol / modem.grid.symbol_duration_s

    def frame_error_probability(self, frame_bytes: int) -> float:
        """`openami.channel.frame_error_rate` of the link for the frame."""
        return frame_error_rate(self.link, frame_bytes)

    def airtime_s(self, frame_bytes: int) -> float:
        """Whole OFDM symbols (plus the reference symbol of time-differential modems) and the preamble."""
        modem = self.link.modem
        n_symbols = math.ceil(8 * frame_bytes / modem.bits_per_symbol) + modem.reference_symbols
        return self.preamble_s + n_symbols * modem.grid.symbol_duration_s


@dataclass(frozen=True, slots=True)
class ZigbeeModel:
    """An IEEE 802.15.4 2.4 GHz hop. Frames longer than 127 octets (aMaxPHYPacketSize) are refused."""

    link: ZigbeeLink

    @staticmethod
    def _check(frame_bytes: int) -> None:
        if frame_bytes > MAX_PSDU_BYTES:
            raise LocalProtocolError(f"802.15.4 PSDU is at most {MAX_PSDU_BYTES} octets, frame has {frame_bytes}")

    def frame_error_probability(self, frame_bytes: int) -> float:
        """The Annex E PER at the link's SINR."""
        self._check(frame_bytes)
        return self.link.frame_error_rate(frame_bytes)

    def airtime_s(self, frame_bytes: int) -> float:
        """(6 + frame_bytes) octets at 250 kbit/s."""
        self._check(frame_bytes)
        return airtime_s(frame_bytes)


@dataclass(frozen=True, slots=True)
class GilbertElliott:
    """Burst-loss chain stepped per frame: P(good→bad) = ``p_enter``, P(bad→good) = ``p_leave``; a frame sent
    in the bad state is lost with probability ``loss_bad``."""

    p_enter: float
    p_leave: float
    loss_bad: float = 1.0

    def __post_init__(self) -> None:
        if not (0.0 <= self.p_enter <= 1.0 and 0.0 < self.p_leave <= 1.0 and 0.0 <= self.loss_bad <= 1.0):
            raise LocalProtocolError("need 0 <= p_enter <= 1, 0 < p_leave <= 1 and 0 <= loss_bad <= 1")

    @property
    def mean_burst_frames(self) -> float:
        """Mean number of consecutive frames sent in the bad state."""
        return 1.0 / self.p_leave

    @property
    def bad_fraction(self) -> float:
        """Stationary probability of the bad state."""
        total = self.p_enter + self.p_leave
        return self.p_enter / total


@dataclass(frozen=True, slots=True)
class Delivery:
    """A frame reaching ``dst`` at ``time`` (s); ``corrupted`` when a bit was flipped by the channel."""

    time: float
    src: int
    dst: int
    frame: bytes
    corrupted: bool = False


@dataclass(slots=True)
class MediumStats:
    """Medium counters. ``frames_lost`` counts every lost frame, ``burst_losses`` those lost in a burst."""

    frames_offered: int = 0
    frames_lost: int = 0
    burst_losses: int = 0
    frames_delivered: int = 0
    bytes_offered: int = 0
    busy_s: float = 0.0


class HanMedium:
    """A shared half-duplex HAN channel in simulated time (see the module docstring)."""

    def __init__(
        self,
        model: MediumModel,
        rng: np.random.Generator,
        *,
        bursts: GilbertElliott | None = None,
        processing_s: float = 1e-3,
        deliver_corrupted: bool = False,
    ) -> None:
        if not isinstance(rng, np.random.Generator):
            raise LocalProtocolError("rng must be a numpy.random.Generator")
        if not processing_s >= 0:
            raise LocalProtocolError("processing_s must be >= 0")
        self.model = model
        self.bursts = bursts
        self.processing_s = processing_s
        self.deliver_corrupted = deliver_corrupted
        self.stats = MediumStats()
        self.in_burst = False
        self._rng = rng
        self._busy_until = -math.inf
        self._queue: list[tuple[float, int, Delivery]] = []
        self._order = 0

    def transmit(self, src: int, dst: int, frame: bytes, now: float) -> float:
        """Put ``frame`` on the medium at ``now`` (s); returns when it leaves the air (s). It is then either
        scheduled for delivery or lost (or corrupted), decided with the medium's rng."""
        n = len(frame)
        per = self.model.frame_error_probability(n)
        start = max(now, self._busy_until)
        end = start + self.model.airtime_s(n)
        self._busy_until = end
        self.stats.frames_offered += 1
        self.stats.bytes_offered += n
        self.stats.busy_s += end - start
        lost = False
        if self.bursts is not None:
            step = self.bursts.p_leave if self.in_burst else self.bursts.p_enter
            if self._rng.random() < step:
                self.in_burst = not self.in_burst
            if self.in_burst and self._rng.random() < self.bursts.loss_bad:
                lost = True
                self.stats.burst_losses += 1
        if not lost:
            lost = bool(self._rng.random() < per)
        if lost:
            self.stats.frames_lost += 1
            if not self.deliver_corrupted or n == 0:
                return end
            bit = int(self._rng.integers(8 * n))
            damaged = bytearray(frame)
            damaged[bit // 8] ^= 1 << (bit % 8)
            self._schedule(Delivery(end + self.processing_s, src, dst, bytes(damaged), corrupted=True))
            return end
        self.stats.frames_delivered += 1
        self._schedule(Delivery(end + self.processing_s, src, dst, bytes(frame)))
        return end

    def _schedule(self, delivery: Delivery) -> None:
        heapq.heappush(self._queue, (delivery.time, self._order, delivery))
        self._order += 1

    def next_delivery(self) -> float | None:
        """Time (s) of the next scheduled delivery, or None."""
        return self._queue[0][0] if self._queue else None

    def deliver_due(self, now: float) -> list[Delivery]:
        """Deliveries with ``time <= now``, in time order (ties in transmit order)."""
        out: list[Delivery] = []
        while self._queue and self._queue[0][0] <= now:
            out.append(heapq.heappop(self._queue)[2])
        return out


class PlcMedium(HanMedium):
    """A `HanMedium` over a PLC `Link`: loss = `frame_error_rate(link, len(frame))`, airtime from the modem."""

    def __init__(
        self,
        link: Link,
        rng: np.random.Generator,
        *,
        bursts: GilbertElliott | None = None,
        processing_s: float = 1e-3,
        preamble_s: float = 0.0,
        deliver_corrupted: bool = False,
    ) -> None:
        super().__init__(
            PlcModel(link, preamble_s), rng, bursts=bursts, processing_s=processing_s,
            deliver_corrupted=deliver_corrupted,
        )  # fmt: skip


class ZigbeeMedium(HanMedium):
    """A `HanMedium` over an 802.15.4 link at ``distance_m`` (m); the shadowing term (dB) is drawn once from
    ``rng`` for this placement (σ of ``path_loss``)."""

    def __init__(
        self,
        distance_m: float,
        rng: np.random.Generator,
        *,
        tx_dbm: float = 0.0,
        path_loss: LogDistancePathLoss | None = None,
        noise_figure_db: float = 10.0,
        interference_dbm: float | None = None,
        bursts: GilbertElliott | None = None,
        processing_s: float = 1e-3,
        deliver_corrupted: bool = False,
    ) -> None:
        link = ZigbeeLink.with_shadowing(
            distance_m, rng, tx_dbm=tx_dbm, path_loss=path_loss, noise_figure_db=noise_figure_db,
            interference_dbm=interference_dbm,
        )  # fmt: skip
        super().__init__(
            ZigbeeModel(link), rng, bursts=bursts, processing_s=processing_s, deliver_corrupted=deliver_corrupted
        )
        self.link = link


@dataclass(frozen=True, slots=True)
class TimedEvent:
    """An endpoint event and the simulated time (s) it happened."""

    time: float
    event: ArqEvent


@dataclass(slots=True)
class HanNetwork:
    """Runs `HanEndpoint` nodes over one `HanMedium` in simulated time (``now``, seconds from 0).

    ``events[address]`` records every non-`Transmit` event of that node with its time.
    """

    medium: HanMedium
    now: float = 0.0
    nodes: dict[int, HanEndpoint] = field(default_factory=dict)
    events: dict[int, list[TimedEvent]] = field(default_factory=dict)

    def add(self, endpoint: HanEndpoint) -> HanEndpoint:
        """Attach a node (its address must be unique)."""
        if endpoint.address in self.nodes:
            raise LocalProtocolError(f"address {endpoint.address} already on the network")
        self.nodes[endpoint.address] = endpoint
        self.events[endpoint.address] = []
        return endpoint

    def send(self, src: int, dst: int, payload: bytes) -> int:
        """Node ``src`` sends ``payload`` to ``dst`` at the current time; returns the message id."""
        message_id, evs = self.nodes[src].send(dst, payload, self.now)
        self._handle(src, evs)
        return message_id

    def _handle(self, address: int, evs: list[ArqEvent]) -> None:
        for ev in evs:
            if isinstance(ev, Transmit):
                self.medium.transmit(address, ev.dst, ev.frame, self.now)
            else:
                self.events[address].append(TimedEvent(self.now, ev))

    def next_time(self) -> float | None:
        """The next time anything happens (a delivery or a node timer), or None when idle."""
        times = [t for t in (n.next_timer() for n in self.nodes.values()) if t is not None]
        delivery = self.medium.next_delivery()
        if delivery is not None:
            times.append(delivery)
        return min(times) if times else None

    def step(self) -> bool:
        """Advance to the next time something happens and process it; False when idle."""
        t = self.next_time()
        if t is None:
            return False
        self.now = max(self.now, t)
        for d in self.medium.deliver_due(self.now):
            node = self.nodes.get(d.dst)
            if node is not None:
                self._handle(d.dst, node.receive(d.frame, self.now))
        for address, node in self.nodes.items():
            timer = node.next_timer()
            if timer is not None and timer <= self.now:
                self._handle(address, node.handle_timer(self.now))
        return True

    def run(self, until: float | None = None, max_steps: int = 10_000_000) -> None:
        """Step until idle, or until the next event would come after ``until`` (then ``now = until``)."""
        for _ in range(max_steps):
            t = self.next_time()
            if t is None:
                return
            if until is not None and t > until:
                self.now = max(self.now, until)
                return
            self.step()
        raise LocalProtocolError(f"simulation did not go idle within {max_steps} steps")
