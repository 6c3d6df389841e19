"""The C12.22 association state machine (sans-IO), one core for both roles of a node.

- `Association` (`core`): requests with retries and timeouts, response matching and checks;
  request handling with sessions (`session`), duplicate suppression (`dedup`) and `respond`.
- `AssociationConfig`, `Stats`, `Authenticator` (`config`); the events (`events`).
- `Relay` (`relay`): forward APDUs by called ApTitle, answering UAT / NETR.

A driver feeds received APDUs to `Association.receive(data, now)`, sends the bytes returned by
`request` / `respond` and carried by `Transmit` events, and calls `handle_timer(now)` when
`next_timer()` comes due.
"""

from __future__ import annotations

from .config import MAX_IDLE_TIMEOUT, AssociationConfig, Authenticator, Stats
from .core import MAX_INVOCATION_ID, Association
from .events import (
    BadMac,
    DuplicateRequest,
    Envelope,
    Event,
    FailReason,
    Misaddressed,
    ProtocolViolation,
    ReplayRefused,
    RequestFailed,
    RequestPresumedOk,
    RequestReceived,
    ResponseReceived,
    ResponseRefused,
    Role,
    SecurityContext,
    SessionEnded,
    SessionEndReason,
    SessionInfo,
    SessionStarted,
    Transmit,
    UnknownKey,
)
from .relay import Deliver, Drop, Forward, Reject, Relay, RelayDecision
from .session import ClientSession, SessionState

__all__ = [
    "MAX_IDLE_TIMEOUT",
    "MAX_INVOCATION_ID",
    "Association",
    "AssociationConfig",
    "Authenticator",
    "BadMac",
    "ClientSession",
    "Deliver",
    "Drop",
    "DuplicateRequest",
    "Envelope",
    "Event",
    "FailReason",
    "Forward",
    "Misaddressed",
    "ProtocolViolation",
    "Reject",
    "Relay",
    "RelayDecision",
    "ReplayRefused",
    "RequestFailed",
    "RequestPresumedOk",
    "RequestReceived",
    "ResponseReceived",
    "ResponseRefused",
    "Role",
    "SecurityContext",
    "SessionEndReason",
    "SessionEnded",
    "SessionInfo",
    "SessionStarted",
    "SessionState",
    "Stats",
    "Transmit",
    "UnknownKey",
]
