"""Power-line channel simulator (numpy): cables, two-ports, multipath, noise, impedance, link budget.

Frequencies are in Hz, arrays put the frequency (or batch) axis first, randomness comes from an injected
``rng: np.random.Generator``. The modules: `cable` (per-unit-length constants with skin effect, coax and
overhead ACSR lines), `twoport` (ABCD networks, couplers, taps), `multipath` (the Zimmermann–Dostert
model, vectorised), `presets` (the reference paper's Table 1, the fitted 50 m path, ZD 4/15-path sets,
random channels), `impulse` (impulse response, delay spread, coherence bandwidth), `noise` (background,
impulsive and narrowband noise), `impedance` (S-parameters, Touchstone), `ofdm`/`modulation`/`link`
(masks, modems, SNR, capacity, BER, frame error rate).
"""

from openami.channel.cable import ACSR, CoaxCable, OverheadLine, matched_line_h, mv_22k9_line, skin_depth
from openami.channel.errors import ChannelModelError
from openami.channel.impulse import coherence_bandwidth, delay_stats, discrete_paths, impulse_response
from openami.channel.link import Link, ber_curve, frame_error_rate, shannon_capacity, simulate_frame_errors, snr_db
from openami.channel.multipath import PassivityWarning, multipath_response
from openami.channel.presets import PRESETS, get_preset, paper_band_errors, random_channels
from openami.channel.twoport import abcd_to_s, cascade, input_impedance, s_to_abcd, transfer_function

__all__ = [
    "ACSR",
    "PRESETS",
    "ChannelModelError",
    "CoaxCable",
    "Link",
    "OverheadLine",
    "PassivityWarning",
    "abcd_to_s",
    "ber_curve",
    "cascade",
    "coherence_bandwidth",
    "delay_stats",
    "discrete_paths",
    "frame_error_rate",
    "get_preset",
    "impulse_response",
    "input_impedance",
    "matched_line_h",
    "multipath_response",
    "mv_22k9_line",
    "paper_band_errors",
    "random_channels",
    "s_to_abcd",
    "shannon_capacity",
    "simulate_frame_errors",
    "skin_depth",
    "snr_db",
    "transfer_function",
]
