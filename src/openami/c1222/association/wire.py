"""Building the APDUs the core sends, and small helpers on titles and service codes.

An outgoing message, elements in wire order (c12-protocol-facts.md §1)::

    60 L [A1 application context] A2 called [A4 called-invocation-id (responses: the request's A8)]
         A6 calling A8 calling-invocation-id [AC key-id + IV, modes 1/2]
         BE L 28 L 81 L <EPSEM: control [ED class:4] {len service}+ [MAC:4]>

The AC element (``AC 0F A2 0D A0 0B A1 09 80 01 <key-id> 81 04 <iv>``) is sent in every secured
message, so a peer never needs session-held key material to verify us. Sealing is `protect.seal`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from openami.c1222 import protect
from openami.c1222.acse import AeQualifier, C1222Auth, Message
from openami.c1222.aptitle import C1222_APPLICATION_CONTEXT, ApTitle
from openami.c1222.codes import RESPONSE_CODE_MAX, ResponseCode
from openami.c1222.epsem import EpsemControl, encode_epsem_body
from openami.c1222.security import KeyStore, SecurityMode
from openami.c1222.services import ErrorResponse, OkResponse, Request, Response, Security, decode_response
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "build_apdu",
    "carried_iv",
    "classify_services",
    "decode_responses",
    "fit_response",
    "same_title",
    "title_key",
]


def title_key(title: ApTitle, base: ApTitle) -> str:
    """A hashable name for ``title`` that ignores the relative/absolute form (dotted absolute OID)."""
    return str(title.absolute(base))


def same_title(a: ApTitle | None, b: ApTitle | None, base: ApTitle) -> bool:
    """True when both titles are present and name the same OID once made absolute under ``base``."""
    return a is not None and b is not None and a.absolute(base) == b.absolute(base)


def classify_services(services: Sequence[bytes]) -> bool:
    """True if the services are responses (codes 0x00–0x1F), False if requests (0x20–0xFF); a mix
    raises `RemoteProtocolError`."""
    kinds = {service[0] <= RESPONSE_CODE_MAX for service in services}
    if len(kinds) != 1:
        raise RemoteProtocolError("EPSEM mixes request and response services")
    return kinds.pop()


def build_apdu(
    *,
    called: ApTitle,
    calling: ApTitle,
    calling_invocation_id: int,
    services: Sequence[bytes],
    control: EpsemControl,
    keys: KeyStore,
    key_id: int | None = None,
    iv: bytes | None = None,
    called_invocation_id: int | None = None,
    ed_class: bytes | None = None,
    ae_qualifier: AeQualifier | None = None,
    application_context: bool = False,
    base: ApTitle,
) -> bytes:
    """One sealed APDU. In modes 1/2 ``key_id`` must name a key in ``keys`` and ``iv`` be 4 bytes;
    ``control.ed_class_included`` must agree with ``ed_class``. Raises `LocalProtocolError`."""
    secured = control.security_mode is not SecurityMode.CLEARTEXT
    auth: C1222Auth | None = None
    key = None
    if secured:
        if key_id is None or iv is None:
            raise LocalProtocolError("a secured message needs a key id and an IV")
        key = keys.cipher(key_id)
        auth = C1222Auth(key_id=key_id, iv=iv)
    message = Message(
        application_context=C1222_APPLICATION_CONTEXT if application_context else None,
        called=called,
        called_invocation_id=called_invocation_id,
        calling=calling,
        calling_ae_qualifier=ae_qualifier,
        calling_invocation_id=calling_invocation_id,
        auth=auth,
        user_information=control.encode() + encode_epsem_body(ed_class, services),
    )
    return protect.seal(message, key, base=base)


def fit_response(build: Callable[[Sequence[Response]], bytes], responses: Sequence[Response], max_size: int) -> bytes:
    """``build(responses)``, or, while the APDU exceeds ``max_size`` bytes, the same with the largest
    remaining responses replaced by RSTL carrying ``max_size`` (response too large, max size:4)."""
    current = list(responses)
    rstl = ErrorResponse.too_large(ResponseCode.RSTL, min(max_size, 0xFFFFFFFF))
    while True:
        data = build(current)
        if len(data) <= max_size:
            return data
        candidates = [i for i, r in enumerate(current) if r != rstl]
        if not candidates:
            raise LocalProtocolError(f"even an all-RSTL response exceeds the {max_size}-byte APDU limit")
        largest = max(candidates, key=lambda i: len(current[i].encode()))
        current[largest] = rstl


def carried_iv(message: Message) -> bytes | None:
    """The IV the message itself carries in its AC (None if it relies on session values)."""
    return message.auth.iv if isinstance(message.auth, C1222Auth) else None


def decode_responses(bodies: Sequence[bytes], requests: Sequence[Request]) -> tuple[Response, ...]:
    """Pair response bodies with the requests they answer: one per request, in order, except
    (a) fewer, if the last one given is an error (the peer stopped there); (b) a Security followed by
    other services may be answered by omission (the standard's Example 8): when exactly those are
    missing they count as ok (`OkResponse`). Raises `RemoteProtocolError` otherwise."""
    implied = [i for i, r in enumerate(requests[:-1]) if isinstance(r, Security)]
    if implied and len(bodies) == len(requests) - len(implied):
        rest = iter(bodies)
        return tuple(OkResponse() if i in implied else decode_response(next(rest), r) for i, r in enumerate(requests))
    if len(bodies) > len(requests):
        raise RemoteProtocolError(f"{len(bodies)} responses to {len(requests)} requests")
    responses = tuple(decode_response(body, req) for body, req in zip(bodies, requests, strict=False))
    if len(responses) < len(requests) and responses[-1].ok:
        raise RemoteProtocolError(f"{len(responses)} responses to {len(requests)} requests, the last one ok")
    return responses
