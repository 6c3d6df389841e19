"""Shared pieces of the association tests: keys, titles, a tiny table store and an in-memory pair of
cores (a client and a server) that exchange APDUs without sockets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openami.c1222.aptitle import ApTitle
from openami.c1222.association import (
    Association,
    AssociationConfig,
    Event,
    RequestReceived,
    Transmit,
)
from openami.c1222.codes import ResponseCode
from openami.c1222.security import IvSource, KeyStore, ReplayGuard, SecurityMode, constant_time_equal
from openami.c1222.services import (
    ErrorResponse,
    FullRead,
    FullWrite,
    Identify,
    IdentifyResponse,
    OkResponse,
    PartialReadOffset,
    PartialWriteOffset,
    ReadResponse,
    Request,
    Response,
    SessionCtrlFeature,
)

KEY_A = bytes.fromhex("01020304050607080102030405060708")  # c12-protocol-facts.md §4, V1 / Example 8 (key id 2)
KEY_B = bytes.fromhex("102030405060708090a0b0c0d0e0f000")  # V3's key, used here as a second key
HEADEND = ApTitle.parse(".123.4")  # Example 8's calling title
METER = ApTitle.parse(".123.8437")  # Example 8's called title
T0 = 1_700_000_000.0  # a wall-clock "now" (seconds since 1970): IVs are time based
PASSWORD = b"PASSWORD"
USER_ID = 2
ACCESS = 0x03  # what the in-test authenticator grants
ST1 = b"ACMEMODEL-7 " + bytes(range(4)) + b"MANUFACTURER SN "  # 32 bytes
IDENTIFY_OK = IdentifyResponse(3, 1, 0, (SessionCtrlFeature(4, True),))


def authenticator(user_id: int | None, password: bytes) -> int | None:
    """Accepts user 2 with PASSWORD (blank padded to 20 bytes, as on the wire)."""
    good = user_id == USER_ID and constant_time_equal(password, PASSWORD.ljust(20, b" "))
    return ACCESS if good else None


@dataclass
class TableStore:
    """A few tables as bytes; writes need an authenticated requester."""

    tables: dict[int, bytearray] = field(default_factory=lambda: {1: bytearray(ST1), 5: bytearray(20)})

    def answer(self, event: RequestReceived) -> list[Response]:
        return [self._one(r, event.security.authenticated) for r in event.requests]

    def _one(self, request: Request, authenticated: bool) -> Response:
        if isinstance(request, Identify):
            return IDENTIFY_OK
        table = getattr(request, "table", None)
        if table is not None and table not in self.tables:
            return ErrorResponse(ResponseCode.IAR)
        if isinstance(request, FullRead):
            return ReadResponse(bytes(self.tables[request.table]))
        if isinstance(request, PartialReadOffset):
            data = self.tables[request.table][request.offset : request.offset + request.octet_count]
            return ReadResponse(bytes(data))
        if isinstance(request, FullWrite | PartialWriteOffset):
            if not authenticated:
                return ErrorResponse(ResponseCode.ISC)
            offset = request.offset if isinstance(request, PartialWriteOffset) else 0
            target = self.tables[request.table]
            if offset + len(request.data) > len(target):
                return ErrorResponse(ResponseCode.ONP)
            target[offset : offset + len(request.data)] = request.data
            return OkResponse()
        return ErrorResponse(ResponseCode.SNS)


def config(
    title: ApTitle, mode: SecurityMode = SecurityMode.CLEARTEXT, *, keys: dict[int, bytes] | None = None, **kw: object
) -> AssociationConfig:
    """A config with key 2 = KEY_A (unless ``keys``), default key id 2 and the in-test authenticator."""
    settings: dict[str, object] = {
        "ap_title": title,
        "keys": KeyStore({2: KEY_A} if keys is None else keys),
        "key_id": 2,
        "security_mode": mode,
        "iv_source": IvSource(),
        "replay_guard": ReplayGuard(),
        "authenticator": authenticator,
        "response_timeout": 5.0,
        "retries": 2,
    }
    settings.update(kw)
    return AssociationConfig(**settings)  # type: ignore[arg-type]


@dataclass
class Pair:
    """A head-end client and a meter server talking in memory."""

    client: Association
    server: Association
    store: TableStore = field(default_factory=TableStore)
    server_events: list[Event] = field(default_factory=list)

    @classmethod
    def make(cls, mode: SecurityMode = SecurityMode.CLEARTEXT, **server_kw: Any) -> Pair:
        return cls(Association(config(HEADEND, mode)), Association(config(METER, mode, **server_kw)))

    def serve(self, data: bytes, now: float) -> list[bytes]:
        """The server receives ``data``; the store answers every request. Returns the bytes it sends."""
        out: list[bytes] = []
        events = self.server.receive(data, now)
        self.server_events += events
        for event in events:
            if isinstance(event, RequestReceived):
                answer = self.server.respond(event, self.store.answer(event), now)
                if answer is not None:
                    out.append(answer)
            elif isinstance(event, Transmit):
                out.append(event.data)
        return out

    def call(self, services: Sequence[Request], now: float = T0, **kw: object) -> tuple[int, list[Event]]:
        """One request through the server and back; returns (invocation id, the client's events)."""
        invocation_id, data = self.client.request(METER, services, now=now, **kw)  # type: ignore[arg-type]
        events: list[Event] = []
        for answer in self.serve(data, now):
            events += self.client.receive(answer, now)
        return invocation_id, events
