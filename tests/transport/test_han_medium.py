"""Simulated HAN media: PLC loss against the channel's frame error rate, the 802.15.4 PER model, bursts,
airtime, and ARQ over a bad PLC channel."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]

from openami.channel import Link, frame_error_rate
from openami.channel.errors import ChannelModelError
from openami.channel.ofdm import g3_modem
from openami.channel.zigbee import (
    LogDistancePathLoss,
    ZigbeeLink,
    airtime_s,
    noise_floor_dbm,
    oqpsk_ber,
    packet_error_rate,
)
from openami.errors import LocalProtocolError
from openami.link import ArqConfig, DeliveryFailed, HanEndpoint, MessageDelivered, MessageReceived
from openami.transport.han import GilbertElliott, HanMedium, HanNetwork, PlcMedium, PlcModel, ZigbeeMedium


def annex_e_ber(sinr: float) -> float:
    """IEEE 802.15.4-2006 Annex E, written out term by term."""
    total = sum((-1) ** k * math.comb(16, k) * math.exp(20.0 * sinr * (1.0 / k - 1.0)) for k in range(2, 17))
    return (8.0 / 15.0) * (1.0 / 16.0) * total


@pytest.mark.parametrize("sinr_db", [-3.0, -1.0, 0.0, 1.0, 2.0])
def test_zigbee_per_matches_the_standard_formula(sinr_db: float) -> None:
    ber = annex_e_ber(10.0 ** (sinr_db / 10.0))
    assert float(oqpsk_ber(10.0 ** (sinr_db / 10.0))) == pytest.approx(ber, rel=1e-9)
    assert float(packet_error_rate(sinr_db, 30)) == pytest.approx(1.0 - (1.0 - ber) ** 240, rel=1e-9)


def test_zigbee_limits_and_floor() -> None:
    assert float(oqpsk_ber(0.0)) == pytest.approx(0.5)
    assert noise_floor_dbm(10.0) == pytest.approx(-174.0 + 10.0 * math.log10(2e6) + 10.0)
    assert airtime_s(20) == pytest.approx(26 * 8 / 250e3)
    with pytest.raises(ChannelModelError):
        airtime_s(128)
    with pytest.raises(ChannelModelError):
        oqpsk_ber(-1.0)


def test_zigbee_per_rises_with_distance() -> None:
    pl = LogDistancePathLoss(shadowing_db=0.0)
    d = np.array([10.0, 40.0, 60.0, 70.0, 80.0, 90.0, 120.0])
    per = [ZigbeeLink(float(x), path_loss=pl).frame_error_rate(40) for x in d]
    assert all(b >= a for a, b in itertools.pairwise(per))
    assert per[0] < 1e-6 and per[-1] > 0.99
    link = ZigbeeLink(50.0, path_loss=pl)
    assert link.rx_dbm == pytest.approx(0.0 - 40.2 - 33.0 * math.log10(50.0))


def test_zigbee_shadowing_is_seeded() -> None:
    a = ZigbeeLink.with_shadowing(30.0, np.random.default_rng(4))
    b = ZigbeeLink.with_shadowing(30.0, np.random.default_rng(4))
    assert a == b and a.shadowing_db != 0.0


def test_plc_measured_loss_matches_frame_error_rate() -> None:
    link = Link.flat(g3_modem(), 7.0)
    frame = bytes(40)
    predicted = frame_error_rate(link, len(frame))
    assert 0.05 < predicted < 0.95
    medium = PlcMedium(link, np.random.default_rng(123))
    n = 4000
    for i in range(n):
        medium.transmit(1, 2, frame, float(i))
    lost = medium.stats.frames_lost
    ci = stats.binomtest(lost, n).proportion_ci(confidence_level=0.999)
    assert ci.low <= predicted <= ci.high
    assert medium.stats.frames_delivered == n - lost == len(medium.deliver_due(math.inf))


def test_latency_follows_bit_rate() -> None:
    link = Link.flat(g3_modem(), 30.0)
    model = PlcModel(link)
    modem = link.modem
    bits_per_symbol = 36  # G3 CENELEC A, DBPSK: 36 carriers × 1 bit
    symbol_s = (256 + 30) / 400e3
    assert model.bit_rate_bps == pytest.approx(bits_per_symbol / symbol_s)
    assert model.airtime_s(45) == pytest.approx((math.ceil(360 / 36) + modem.reference_symbols) * symbol_s)
    medium = HanMedium(model, np.random.default_rng(0), processing_s=0.002)
    end1 = medium.transmit(1, 2, bytes(45), 0.0)
    end2 = medium.transmit(2, 1, bytes(45), 0.0)  # waits for the channel
    assert end2 == pytest.approx(2 * end1)
    d = medium.deliver_due(math.inf)
    assert [x.time for x in d] == pytest.approx([end1 + 0.002, end2 + 0.002])


def test_zigbee_medium_airtime_and_size_limit() -> None:
    m = ZigbeeMedium(5.0, np.random.default_rng(1), processing_s=0.0)
    assert m.transmit(1, 2, bytes(50), 1.0) == pytest.approx(1.0 + 56 * 8 / 250e3)
    with pytest.raises(LocalProtocolError):
        m.transmit(1, 2, bytes(128), 2.0)


def test_bursts_drop_consecutive_frames() -> None:
    link = Link.flat(g3_modem(), 30.0)  # essentially no random loss
    bursts = GilbertElliott(p_enter=0.01, p_leave=0.1)
    medium = PlcMedium(link, np.random.default_rng(9), bursts=bursts)
    n = 20000
    lost = []
    for i in range(n):
        before = medium.stats.frames_lost
        medium.transmit(1, 2, bytes(20), float(i))
        lost.append(medium.stats.frames_lost > before)
    assert medium.stats.burst_losses == medium.stats.frames_lost
    runs, run = [], 0
    for x in lost:
        if x:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    mean_run = float(np.mean(runs))
    assert mean_run > 5.0  # independent losses at this rate would give runs of about 1.1
    assert abs(mean_run - bursts.mean_burst_frames) < 2.0
    assert sum(lost) / n == pytest.approx(bursts.bad_fraction, abs=0.03)


def test_arq_over_bad_plc_channel_retries_and_delivers() -> None:
    link = Link.flat(g3_modem(), 7.0)
    net = HanNetwork(PlcMedium(link, np.random.default_rng(2)))
    meter = net.add(HanEndpoint(1, ArqConfig(mtu=32, max_retries=10)))
    plug = net.add(HanEndpoint(2))
    for i in range(50):
        net.send(1, 2, b"SP21 switch %02d" % i)
    net.run()
    got = [e.event.payload for e in net.events[2] if isinstance(e.event, MessageReceived)]
    assert got == [b"SP21 switch %02d" % i for i in range(50)]
    assert meter.stats.retransmissions > 0 and plug.stats.duplicates >= 0
    assert all(isinstance(e.event, MessageDelivered) for e in net.events[1])


def test_arq_over_dead_plc_channel_times_out_clearly() -> None:
    link = Link.flat(g3_modem(), 0.0)
    net = HanNetwork(PlcMedium(link, np.random.default_rng(2), deliver_corrupted=True))
    net.add(HanEndpoint(1, ArqConfig(max_retries=3)))
    net.add(HanEndpoint(2))
    net.send(1, 2, b"disconnect")
    net.run()
    (failed,) = [e.event for e in net.events[1] if isinstance(e.event, DeliveryFailed)]
    assert failed.retries == 3 and "after 3 retransmissions" in failed.reason
    assert not any(isinstance(e.event, MessageDelivered) for e in net.events[1])
    assert not any(isinstance(e.event, MessageReceived) for e in net.events[2])
