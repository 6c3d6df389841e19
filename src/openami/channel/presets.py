"""Multipath parameter sets by name, the paper's measured attenuation bands, and random channels.

Presets (`PRESETS`, `get_preset`), each with its source and caveats:

* ``paper-table1`` — Kim, Kim, Rhee, Shin, "RF channel characteristics of the medium-voltage power line
  for PLC", KIEE Trans. 51C-7-7 (2002), Table 1 as printed: N = 4, τ = 1.0, 1.25, 1.76, 2.64 µs,
  d = 10, 20, 30, 50 m, g = 0.4, −0.4, −0.8, −1.5, k = 0.5, a0 = 0, a1 = 8·10⁻⁶ (f in Hz). Not passive:
  Σg = −2.3, |H(0)| = +7.2 dB; the 50 m path loses at most 20·log10(e)·a1·√(30 MHz)·50 m ≈ 19 dB, so
  no reading of the table reaches the measured 60–70 dB; the delays (10 m in 1 µs is 0.03 c) and
  lengths disagree and τ/l is not even constant.
* ``paper-table1-lengths`` — the same with τ_i = d_i·√εr/c0, εr = 4.
* ``paper-fit-50m`` — one 50 m path, g = 1, k = 0.5, a0 = 0 and a1 fitted here by least squares to the
  paper's measured attenuation over 50 m (10–20 dB at 0–3 MHz, 20–50 dB at 3–18 MHz, 50–65 dB at
  18–25 MHz, 60–70 dB at 25–30 MHz). Objective: minimise Σ_bands (mean over the band of the model's
  attenuation in dB − middle of the band's measured range)²; the model's attenuation 20·log10(e)·a1·√f·d
  is linear in a1 and its band mean is closed-form (mean of √f over [f1, f2] = ⅔(f2^1.5 − f1^1.5)/(f2 −
  f1)), so a1 = Σ m_i y_i / Σ m_i². Result ≈ 2.81·10⁻⁵, 3.5 × the printed a1. The loss it stands for is
  mostly couplers, mismatch and earth return, not the 50 m of conductor (< 1 dB, see `cable`).
  τ from the length with εr = 4.
* ``zd4`` — Zimmermann & Dostert, "A multipath model for the powerline channel", IEEE Trans. Commun.
  50(4), 2002, 4-path example: g = 0.64, 0.38, −0.15, 0.05; d = 200, 222.4, 244.8, 267.5 m; k = 1,
  a0 = 0, a1 = 7.8·10⁻¹⁰ s/m; εr = 4.
* ``zd15`` — the same paper's 15-path example as recalled in openami's reference notes; NOT confirmed
  against the original (``confirmed`` is False): k = 1, a0 = 0, a1 = 2.5·10⁻⁹, εr = 4.

`paper_band_errors` gives, per measured band, the preset's mean attenuation in dB (−20·log10|H| averaged
over a uniform grid in the band, |H| floored at 10⁻⁶) minus the middle of the measured range.

`random_channels(rng, n, cls, n_paths)` draws a seeded batch (distributions in its docstring).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
import numpy.typing as npt

from openami.channel.errors import ChannelModelError
from openami.channel.multipath import Method, multipath_response, passivity_gain, path_delays

__all__ = [
    "PAPER_ATTENUATION_BANDS",
    "PRESETS",
    "AttenuationBand",
    "BandError",
    "MultipathPreset",
    "RandomChannels",
    "fit_paper_50m_a1",
    "get_preset",
    "paper_band_errors",
    "random_channels",
]

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]
_DB_PER_NEPER = 20.0 / math.log(10.0)


@dataclass(frozen=True)
class AttenuationBand:
    """A measured attenuation range (dB) over a frequency band (Hz) for the paper's 50 m line."""

    f_lo_hz: float
    f_hi_hz: float
    att_lo_db: float
    att_hi_db: float

    @property
    def middle_db(self) -> float:
        return 0.5 * (self.att_lo_db + self.att_hi_db)


PAPER_ATTENUATION_BANDS: tuple[AttenuationBand, ...] = (
    AttenuationBand(0.0, 3e6, 10.0, 20.0),
    AttenuationBand(3e6, 18e6, 20.0, 50.0),
    AttenuationBand(18e6, 25e6, 50.0, 65.0),
    AttenuationBand(25e6, 30e6, 60.0, 70.0),
)
"""Kim et al. (2002), measured attenuation over 50 m of the 22.9 kV line ("above 25 MHz" taken to 30 MHz)."""


@dataclass(frozen=True)
class MultipathPreset:
    """A named multipath parameter set: gains, lengths (m), delays (s, or None: from the lengths)."""

    name: str
    g: tuple[float, ...]
    d_m: tuple[float, ...]
    tau_s: tuple[float, ...] | None
    a0: float
    a1: float
    k: float
    eps_r: float = 4.0
    confirmed: bool = True
    source: str = ""
    caveats: str = ""

    @property
    def n_paths(self) -> int:
        return len(self.g)

    def delays(self) -> FloatArray:
        """τ_i (s), (n_paths,): as given, else d_i·√εr/c0."""
        if self.tau_s is not None:
            return np.asarray(self.tau_s, dtype=np.float64)
        return path_delays(np.asarray(self.d_m, dtype=np.float64), self.eps_r)

    def h0_db(self) -> float:
        """20·log10|H(0)| = 20·log10|Σ g_i e^(−a0 d_i)| (dB); > 0 means not passive."""
        return 20.0 * math.log10(float(passivity_gain(self.g, self.d_m, self.a0)))

    def response(self, f_hz: npt.ArrayLike, *, warn: bool = True) -> ComplexArray:
        """H(f), (n_f,) complex128 (warns with PassivityWarning when |H(0)| > 1 and `warn`)."""
        return multipath_response(
            f_hz, self.g, self.d_m, self.a0, self.a1, self.k, self.delays(), self.eps_r, warn=warn, method="direct"
        )


def fit_paper_50m_a1(bands: tuple[AttenuationBand, ...] = PAPER_ATTENUATION_BANDS, length_m: float = 50.0) -> float:
    """a1 (per m per √Hz, k = 0.5, a0 = 0) minimising Σ (band-mean attenuation − band middle)², in closed form."""
    m = []
    y = []
    for b in bands:
        mean_sqrt_f = (2.0 / 3.0) * (b.f_hi_hz**1.5 - b.f_lo_hz**1.5) / (b.f_hi_hz - b.f_lo_hz)
        m.append(_DB_PER_NEPER * length_m * mean_sqrt_f)
        y.append(b.middle_db)
    return float(np.dot(m, y) / np.dot(m, m))


_TABLE1_G = (0.4, -0.4, -0.8, -1.5)
_TABLE1_D = (10.0, 20.0, 30.0, 50.0)
_PAPER = "Kim, Kim, Rhee, Shin, KIEE Trans. 51C-7-7 (2002)"
_ZD = "Zimmermann & Dostert, IEEE Trans. Commun. 50(4), 2002"


def _presets() -> dict[str, MultipathPreset]:
    table1_caveat = (
        "Not passive: Σg = −2.3 gives |H(0)| = +7.2 dB. With a1 = 8e-6 the 50 m path loses at most ≈ 19 dB at "
        "30 MHz, far from the measured 60–70 dB. Delays and lengths disagree (10 m in 1 µs is 0.03 c)."
    )
    return {
        "paper-table1": MultipathPreset(
            name="paper-table1",
            tau_s=(1.0e-6, 1.25e-6, 1.76e-6, 2.64e-6),
            source=f"{_PAPER}, Table 1 as printed (delays as given).",
            caveats=table1_caveat,
            g=_TABLE1_G,
            d_m=_TABLE1_D,
            a0=0.0,
            a1=8e-6,
            k=0.5,
        ),
        "paper-table1-lengths": MultipathPreset(
            name="paper-table1-lengths",
            tau_s=None,
            eps_r=4.0,
            source=f"{_PAPER}, Table 1 with τ_i = d_i·√εr/c0, εr = 4.",
            caveats=table1_caveat + " Delays here follow the lengths instead of the printed column.",
            g=_TABLE1_G,
            d_m=_TABLE1_D,
            a0=0.0,
            a1=8e-6,
            k=0.5,
        ),
        "paper-fit-50m": MultipathPreset(
            name="paper-fit-50m",
            g=(1.0,),
            d_m=(50.0,),
            tau_s=None,
            a0=0.0,
            a1=fit_paper_50m_a1(),
            k=0.5,
            source=f"One 50 m path, a1 least-squares fitted to the measured attenuation bands of {_PAPER}.",
            caveats=(
                "A √f law fitted to band middles (objective in the module docstring); it cannot show the "
                "measured flattening above 22 MHz. The loss is mostly couplers, mismatch and earth return."
            ),
        ),
        "zd4": MultipathPreset(
            name="zd4",
            g=(0.64, 0.38, -0.15, 0.05),
            d_m=(200.0, 222.4, 244.8, 267.5),
            tau_s=None,
            a0=0.0,
            a1=7.8e-10,
            k=1.0,
            source=f"{_ZD}, 4-path example; εr = 4.",
        ),
        "zd15": MultipathPreset(
            name="zd15",
            g=(
                0.029,
                0.043,
                0.103,
                -0.058,
                -0.045,
                -0.040,
                0.038,
                -0.038,
                0.071,
                -0.035,
                0.065,
                -0.055,
                0.042,
                -0.059,
                0.049,
            ),
            d_m=(
                90.0,
                102.0,
                113.0,
                143.0,
                148.0,
                200.0,
                260.0,
                322.0,
                411.0,
                490.0,
                567.0,
                740.0,
                960.0,
                1130.0,
                1250.0,
            ),
            tau_s=None,
            a0=0.0,
            a1=2.5e-9,
            k=1.0,
            confirmed=False,
            source=f"{_ZD}, 15-path example, numbers as recalled in openami's reference notes.",
            caveats="UNCONFIRMED: not checked against the original paper.",
        ),
    }


PRESETS: Mapping[str, MultipathPreset] = MappingProxyType(_presets())
"""All presets by name (read-only)."""


def get_preset(name: str) -> MultipathPreset:
    """The preset called `name` (ChannelModelError listing the known names otherwise)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ChannelModelError(f"unknown preset {name!r}; known: {', '.join(sorted(PRESETS))}") from None


@dataclass(frozen=True)
class BandError:
    """The model's mean attenuation over a measured band against the band's middle (all dB)."""

    band: AttenuationBand
    model_db: float

    @property
    def error_db(self) -> float:
        """model − middle of the measured range (dB); positive: the model attenuates more."""
        return self.model_db - self.band.middle_db


def paper_band_errors(
    preset: MultipathPreset | str,
    bands: tuple[AttenuationBand, ...] = PAPER_ATTENUATION_BANDS,
    n_points: int = 2001,
) -> list[BandError]:
    """Per-band deviation of a preset's attenuation from the paper's measurements (see module docstring)."""
    p = get_preset(preset) if isinstance(preset, str) else preset
    if n_points < 2:
        raise ChannelModelError("n_points must be ≥ 2")
    out = []
    for b in bands:
        f = np.linspace(b.f_lo_hz, b.f_hi_hz, n_points)
        h = np.abs(p.response(f, warn=False))
        att = -20.0 * np.log10(np.maximum(h, 1e-6))
        out.append(BandError(b, float(np.mean(att))))
    return out


# ------------------------------------------------------------------------------------------ random channels

ChannelClass = Literal["in-home", "mv"]


@dataclass(frozen=True)
class _ClassParameters:
    first_m: tuple[float, float]  # uniform range of the shortest path length (m)
    spacing_m: float  # mean extra length between successive paths (m): Poisson arrivals
    a1: tuple[float, float]  # log-uniform range of a1
    k: float
    eps_r: float
    note: str


_CLASSES: Mapping[str, _ClassParameters] = MappingProxyType(
    {
        "in-home": _ClassParameters(
            (20.0, 200.0),
            10.0,
            (3e-10, 3e-9),
            1.0,
            4.0,
            "k = 1, a0 = 0, a1 log-uniform 3e-10…3e-9 s/m (brackets the ZD 4- and 15-path sets), εr = 4",
        ),
        "mv": _ClassParameters(
            (100.0, 1000.0),
            50.0,
            (1e-7, 1e-6),
            0.5,
            1.0,
            "k = 0.5 (the paper's √f law), a0 = 0, a1 log-uniform 1e-7…1e-6 per m per √Hz (≈ 5–48 dB per km "
            "at 30 MHz), εr = 1 (bare overhead conductors, v ≈ c0)",
        ),
    }
)


@dataclass(frozen=True, eq=False)
class RandomChannels:
    """A batch of random multipath channels: g, d_m, tau_s (n, n_paths); a0, a1 (n,); scalar k, εr."""

    g: FloatArray
    d_m: FloatArray
    tau_s: FloatArray
    a0: FloatArray
    a1: FloatArray
    k: float
    eps_r: float
    cls: str
    description: str = field(default="")

    def response(
        self,
        f_hz: npt.ArrayLike,
        *,
        method: Method = "auto",
        rtol: float = 1e-9,
        out: ComplexArray | None = None,
    ) -> ComplexArray:
        """H(f) of every channel: (n, n_f) complex128 (options as `multipath_response`)."""
        return multipath_response(
            f_hz, self.g, self.d_m, self.a0, self.a1, self.k, self.tau_s, self.eps_r, method=method, rtol=rtol, out=out
        )


def random_channels(
    rng: np.random.Generator, n: int, cls: ChannelClass = "in-home", n_paths: int = 15
) -> RandomChannels:
    """Draw `n` random channels of class `cls` with `n_paths` paths each, from the seeded `rng`.

    Distributions (engineering assumptions in the spirit of the top-down random generators of
    Zimmermann–Dostert and Tonello, not fitted to a measurement campaign):
    * path lengths: the shortest uniform in a class range (in-home 20–200 m, mv 100–1000 m); the others
      follow as a Poisson process, extra lengths exponential with mean 10 m (in-home) / 50 m (mv);
    * gains: |g_i| uniform in (0, 1), the first path positive, the others of random sign, then scaled so
      that Σ|g_i| is uniform in [0.2, 1] — every channel is passive (|H(f)| ≤ 1 everywhere);
    * attenuation: a0 = 0, a1 log-uniform per channel, class exponent k and εr (see below); τ = d·√εr/c0.
    in-home: k = 1, a1 3e-10…3e-9 s/m, εr = 4. mv: k = 0.5, a1 1e-7…1e-6, εr = 1 (overhead line).
    """
    if not isinstance(rng, np.random.Generator):
        raise ChannelModelError("rng must be a numpy.random.Generator")
    if cls not in _CLASSES:
        raise ChannelModelError(f"unknown channel class {cls!r}; expected one of {sorted(_CLASSES)}")
    if n < 1 or n_paths < 1:
        raise ChannelModelError("n and n_paths must be ≥ 1")
    c = _CLASSES[cls]
    first = rng.uniform(c.first_m[0], c.first_m[1], size=(n, 1))
    extra = rng.exponential(c.spacing_m, size=(n, n_paths - 1))
    d = np.concatenate([first, first + np.cumsum(extra, axis=1)], axis=1)
    mag = rng.uniform(0.0, 1.0, size=(n, n_paths))
    sign = np.where(rng.random((n, n_paths)) < 0.5, -1.0, 1.0)
    sign[:, 0] = 1.0
    total = rng.uniform(0.2, 1.0, size=(n, 1))
    g = sign * mag * (total / np.maximum(mag.sum(axis=1, keepdims=True), 1e-300))
    lo, hi = math.log(c.a1[0]), math.log(c.a1[1])
    a1 = np.exp(rng.uniform(lo, hi, size=n))
    return RandomChannels(
        g=g,
        d_m=d,
        tau_s=path_delays(d, c.eps_r),
        a0=np.zeros(n),
        a1=a1,
        k=c.k,
        eps_r=c.eps_r,
        cls=cls,
        description=c.note,
    )
