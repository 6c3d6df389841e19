"""HAN ARQ endpoint: lossless and lossy delivery, retries, timeouts, idempotence, segmentation, NAK."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from openami.errors import LocalProtocolError
from openami.link import (
    ArqConfig,
    DeliveryFailed,
    DuplicateDropped,
    Frame,
    FrameKind,
    FrameRejected,
    HanEndpoint,
    MessageDelivered,
    MessageReceived,
    ReassemblyError,
    Transmit,
    decode_frame,
)
from openami.transport.han import HanMedium, HanNetwork


@dataclass(frozen=True)
class FixedLoss:
    """A medium model with a fixed frame loss and 1 ms per frame (a real `MediumModel`, no physics)."""

    loss: float

    def frame_error_probability(self, frame_bytes: int) -> float:
        return self.loss

    def airtime_s(self, frame_bytes: int) -> float:
        return 1e-3


def network(loss: float, seed: int = 1, config: ArqConfig | None = None, **kw: object) -> HanNetwork:
    net = HanNetwork(HanMedium(FixedLoss(loss), np.random.default_rng(seed), **kw))  # type: ignore[arg-type]
    net.add(HanEndpoint(1, config))
    net.add(HanEndpoint(2, config))
    return net


def of(net: HanNetwork, address: int, kind: type) -> list:  # type: ignore[type-arg]
    return [e.event for e in net.events[address] if isinstance(e.event, kind)]


def test_lossless_delivery_in_order() -> None:
    net = network(0.0)
    ids = [net.send(1, 2, f"cmd {i}".encode()) for i in range(10)]
    net.run()
    assert [m.payload for m in of(net, 2, MessageReceived)] == [f"cmd {i}".encode() for i in range(10)]
    delivered = of(net, 1, MessageDelivered)
    assert [d.message_id for d in delivered] == ids
    assert all(d.retries == 0 for d in delivered)
    assert net.nodes[1].stats.retransmissions == 0
    assert net.nodes[1].pending() == 0 and net.nodes[1].next_timer() is None


def test_lossy_delivery_exactly_once_in_order_with_retries() -> None:
    net = network(0.3, seed=7, config=ArqConfig(max_retries=20))
    payloads = [f"command {i}".encode() for i in range(200)]
    for p in payloads:
        net.send(1, 2, p)
    net.run()
    assert [m.payload for m in of(net, 2, MessageReceived)] == payloads
    assert len(of(net, 1, MessageDelivered)) == 200 and not of(net, 1, DeliveryFailed)
    stats = net.nodes[1].stats
    assert stats.retransmissions > 0
    assert stats.retransmissions == sum(d.retries for d in of(net, 1, MessageDelivered))
    assert stats.frames_sent == 200 + stats.retransmissions


def test_both_directions_at_once() -> None:
    net = network(0.2, seed=3, config=ArqConfig(max_retries=30))
    for i in range(30):
        net.send(1, 2, b"a%d" % i)
        net.send(2, 1, b"b%d" % i)
    net.run()
    assert [m.payload for m in of(net, 2, MessageReceived)] == [b"a%d" % i for i in range(30)]
    assert [m.payload for m in of(net, 1, MessageReceived)] == [b"b%d" % i for i in range(30)]


def test_timeout_reports_delivery_failed_with_backoff() -> None:
    cfg = ArqConfig(ack_timeout=0.1, backoff=2.0, max_timeout=0.5, max_retries=4)
    net = network(1.0, config=cfg)
    net.send(1, 2, b"switch off")
    net.send(1, 2, b"second")
    net.run()
    failed = of(net, 1, DeliveryFailed)
    assert [f.message_id for f in failed] == [0, 1]
    assert all(f.retries == 4 and "4 retransmissions" in f.reason for f in failed)
    times = [e.time for e in net.events[1]]
    # per message: 0.1 + 0.2 + 0.4 + 0.5 + 0.5 seconds of waiting
    assert times[0] == pytest.approx(1.7)
    assert times[1] == pytest.approx(3.4)
    assert not of(net, 2, MessageReceived)


def test_lost_acks_never_deliver_twice() -> None:
    """Every ACK is lost: the receiver gets each command once, sees the retries as duplicates."""
    a, b = HanEndpoint(1, ArqConfig(max_retries=3)), HanEndpoint(2)
    executed: list[bytes] = []
    now = 0.0
    for i in range(5):
        _, evs = a.send(2, b"cmd%d" % i, now)
        while True:
            for ev in evs:
                if isinstance(ev, Transmit) and ev.dst == 2:
                    for out in b.receive(ev.frame, now):  # ACKs from b are dropped on the floor
                        if isinstance(out, MessageReceived):
                            executed.append(out.payload)
            if any(isinstance(ev, DeliveryFailed) for ev in evs):
                break
            timer = a.next_timer()
            assert timer is not None
            now = timer
            evs = a.handle_timer(now)
    assert executed == [b"cmd%d" % i for i in range(5)]
    assert b.stats.duplicates == 5 * 3
    assert b.stats.acks_sent == 5 * 4


def test_lost_acks_over_lossy_medium_idempotent() -> None:
    net = network(0.4, seed=11, config=ArqConfig(max_retries=3))
    payloads = [b"toggle %d" % i for i in range(300)]
    for p in payloads:
        net.send(1, 2, p)
    net.run()
    received = [m.payload for m in of(net, 2, MessageReceived)]
    assert len(received) == len(set(received))  # no command executed twice
    failed = {f.message_id for f in of(net, 1, DeliveryFailed)}
    delivered = {d.message_id for d in of(net, 1, MessageDelivered)}
    assert failed and delivered and not failed & delivered and len(failed | delivered) == 300
    assert {payloads[i] for i in delivered} <= set(received)  # every confirmed one arrived
    assert of(net, 2, DuplicateDropped)  # some ACKs were lost and the retries were suppressed
    assert received == [p for p in payloads if p in set(received)]  # in order


def test_segmentation_of_1kib_over_small_mtu() -> None:
    net = network(0.2, seed=5, config=ArqConfig(mtu=16, max_retries=30))
    payload = bytes(np.random.default_rng(0).integers(0, 256, 1024, dtype=np.uint8))
    net.send(1, 2, payload)
    net.send(1, 2, b"")
    net.run()
    assert [m.payload for m in of(net, 2, MessageReceived)] == [payload, b""]
    d = of(net, 1, MessageDelivered)
    assert d[0].frames == 64 and d[1].frames == 1


def test_duplicate_window_is_bounded() -> None:
    b = HanEndpoint(2, ArqConfig(dup_window=4))
    frames = [Frame.data(2, 1, s, b"x%d" % s).encode() for s in range(6)]
    for f in frames:
        b.receive(f, 0.0)
    assert any(isinstance(e, DuplicateDropped) for e in b.receive(frames[5], 0.0))
    # seq 0 left the 4-entry window, so it is taken as new (the sequence space wrapped)
    assert any(isinstance(e, MessageReceived) for e in b.receive(frames[0], 0.0))


def test_corrupt_frame_is_naked_and_retransmitted_at_once() -> None:
    a, b = HanEndpoint(1), HanEndpoint(2)
    _, evs = a.send(2, b"hello", 0.0)
    (tx,) = evs
    assert isinstance(tx, Transmit)
    damaged = bytearray(tx.frame)
    damaged[-3] ^= 0x01  # payload bit: header intact
    out = b.receive(bytes(damaged), 0.01)
    assert isinstance(out[0], FrameRejected) and out[0].nak_sent
    nak = out[1]
    assert isinstance(nak, Transmit) and decode_frame(nak.frame).kind is FrameKind.NAK
    again = a.receive(nak.frame, 0.02)
    assert again == [Transmit(2, tx.frame)] and a.stats.naks_received == 1
    out = b.receive(tx.frame, 0.03)
    assert MessageReceived(1, b"hello") in out


def test_reassembly_errors_and_stale_acks() -> None:
    b = HanEndpoint(2)
    out = b.receive(Frame.data(2, 1, 0, b"mid", first=False, last=False).encode(), 0.0)
    assert any(isinstance(e, ReassemblyError) for e in out)
    b.receive(Frame.data(2, 1, 1, b"a", first=True, last=False).encode(), 0.0)
    out = b.receive(Frame.data(2, 1, 2, b"b", first=True, last=True).encode(), 0.0)
    assert any(isinstance(e, ReassemblyError) for e in out) and MessageReceived(1, b"b") in out
    a = HanEndpoint(1)
    assert a.receive(Frame.ack(1, 2, 9).encode(), 0.0) == [] and a.stats.stale_acks == 1
    assert a.receive(Frame.ack(3, 2, 9).encode(), 0.0) == [] and a.stats.not_for_us == 1


def test_random_bytes_never_raise() -> None:
    rng = np.random.default_rng(2)
    b = HanEndpoint(2)
    for n in range(300):
        out = b.receive(bytes(rng.integers(0, 256, n % 40, dtype=np.uint8)), 0.0)
        assert isinstance(out[0], FrameRejected)


def test_api_misuse() -> None:
    with pytest.raises(LocalProtocolError):
        ArqConfig(mtu=0)
    with pytest.raises(LocalProtocolError):
        ArqConfig(dup_window=128)
    with pytest.raises(LocalProtocolError):
        HanEndpoint(0)
    a = HanEndpoint(1, ArqConfig(max_message=10))
    with pytest.raises(LocalProtocolError):
        a.send(1, b"", 0.0)
    with pytest.raises(LocalProtocolError):
        a.send(2, bytes(11), 0.0)
