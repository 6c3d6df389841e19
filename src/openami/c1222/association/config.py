"""Configuration and counters of the association core."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from openami.c1222.aptitle import C1222_BASE, ApTitle
from openami.c1222.epsem import ED_CLASS_SIZE
from openami.c1222.security import MAX_KEY_ID, IvSource, KeyStore, ReplayGuard, SecurityMode
from openami.errors import LocalProtocolError

__all__ = ["MAX_IDLE_TIMEOUT", "AssociationConfig", "Authenticator", "Stats"]

MAX_IDLE_TIMEOUT = 0xFFFF
"""The Logon session-idle-timeout field is 2 bytes (seconds)."""

Authenticator = Callable[[int | None, bytes], int | None]
"""Password check of the Security service: ``(user id or None, password: 20 bytes as on the wire)``
→ the access granted (e.g. ST42 access-group bits, 0..255), or None to refuse. Compare passwords with
`openami.c1222.security.constant_time_equal`."""


@dataclass(kw_only=True)
class AssociationConfig:
    """Settings of one C12.22 node's association core (both roles).

    Client side: outgoing requests use ``security_mode`` and ``key_id`` unless the call overrides
    them; IVs come from ``iv_source`` (shared by every message this node seals, responses included,
    so one source must serve every core using the same keys); a request without answer is re-sent
    after ``response_timeout`` seconds, at most ``retries`` times, then fails.

    Server side: ``authenticator`` checks Security passwords (None: every Security is refused with
    ERR); ``allow_sessionless`` lets requests outside a session through (else ISSS);
    at most ``max_sessions`` sessions; a Logon asking for 0 s (or the C12.18 form without the field)
    gets ``default_idle_timeout``, any other request is capped at ``max_idle_timeout`` (seconds).
    Identical copies of a request arriving within ``duplicate_window`` seconds (a client's retries)
    get the cached response again instead of a second execution (at most ``max_duplicates`` kept).

    Both: ``replay_guard`` (None disables replay checks) sees every verified message;
    ``max_apdu_size`` bounds APDUs received and sent (bytes, tag and length included);
    ``ed_class`` (4 bytes) is put in every EPSEM we send (control bit 4); ``application_context``
    adds the A1 element; relative titles hang under ``base``.
    """

    ap_title: ApTitle
    keys: KeyStore = field(default_factory=KeyStore)
    key_id: int | None = None
    security_mode: SecurityMode = SecurityMode.CLEARTEXT
    iv_source: IvSource = field(default_factory=IvSource)
    replay_guard: ReplayGuard | None = field(default_factory=ReplayGuard)
    response_timeout: float = 30.0
    retries: int = 2
    max_apdu_size: int = 0x10000
    ed_class: bytes | None = None
    application_context: bool = False
    base: ApTitle = C1222_BASE
    authenticator: Authenticator | None = None
    allow_sessionless: bool = True
    max_sessions: int = 16
    default_idle_timeout: int = 60
    max_idle_timeout: int = 600
    duplicate_window: float = 120.0
    max_duplicates: int = 256

    def __post_init__(self) -> None:
        if not isinstance(self.ap_title, ApTitle):
            raise LocalProtocolError(f"ap_title must be an ApTitle, got {self.ap_title!r}")
        if self.base.relative:
            raise LocalProtocolError("the base of relative ApTitles must be absolute")
        try:
            self.security_mode = SecurityMode(self.security_mode)
        except ValueError:
            raise LocalProtocolError(f"unknown security mode {self.security_mode!r}") from None
        if self.key_id is not None and not 0 <= self.key_id <= MAX_KEY_ID:
            raise LocalProtocolError(f"key id must be 0..{MAX_KEY_ID}, got {self.key_id}")
        if not (math.isfinite(self.response_timeout) and self.response_timeout > 0):
            raise LocalProtocolError(f"response_timeout must be > 0 seconds, got {self.response_timeout!r}")
        if self.retries < 0:
            raise LocalProtocolError(f"retries must be >= 0, got {self.retries}")
        if self.max_apdu_size < 16:
            raise LocalProtocolError(f"max_apdu_size must be at least 16 bytes, got {self.max_apdu_size}")
        if self.ed_class is not None and (not isinstance(self.ed_class, bytes) or len(self.ed_class) != ED_CLASS_SIZE):
            raise LocalProtocolError(f"ed_class must be {ED_CLASS_SIZE} bytes, got {self.ed_class!r}")
        if self.max_sessions < 0:
            raise LocalProtocolError(f"max_sessions must be >= 0, got {self.max_sessions}")
        if not 1 <= self.default_idle_timeout <= self.max_idle_timeout <= MAX_IDLE_TIMEOUT:
            raise LocalProtocolError(
                "need 1 <= default_idle_timeout <= max_idle_timeout <= 65535 seconds, got "
                f"{self.default_idle_timeout}, {self.max_idle_timeout}"
            )
        if not (math.isfinite(self.duplicate_window) and self.duplicate_window >= 0) or self.max_duplicates < 0:
            raise LocalProtocolError("duplicate_window and max_duplicates must be >= 0")


@dataclass
class Stats:
    """Counters of one core (monotonic)."""

    requests_sent: int = 0  # new requests built by `request`
    retransmissions: int = 0  # retries sent by `handle_timer`
    responses_matched: int = 0  # ResponseReceived
    requests_failed: int = 0  # RequestFailed
    requests_received: int = 0  # RequestReceived
    responses_sent: int = 0  # APDUs built by `respond`
    duplicates: int = 0  # DuplicateRequest
    bad_mac: int = 0  # BadMac
    unknown_key: int = 0  # UnknownKey
    replays: int = 0  # ReplayRefused
    refused_responses: int = 0  # ResponseRefused
    violations: int = 0  # ProtocolViolation
    misaddressed: int = 0  # Misaddressed
