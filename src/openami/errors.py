"""Errors shared by every protocol core.

`ProtocolError` is the only exception a decoder may raise for bad bytes. Its two children say who broke
the rules: `LocalProtocolError` (we misused the API: a value out of range, a missing configuration entry)
and `RemoteProtocolError` (the peer sent something the standard does not allow).
"""

from __future__ import annotations

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class ProtocolError(Exception):
    """Base class of every error a protocol core raises for bad input or misuse."""


class LocalProtocolError(ProtocolError):
    """We asked for something the protocol cannot express (bad argument, unbindable layout, ...)."""


class RemoteProtocolError(ProtocolError):
    """The bytes received break the protocol (truncated, oversized, bad tag, bad checksum, ...)."""
