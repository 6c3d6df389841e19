"""IEEE 802.15.4 2.4 GHz O-QPSK PHY (the ZigBee radio): path loss, SNR, BER, PER and airtime.

Sources (facts and formulas, cited; no code taken):

- IEEE Std 802.15.4-2006, clause 6.5 (2450 MHz O-QPSK PHY): 250 kbit/s, 62.5 ksymbol/s, 16 µs per symbol
  (4 bits), 32-chip DSSS (2 Mchip/s); synchronisation header = preamble 4 octets + SFD 1 octet, then the
  PHR (1 octet, frame length), PSDU at most aMaxPHYPacketSize = 127 octets; aTurnaroundTime = 12 symbols
  (192 µs); receiver sensitivity −85 dBm or better.
- IEEE Std 802.15.4-2006, Annex E (coexistence), the O-QPSK DSSS bit error rate in AWGN::

      BER = (8/15) · (1/16) · Σ_{k=2}^{16} (−1)^k · C(16, k) · exp(20 · SINR · (1/k − 1))

  with SINR linear (signal to noise-plus-interference ratio over the 2 MHz channel), and
  PER = 1 − (1 − BER)^(8 · octets). Annex E also gives its indoor path-loss model, 40.2 dB at 1 m
  (free space at 2.4 GHz) rising 20 dB/decade to 8 m, then 33 dB/decade.
- Log-distance path loss with log-normal shadowing (Rappaport, *Wireless Communications*, 2nd ed., §4.9):
  PL(d) = PL(d0) + 10·n·log10(d/d0) + X_σ, X_σ ~ N(0, σ²) dB. Defaults here: d0 = 1 m, PL(d0) = 40.2 dB
  (the Annex E figure), n = 3.3 (Annex E's slope beyond 8 m), σ = 4 dB (a typical indoor value; set it
  to 0 for a deterministic link).
- Thermal noise floor −174 dBm/Hz at 290 K, over the 2 MHz channel bandwidth, plus the receiver's noise
  figure (default 10 dB, our choice). With it the Annex E formula gives 1 % PER for a 20-octet PSDU at
  about 0.5 dB SINR, i.e. about −100 dBm: far better than the standard's −85 dBm minimum sensitivity,
  which is a conformance floor, not a typical receiver. Raise ``noise_figure_db`` or add
  ``interference_dbm`` to model a worse receiver or a busy band (Wi-Fi).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from openami.channel.errors import ChannelModelError

__all__ = [
    "BIT_RATE_BPS",
    "CHANNEL_BANDWIDTH_HZ",
    "MAX_PSDU_BYTES",
    "PHY_OVERHEAD_BYTES",
    "SYMBOL_DURATION_S",
    "THERMAL_NOISE_DBM_HZ",
    "TURNAROUND_S",
    "LogDistancePathLoss",
    "ZigbeeLink",
    "airtime_s",
    "noise_floor_dbm",
    "oqpsk_ber",
    "packet_error_rate",
]

FloatArray = npt.NDArray[np.float64]

BIT_RATE_BPS: Final[float] = 250e3
"""2450 MHz O-QPSK PHY data rate (802.15.4-2006 §6.5)."""
SYMBOL_DURATION_S: Final[float] = 16e-6
"""One 4-bit data symbol at 62.5 ksymbol/s."""
PHY_OVERHEAD_BYTES: Final[int] = 6
"""Preamble (4) + SFD (1) + PHR (1) octets sent before the PSDU."""
MAX_PSDU_BYTES: Final[int] = 127
"""aMaxPHYPacketSize."""
TURNAROUND_S: Final[float] = 12 * 16e-6
"""aTurnaroundTime, 12 symbols: RX-to-TX switch before an acknowledgement."""
CHANNEL_BANDWIDTH_HZ: Final[float] = 2e6
THERMAL_NOISE_DBM_HZ: Final[float] = -174.0

_K = np.arange(2, 17)
_COEF = (8.0 / 15.0) * (1.0 / 16.0) * np.array([(-1.0) ** k * math.comb(16, int(k)) for k in _K])
_EXPO = 20.0 * (1.0 / _K - 1.0)


def oqpsk_ber(sinr: npt.ArrayLike) -> FloatArray:
    """Bit error rate of the 2.4 GHz O-QPSK DSSS PHY (Annex E formula) at linear SINR ≥ 0; any shape.

    The alternating sum loses relative precision for BER below ~1e-12; results are clipped to [0, 0.5].
    """
    s = np.asarray(sinr, dtype=np.float64)
    if np.any(~np.isfinite(s)) or np.any(s < 0):
        raise ChannelModelError("SINR must be finite and >= 0 (linear)")
    ber = np.tensordot(np.exp(s[..., None] * _EXPO), _COEF, axes=1)
    return np.asarray(np.clip(ber, 0.0, 0.5), dtype=np.float64)


def packet_error_rate(sinr_db: npt.ArrayLike, psdu_bytes: int) -> FloatArray:
    """PER = 1 − (1 − BER)^(8·psdu_bytes) at SINR ``sinr_db`` (dB, any shape)."""
    if psdu_bytes < 0:
        raise ChannelModelError(f"psdu_bytes must be >= 0, got {psdu_bytes}")
    db = np.asarray(sinr_db, dtype=np.float64)
    if np.any(np.isnan(db)):
        raise ChannelModelError("SINR (dB) must not be NaN")
    ber = oqpsk_ber(10.0 ** (db / 10.0))
    return np.asarray(-np.expm1(8 * psdu_bytes * np.log1p(-ber)), dtype=np.float64)


def airtime_s(psdu_bytes: int) -> float:
    """Seconds on air for a PSDU of ``psdu_bytes`` (0..127) octets, synchronisation header and PHR included."""
    if not 0 <= psdu_bytes <= MAX_PSDU_BYTES:
        raise ChannelModelError(f"PSDU must be 0..{MAX_PSDU_BYTES} octets, got {psdu_bytes}")
    return (PHY_OVERHEAD_BYTES + psdu_bytes) * 8.0 / BIT_RATE_BPS


def noise_floor_dbm(noise_figure_db: float = 10.0, bandwidth_hz: float = CHANNEL_BANDWIDTH_HZ) -> float:
    """Receiver noise power in dBm: −174 dBm/Hz + 10·log10(bandwidth) + noise figure."""
    if not bandwidth_hz > 0:
        raise ChannelModelError("bandwidth must be > 0 Hz")
    return THERMAL_NOISE_DBM_HZ + 10.0 * math.log10(bandwidth_hz) + noise_figure_db


@dataclass(frozen=True, slots=True)
class LogDistancePathLoss:
    """PL(d) = pl0_db + 10·exponent·log10(d/d0_m) + X_σ (dB), X_σ ~ N(0, shadowing_db²)."""

    pl0_db: float = 40.2
    exponent: float = 3.3
    d0_m: float = 1.0
    shadowing_db: float = 4.0

    def __post_init__(self) -> None:
        if not self.d0_m > 0 or not self.exponent >= 0 or not self.shadowing_db >= 0:
            raise ChannelModelError("need d0 > 0 m, exponent >= 0 and shadowing sigma >= 0 dB")

    def mean_db(self, distance_m: npt.ArrayLike) -> FloatArray:
        """Median path loss (dB) at ``distance_m`` (m, > 0, any shape); below d0 the loss is PL(d0)."""
        d = np.asarray(distance_m, dtype=np.float64)
        if np.any(~(d > 0)):
            raise ChannelModelError("distance must be > 0 m")
        ratio = np.maximum(d / self.d0_m, 1.0)
        return np.asarray(self.pl0_db + 10.0 * self.exponent * np.log10(ratio), dtype=np.float64)

    def sample_db(self, distance_m: npt.ArrayLike, rng: np.random.Generator) -> FloatArray:
        """Path loss with a shadowing draw per element (dB)."""
        mean = self.mean_db(distance_m)
        return np.asarray(mean + self.shadowing_db * rng.standard_normal(mean.shape), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class ZigbeeLink:
    """One 802.15.4 hop: distance (m), transmit power (dBm), path loss, receiver noise figure (dB),
    extra interference (dBm, added to the noise), and ``shadowing_db``: this link's shadowing draw (dB),
    fixed for a static link (see `ZigbeeLink.with_shadowing`)."""

    distance_m: float
    tx_dbm: float = 0.0
    path_loss: LogDistancePathLoss = LogDistancePathLoss()
    noise_figure_db: float = 10.0
    interference_dbm: float | None = None
    shadowing_db: float = 0.0

    @classmethod
    def with_shadowing(
        cls,
        distance_m: float,
        rng: np.random.Generator,
        *,
        tx_dbm: float = 0.0,
        path_loss: LogDistancePathLoss | None = None,
        noise_figure_db: float = 10.0,
        interference_dbm: float | None = None,
    ) -> ZigbeeLink:
        """A link whose shadowing term is drawn once from N(0, σ²) with ``rng`` (a static placement)."""
        pl = path_loss if path_loss is not None else LogDistancePathLoss()
        x = float(pl.shadowing_db * rng.standard_normal())
        return cls(distance_m, tx_dbm, pl, noise_figure_db, interference_dbm, x)

    @property
    def rx_dbm(self) -> float:
        """Received power (dBm)."""
        return self.tx_dbm - float(self.path_loss.mean_db(self.distance_m)) - self.shadowing_db

    @property
    def noise_dbm(self) -> float:
        """Noise plus interference power over 2 MHz (dBm)."""
        n_mw = 10.0 ** (noise_floor_dbm(self.noise_figure_db) / 10.0)
        if self.interference_dbm is not None:
            n_mw += 10.0 ** (self.interference_dbm / 10.0)
        return 10.0 * math.log10(n_mw)

    @property
    def sinr_db(self) -> float:
        """SINR (dB) at the receiver."""
        return self.rx_dbm - self.noise_dbm

    def frame_error_rate(self, psdu_bytes: int) -> float:
        """PER of a ``psdu_bytes``-octet PSDU on this link."""
        return float(packet_error_rate(self.sinr_db, psdu_bytes))
