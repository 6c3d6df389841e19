"""Errors of the channel simulator (`openami.channel`).

The channel package is numeric code, not a protocol core: invalid arguments (negative lengths, frequencies
outside a model's validity range, wrong array shapes, malformed measurement files) raise
`ChannelModelError`, a `ValueError`, so callers may catch either.
"""

from __future__ import annotations

__all__ = ["ChannelModelError"]


class ChannelModelError(ValueError):
    """A channel model was given arguments it cannot honour (range, shape, unit or file format)."""
