"""Access control of the meter from its own security tables (ST41–ST46).

- ST42 SECURITY_TBL: each password opens the access groups set in its ACCESS_PERMISSIONS (8 bits).
  The Security service carries 20 octets; a password matches an entry when both are equal after
  trailing blanks and NULs are dropped (so blank- and zero-padded entries both work). Entries that are
  empty after that are unused. Every entry is compared, in constant time
  (`openami.c1222.security.constant_time_equal`); the groups of all matching entries are granted.
- ST44 ACCESS_CONTROL_TBL lists tables (PROC_FLAG clear) and procedures (PROC_FLAG set) with the groups
  that may read (READ_ACCESS) and write / execute (WRITE_ACCESS); ANY_READ / ANY_WRITE open them to
  anyone, anonymous requesters included. What ST44 does not list follows ST43's TABLE_DEFAULT or
  PROCEDURE_DEFAULT. A requester without a password holds no group.
- Reads need at least ``MeterConfig.security.min_read_mode`` and writes / procedures
  ``min_write_mode`` (EPSEM security mode); the C12.18 optical port (``Clearance.local``) has no EPSEM
  and is not held to them.
- ST45 KEY_TBL (else ST46 EXTENDED_KEY_TBL): KEY_ENTRIES indexed by the C12.22 key id; an all-zero key
  is an unused slot. `AccessControl.sync_keys` brings a `KeyStore` (the one the association core
  uses) in line with the table after a write.

The tables are decoded again only when they change (`TableStore.version`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openami.c1218.server import ServerSession
from openami.c1222.association import SecurityContext
from openami.c1222.codes import ResponseCode
from openami.c1222.security import KeyStore, SecurityMode, constant_time_equal
from openami.c1222.services import ErrorResponse, Logon, OkResponse, Request, Response, Security
from openami.meter.tables import TableStore

__all__ = ["ANONYMOUS", "AccessControl", "Clearance", "Rights"]

_WIRE_PASSWORD = 20


@dataclass(frozen=True, slots=True)
class Clearance:
    """What a requester holds: ST42 access ``groups`` (bit n = group n; 0 anonymous), whether a password
    was accepted, the user id to log (0 unknown), the EPSEM security mode of the request, and ``local``
    for the C12.18 optical port (no security-mode minimums)."""

    groups: int = 0
    authenticated: bool = False
    user_id: int = 0
    security_mode: SecurityMode = SecurityMode.CLEARTEXT
    local: bool = False

    @classmethod
    def from_context(cls, context: SecurityContext) -> Clearance:
        """The clearance of a C12.22 request (`RequestReceived.security`)."""
        groups = context.access if context.authenticated and context.access is not None else 0
        return cls(
            groups=groups & 0xFF,
            authenticated=context.authenticated,
            user_id=context.user_id or 0,
            security_mode=context.security_mode,
        )


ANONYMOUS = Clearance()
"""No password, cleartext."""


@dataclass(frozen=True, slots=True)
class Rights:
    """One ST43/ST44 entry: groups that may read / write (execute), and the ANY_READ / ANY_WRITE flags."""

    read_groups: int
    write_groups: int
    any_read: bool
    any_write: bool

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Rights:
        idc = entry["TABLE_IDC"]
        return cls(_groups(entry["READ_ACCESS"]), _groups(entry["WRITE_ACCESS"]), idc["ANY_READ"], idc["ANY_WRITE"])

    def may_read(self, groups: int) -> bool:
        return self.any_read or bool(self.read_groups & groups)

    def may_write(self, groups: int) -> bool:
        return self.any_write or bool(self.write_groups & groups)


def _groups(bits: Mapping[str, Any]) -> int:
    return sum(1 << n for n in range(8) if bits.get(f"GROUP_PERM_{n}"))


def _normal(password: bytes) -> bytes:
    """Trailing blanks / NULs dropped, blank-padded to the Security service's 20 octets."""
    return password.rstrip(b" \0").ljust(_WIRE_PASSWORD, b" ")


@dataclass(frozen=True, slots=True)
class _Tables:
    passwords: tuple[tuple[bytes, int], ...]
    table_default: Rights
    procedure_default: Rights
    tables: Mapping[int, Rights]
    procedures: Mapping[int, Rights]


class AccessControl:
    """Password checks and permissions read from a `TableStore`'s ST42–ST45 (see the module docstring)."""

    def __init__(self, store: TableStore) -> None:
        self.store = store
        self.settings = store.config.security
        self._cache: tuple[tuple[int, ...], _Tables] | None = None

    # -- tables ---------------------------------------------------------------------------------------------
    def _tables(self) -> _Tables:
        store = self.store
        present = [n for n in (42, 43, 44) if n in store.numbers]
        versions = tuple(store.version(n) for n in present)
        if self._cache is not None and self._cache[0] == versions:
            return self._cache[1]
        passwords: tuple[tuple[bytes, int], ...] = ()
        if 42 in store.numbers:
            entries = store.value(42)["SECURITY_ENTRIES"]
            passwords = tuple((bytes(e["PASSWORD"]), _groups(e["ACCESS_PERMISSIONS"])) for e in entries)
        nobody = Rights(0, 0, False, False)
        defaults = store.value(43) if 43 in store.numbers else None
        tables: dict[int, Rights] = {}
        procedures: dict[int, Rights] = {}
        listed: Sequence[Mapping[str, Any]] = store.value(44)["ACCESS_CONTROL"] if 44 in store.numbers else ()
        for entry in listed:
            idc = entry["TABLE_IDC"]
            if idc["STD_VS_MFG_FLAG"]:
                continue  # no manufacturer tables or procedures on this meter
            target = procedures if idc["PROC_FLAG"] else tables
            target.setdefault(idc["TBL_PROC_NBR"], Rights.from_entry(entry))
        found = _Tables(
            passwords=passwords,
            table_default=Rights.from_entry(defaults["TABLE_DEFAULT"]) if defaults else nobody,
            procedure_default=Rights.from_entry(defaults["PROCEDURE_DEFAULT"]) if defaults else nobody,
            tables=tables,
            procedures=procedures,
        )
        self._cache = (versions, found)
        return found

    # -- passwords -----------------------------------------------------------------------------------------
    def authenticate(self, password: bytes) -> int | None:
        """The access groups ``password`` (the Security service's 20 octets) opens, or None."""
        wire = _normal(bytes(password))
        granted: int | None = None
        for stored, groups in self._tables().passwords:
            used = bool(stored.rstrip(b" \0"))
            if constant_time_equal(_normal(stored), wire) and used:
                granted = (granted or 0) | groups
        return granted

    def authenticator(self, user_id: int | None, password: bytes) -> int | None:
        """`openami.c1222.association.Authenticator`: the groups, or None to refuse (user id not checked:
        ST42 has no user ids; it is logged with the events)."""
        return self.authenticate(password)

    def authorize(self, request: Request, session: ServerSession) -> Response:
        """`openami.c1218.server.Authorizer`: Logon is accepted, Security needs a password of ST42 (ERR)."""
        if isinstance(request, Logon):
            return OkResponse()
        if isinstance(request, Security) and self.authenticate(request.password) is not None:
            return OkResponse()
        return ErrorResponse(ResponseCode.ERR)

    def clearance_c1218(self, session: ServerSession) -> Clearance:
        """The clearance of a C12.18 optical-port session (from its accepted Security password)."""
        groups = self.authenticate(session.password) if session.password is not None else None
        return Clearance(groups=groups or 0, authenticated=groups is not None, user_id=session.user_id or 0, local=True)

    # -- permissions ----------------------------------------------------------------------------------------
    def _mode_ok(self, clearance: Clearance, write: bool) -> bool:
        if clearance.local:
            return True
        least = self.settings.min_write_mode if write else self.settings.min_read_mode
        return clearance.security_mode >= least

    def table_rights(self, number: int) -> Rights:
        found = self._tables()
        return found.tables.get(number, found.table_default)

    def procedure_rights(self, number: int) -> Rights:
        found = self._tables()
        return found.procedures.get(number, found.procedure_default)

    def may_read(self, number: int, clearance: Clearance) -> bool:
        """Whether ``clearance`` may read table ``number``."""
        return self._mode_ok(clearance, False) and self.table_rights(number).may_read(clearance.groups)

    def may_write(self, number: int, clearance: Clearance) -> bool:
        """Whether ``clearance`` may write table ``number`` (ST0 writability is the store's check)."""
        return self._mode_ok(clearance, True) and self.table_rights(number).may_write(clearance.groups)

    def may_execute(self, procedure: int, clearance: Clearance) -> bool:
        """Whether ``clearance`` may run standard procedure ``procedure``."""
        return self._mode_ok(clearance, True) and self.procedure_rights(procedure).may_write(clearance.groups)

    # -- keys -----------------------------------------------------------------------------------------------
    def keys(self) -> dict[int, bytes]:
        """Key id → key from ST45 (else ST46); all-zero slots left out."""
        store = self.store
        number = 45 if 45 in store.numbers else 46 if 46 in store.numbers else None
        if number is None:
            return {}
        entries = store.value(number)["KEY_ENTRIES"]
        return {key_id: bytes(e["KEY"]) for key_id, e in enumerate(entries) if any(e["KEY"])}

    def key_store(self) -> KeyStore:
        """A new `KeyStore` holding the table's keys (for `AssociationConfig.keys`)."""
        return KeyStore(self.keys())

    def sync_keys(self, keys: KeyStore) -> None:
        """Make ``keys`` hold exactly the table's keys (call after ST45/ST46 is written)."""
        wanted = self.keys()
        for key_id in keys.key_ids():
            if key_id not in wanted:
                keys.remove(key_id)
        for key_id, key in wanted.items():
            keys.set(key_id, key)
