"""Errors of the metering engine.

The engine is numeric application code: a bad configuration or a call the engine cannot honour (a tier
outside the calendar, a harmonic above Nyquist, a wrong number of loads) raises `EngineError`, which is
both a `LocalProtocolError` (we misused the API, as `openami.errors` asks) and a `ValueError`.
"""

from __future__ import annotations

from openami.errors import LocalProtocolError

__all__ = ["EngineError"]


class EngineError(LocalProtocolError, ValueError):
    """The metering engine was given a configuration or an argument it cannot honour."""
