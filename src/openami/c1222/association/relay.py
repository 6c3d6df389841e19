"""A minimal C12.22 relay: route an APDU by its called ApTitle and pass its bytes on unchanged.

A meter relays for the appliances of its HAN: a message whose called title (A2) is one of its
routes goes to that route's next hop, byte for byte (MAC, IV and invocation ids untouched, so the
end points verify each other). Decisions, per received APDU:

- called title absent, or one of ``own`` → `Deliver` (feed it to the node's own `Association`);
- called title in the routing table and reachable → `Forward` to its hop;
- in the table but marked unreachable → `Reject` with NETR (network not reachable);
- unknown, with a default route → `Forward` to the default hop (e.g. a meter sends its appliances'
  responses up to the head-end), else `Reject` with UAT (unknown application title);
- bytes that are not an APDU → `Drop`.

A `Reject` of a request carries ``answer``: a response APDU for the sender with one service, the
error code. Its called title is the request's calling title, its calling title the request's called
title (the relay answers on behalf of the unknown or unreachable node, so the sender's
titles-swapped check passes — our choice, the public sources do not say), A4 = the request's A8 and
A8 from the relay's own counter. It is sealed in the request's security mode with a fresh IV when the
relay holds the request's key id (``keys`` + ``iv_source``), else sent in cleartext (a careful
client then refuses it and times out). A rejected response (A4 present) is not answered.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from openami.c1222.acse import C1222Auth, Message
from openami.c1222.aptitle import C1222_BASE, ApTitle
from openami.c1222.codes import ResponseCode
from openami.c1222.epsem import EpsemControl
from openami.c1222.security import IvSource, KeyStore, SecurityMode
from openami.c1222.services import ErrorResponse
from openami.errors import LocalProtocolError, ProtocolError

from .core import MAX_INVOCATION_ID
from .wire import build_apdu, title_key

__all__ = ["Deliver", "Drop", "Forward", "Reject", "Relay", "RelayDecision"]

H = TypeVar("H", bound=Hashable)

Buf = bytes | bytearray | memoryview


@dataclass(frozen=True, kw_only=True)
class Forward(Generic[H]):
    """Send ``data`` (unchanged) to ``hop``."""

    hop: H
    data: bytes
    called: ApTitle


@dataclass(frozen=True, kw_only=True)
class Deliver:
    """The message is for this node: give ``data`` to its own association core."""

    data: bytes


@dataclass(frozen=True, kw_only=True)
class Reject:
    """Not forwarded: ``code`` is UAT or NETR; ``answer`` is the error response to send back to the
    sender (None when the rejected message was itself a response or lacks A6/A8)."""

    code: ResponseCode
    called: ApTitle
    answer: bytes | None


@dataclass(frozen=True, kw_only=True)
class Drop:
    """Bytes that are not a C12.22 APDU (``detail`` says why)."""

    detail: str


RelayDecision = Forward[H] | Deliver | Reject | Drop


@dataclass
class _Route(Generic[H]):
    hop: H
    reachable: bool = True


class Relay(Generic[H]):
    """Routing table: called ApTitle → next hop (any hashable: a HAN address, a link id, ...)."""

    def __init__(
        self,
        own: ApTitle | Iterable[ApTitle],
        *,
        default_route: H | None = None,
        base: ApTitle = C1222_BASE,
        keys: KeyStore | None = None,
        iv_source: IvSource | None = None,
        first_invocation_id: int = 1,
    ) -> None:
        titles = (own,) if isinstance(own, ApTitle) else tuple(own)
        if base.relative:
            raise LocalProtocolError("the base of relative ApTitles must be absolute")
        if not 0 <= first_invocation_id <= MAX_INVOCATION_ID:
            raise LocalProtocolError(f"invocation id must be 0..{MAX_INVOCATION_ID}, got {first_invocation_id}")
        self._base = base
        self._own_keys = frozenset(title_key(t, base) for t in titles)
        self._own = titles
        self._routes: dict[str, _Route[H]] = {}
        self.default_route = default_route
        self._keys = keys
        self._iv_source = iv_source
        self._next_id = first_invocation_id

    def add_route(self, title: ApTitle, hop: H, *, reachable: bool = True) -> None:
        """Route messages called ``title`` to ``hop`` (replacing any previous route)."""
        self._routes[title_key(title, self._base)] = _Route(hop, reachable)

    def remove_route(self, title: ApTitle) -> None:
        """Forget ``title``'s route (messages for it then take the default route or get UAT)."""
        if self._routes.pop(title_key(title, self._base), None) is None:
            raise LocalProtocolError(f"no route for {title}")

    def set_reachable(self, title: ApTitle, reachable: bool) -> None:
        """Mark ``title``'s route up or down (down: NETR)."""
        route = self._routes.get(title_key(title, self._base))
        if route is None:
            raise LocalProtocolError(f"no route for {title}")
        route.reachable = reachable

    def hop(self, title: ApTitle) -> H | None:
        """The hop of ``title``'s route, or None."""
        route = self._routes.get(title_key(title, self._base))
        return None if route is None else route.hop

    def route(self, data: Buf, now: float) -> RelayDecision[H]:
        """Decide what to do with one received APDU (see the module docstring); ``now`` (seconds) is
        only used for the IV of a sealed error answer."""
        raw = bytes(data)
        try:
            message = Message.decode(raw)
        except ProtocolError as exc:
            return Drop(detail=f"malformed APDU: {exc}")
        called = message.called
        if called is None or title_key(called, self._base) in self._own_keys:
            return Deliver(data=raw)
        route = self._routes.get(title_key(called, self._base))
        if route is not None and route.reachable:
            return Forward(hop=route.hop, data=raw, called=called)
        if route is None and self.default_route is not None:
            return Forward(hop=self.default_route, data=raw, called=called)
        code = ResponseCode.NETR if route is not None else ResponseCode.UAT
        return Reject(code=code, called=called, answer=self._answer(message, code, now))

    def _answer(self, message: Message, code: ResponseCode, now: float) -> bytes | None:
        calling, called, invocation_id = message.calling, message.called, message.calling_invocation_id
        if message.called_invocation_id is not None or calling is None or called is None or invocation_id is None:
            return None
        try:
            mode = EpsemControl.decode(message.user_information[0]).security_mode
        except ProtocolError:
            mode = SecurityMode.CLEARTEXT
        auth = message.auth
        key_id = auth.key_id if isinstance(auth, C1222Auth) else None
        keys = self._keys if self._keys is not None else KeyStore()
        sealable = key_id is not None and key_id in keys and self._iv_source is not None
        if mode is not SecurityMode.CLEARTEXT and not sealable:
            mode = SecurityMode.CLEARTEXT
        secured = mode is not SecurityMode.CLEARTEXT
        iv = self._iv_source.next_iv(now) if secured and self._iv_source is not None else None
        own_id = self._next_id
        self._next_id = 0 if own_id >= MAX_INVOCATION_ID else own_id + 1
        return build_apdu(
            called=calling,
            calling=called,
            calling_invocation_id=own_id,
            called_invocation_id=invocation_id,
            services=[ErrorResponse(code).encode()],
            control=EpsemControl(security_mode=mode),
            keys=keys,
            key_id=key_id if secured else None,
            iv=iv,
            base=self._base,
        )
