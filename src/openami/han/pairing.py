"""Joining the HAN, on the meter's side (sans-IO): the permit-join window, install codes, short addresses,
leave / rejoin and dropping appliances that stop re-registering.

`PermitJoin.open(now, seconds)` opens a window [now, now + seconds). `PermitJoin.request(appliance_id,
now, install_code)` answers a join request; the checks, in order, and the refusal reason each gives:

====================================================================== =====================
already in the registry                                                ``ALREADY_JOINED``
no window open at ``now``                                              ``WINDOW_CLOSED``
an install code is required (or one is provisioned for this appliance   ``BAD_INSTALL_CODE``
and one was sent) and it does not match (constant-time comparison)
the registry holds ``capacity`` appliances, or no address is free       ``TABLE_FULL``
====================================================================== =====================

An accepted join gets the lowest free 16-bit short address in [``first_address``, 0xFFF7] (IEEE
802.15.4 reserves 0xFFF8–0xFFFF: 0xFFFE "no short address", 0xFFFF broadcast). The appliance then
registers (C12.22 Registration with its short address as native address, `PermitJoin.register`); each
registration or other sign of life (`PermitJoin.seen`) resets its count of missed re-registrations.
`PermitJoin.poll(now)` drops an appliance once ``max_missed`` registration periods have passed since it
was last seen; `leave` removes one at once. Left and dropped appliances may join again in a window.

Times are seconds (injected ``now``); appliance ids are strings (its serial or EUI-64 as text).
"""

from __future__ import annotations

import hmac
import math
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from openami.c1222.aptitle import ApTitle
from openami.c1222.services import Registration
from openami.errors import LocalProtocolError

__all__ = [
    "FIRST_ADDRESS",
    "LAST_ADDRESS",
    "HanEntry",
    "HanRegistry",
    "HanState",
    "JoinAccepted",
    "JoinRefused",
    "PermitJoin",
    "Refusal",
]

FIRST_ADDRESS = 0x0001
LAST_ADDRESS = 0xFFF7
"""Short addresses handed out (0x0000 is the meter, the coordinator; 0xFFF8–0xFFFF are reserved)."""


class Refusal(StrEnum):
    """Why a join (or registration) was refused."""

    WINDOW_CLOSED = "window closed"
    BAD_INSTALL_CODE = "bad install code"
    TABLE_FULL = "table full"
    ALREADY_JOINED = "already joined"
    NOT_JOINED = "not joined"
    WRONG_ADDRESS = "registration from another address"


class HanState(StrEnum):
    """An appliance's state in the registry."""

    JOINED = "joined"  # joined, not registered yet
    REGISTERED = "registered"
    LEFT = "left"
    DROPPED = "dropped"  # missed too many re-registrations


@dataclass(slots=True)
class HanEntry:
    """One joined appliance: id, short address, ApTitle (None until it registers), times (s), state,
    registration period (s)."""

    appliance_id: str
    address: int
    joined_at: float
    last_seen: float
    period_s: float
    state: HanState = HanState.JOINED
    ap_title: ApTitle | None = None

    def missed(self, now: float) -> int:
        """Whole registration periods since the appliance was last seen."""
        return max(0, math.floor((now - self.last_seen) / self.period_s))


@dataclass(frozen=True, slots=True)
class JoinAccepted:
    """A join (or registration) accepted: the appliance and its short address."""

    appliance_id: str
    address: int


@dataclass(frozen=True, slots=True)
class JoinRefused:
    """A join (or registration) refused, with the reason."""

    appliance_id: str
    reason: Refusal


class HanRegistry:
    """The joined appliances, by id, by short address and by ApTitle."""

    def __init__(self) -> None:
        self._by_id: dict[str, HanEntry] = {}
        self._by_address: dict[int, HanEntry] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[HanEntry]:
        return iter(list(self._by_id.values()))

    def __contains__(self, appliance_id: object) -> bool:
        return appliance_id in self._by_id

    def get(self, appliance_id: str) -> HanEntry | None:
        """The entry of ``appliance_id``, or None."""
        return self._by_id.get(appliance_id)

    def by_address(self, address: int) -> HanEntry | None:
        """The entry holding short ``address``, or None."""
        return self._by_address.get(address)

    def by_title(self, title: ApTitle) -> HanEntry | None:
        """The registered entry with ApTitle ``title`` (compared in absolute form), or None."""
        want = title.absolute()
        return next((e for e in self._by_id.values() if e.ap_title is not None and e.ap_title.absolute() == want), None)

    def addresses(self) -> frozenset[int]:
        """Short addresses in use."""
        return frozenset(self._by_address)

    def add(self, entry: HanEntry) -> None:
        """Add ``entry`` (its id and address must be free)."""
        if entry.appliance_id in self._by_id or entry.address in self._by_address:
            raise LocalProtocolError(f"appliance {entry.appliance_id} or address {entry.address:#06x} in use")
        self._by_id[entry.appliance_id] = entry
        self._by_address[entry.address] = entry

    def remove(self, appliance_id: str) -> HanEntry | None:
        """Remove and return the entry of ``appliance_id`` (None if absent)."""
        entry = self._by_id.pop(appliance_id, None)
        if entry is not None:
            del self._by_address[entry.address]
        return entry


class PermitJoin:
    """The meter's join controller (see the module docstring).

    ``capacity`` appliances at most; ``require_install_code``: every join must carry the install code
    provisioned for that appliance (`provision`); ``period_s`` the registration period expected of
    appliances (s); ``max_missed`` periods without a sign of life drop an appliance.
    """

    def __init__(
        self,
        *,
        capacity: int = 32,
        require_install_code: bool = False,
        install_codes: Mapping[str, bytes] | None = None,
        period_s: float = 3600.0,
        max_missed: int = 3,
        first_address: int = FIRST_ADDRESS,
    ) -> None:
        if capacity < 1 or max_missed < 1 or not (math.isfinite(period_s) and period_s > 0):
            raise LocalProtocolError("capacity and max_missed must be >= 1, period_s > 0")
        if not FIRST_ADDRESS <= first_address <= LAST_ADDRESS:
            raise LocalProtocolError(f"first_address must be in {FIRST_ADDRESS:#x}..{LAST_ADDRESS:#x}")
        self.capacity = capacity
        self.require_install_code = require_install_code
        self.period_s = float(period_s)
        self.max_missed = max_missed
        self.first_address = first_address
        self.registry = HanRegistry()
        self.refusals: Counter[Refusal] = Counter()
        self._codes: dict[str, bytes] = dict(install_codes or {})
        self._window: tuple[float, float] | None = None

    # -- the window ----------------------------------------------------------------------------------------------
    def open(self, now: float, seconds: float) -> None:
        """Open (or reopen) the window for ``seconds`` from ``now``."""
        if not (math.isfinite(seconds) and seconds > 0 and math.isfinite(now)):
            raise LocalProtocolError(f"a permit window needs a finite positive duration, got {seconds!r}")
        self._window = (now, now + seconds)

    def close(self) -> None:
        """Close the window now."""
        self._window = None

    def is_open(self, now: float) -> bool:
        """Whether a join at ``now`` falls inside the window."""
        return self._window is not None and self._window[0] <= now < self._window[1]

    @property
    def window(self) -> tuple[float, float] | None:
        """The last window opened, (start, end) in s, or None."""
        return self._window

    def provision(self, appliance_id: str, install_code: bytes) -> None:
        """Record the install code of ``appliance_id`` (given to the meter out of band)."""
        self._codes[appliance_id] = bytes(install_code)

    # -- joining -------------------------------------------------------------------------------------------------
    def _refuse(self, appliance_id: str, reason: Refusal) -> JoinRefused:
        self.refusals[reason] += 1
        return JoinRefused(appliance_id, reason)

    def _code_ok(self, appliance_id: str, install_code: bytes | None) -> bool:
        expected = self._codes.get(appliance_id)
        if install_code is None:
            return not self.require_install_code
        if expected is None:
            # constant-time even when nothing is provisioned: compare against a different value
            hmac.compare_digest(install_code, bytes(len(install_code)) + b"\x01")
            return not self.require_install_code
        return hmac.compare_digest(install_code, expected)

    def _free_address(self) -> int | None:
        used = self.registry.addresses()
        return next((a for a in range(self.first_address, LAST_ADDRESS + 1) if a not in used), None)

    def request(self, appliance_id: str, now: float, install_code: bytes | None = None) -> JoinAccepted | JoinRefused:
        """Answer a join request (see the module docstring for the checks and their order)."""
        if appliance_id in self.registry:
            return self._refuse(appliance_id, Refusal.ALREADY_JOINED)
        if not self.is_open(now):
            return self._refuse(appliance_id, Refusal.WINDOW_CLOSED)
        if not self._code_ok(appliance_id, install_code):
            return self._refuse(appliance_id, Refusal.BAD_INSTALL_CODE)
        address = self._free_address() if len(self.registry) < self.capacity else None
        if address is None:
            return self._refuse(appliance_id, Refusal.TABLE_FULL)
        self.registry.add(HanEntry(appliance_id, address, now, now, self.period_s))
        return JoinAccepted(appliance_id, address)

    def register(self, appliance_id: str, registration: Registration, now: float) -> JoinAccepted | JoinRefused:
        """Record a C12.22 Registration from a joined appliance: its native address must be its short
        address (2 octets big-endian); the ApTitle and period are taken from it."""
        entry = self.registry.get(appliance_id)
        if entry is None:
            return self._refuse(appliance_id, Refusal.NOT_JOINED)
        if registration.native_address != entry.address.to_bytes(2, "big"):
            return self._refuse(appliance_id, Refusal.WRONG_ADDRESS)
        entry.ap_title = registration.ap_title
        if registration.registration_period > 0:
            entry.period_s = float(registration.registration_period)
        entry.state = HanState.REGISTERED
        entry.last_seen = max(entry.last_seen, now)
        return JoinAccepted(appliance_id, entry.address)

    def seen(self, appliance_id: str, now: float) -> bool:
        """A sign of life from ``appliance_id`` (a re-registration, an answer): False if it is not joined."""
        entry = self.registry.get(appliance_id)
        if entry is None:
            return False
        entry.last_seen = max(entry.last_seen, now)
        return True

    def leave(self, appliance_id: str) -> HanEntry | None:
        """Remove ``appliance_id`` (it left, or the head-end deregistered it); its entry in state LEFT."""
        entry = self.registry.remove(appliance_id)
        if entry is not None:
            entry.state = HanState.LEFT
        return entry

    # -- timers --------------------------------------------------------------------------------------------------
    def poll(self, now: float) -> list[HanEntry]:
        """Drop appliances that have missed ``max_missed`` registration periods; returns them (DROPPED)."""
        dropped: list[HanEntry] = []
        for entry in self.registry:
            if entry.missed(now) >= self.max_missed:
                self.registry.remove(entry.appliance_id)
                entry.state = HanState.DROPPED
                dropped.append(entry)
        if self._window is not None and now >= self._window[1]:
            self._window = None
        return dropped

    def next_timer(self) -> float | None:
        """When `poll` next has work: the window's end or the earliest drop time (s), or None."""
        times = [e.last_seen + self.max_missed * e.period_s for e in self.registry]
        if self._window is not None:
            times.append(self._window[1])
        return min(times) if times else None
