"""``openami plc``: the power-line channel simulator from the command line.

Commands: ``response`` (H(f) of a preset), ``noise`` (background PSD or a noise time series), ``impedance``
(from a Touchstone file or the overhead-line model), ``capacity`` (SNR(f) under a mask, Shannon capacity),
``ber`` (simulated OFDM BER with confidence intervals beside the analytic curve) and ``paper`` (the
reference paper's figures redone, with ``report.md``). Data go out as JSON (``--json``, stdout) or CSV
(``--csv FILE``), plots as PNG or SVG by suffix (``--plot FILE``). Frequencies are given in Hz (``30e6``).
Errors are one line on stderr with a non-zero exit; long runs show a progress bar on stderr.
"""

from __future__ import annotations

from openami.cli import plc_link, plc_signal  # noqa: F401 - registers the commands
from openami.cli.plc_common import limit_blas_threads, plc_app

__all__ = ["limit_blas_threads", "plc_app"]
