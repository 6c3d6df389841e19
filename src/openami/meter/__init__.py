"""The emulated smart meter: metering engine (`openami.meter.engine`), table store, responder, procedures,
load control, notifications and fleets (each added by its own subpackage)."""

from __future__ import annotations

__all__: list[str] = []
