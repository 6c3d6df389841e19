"""Shared pieces of the transport tests: titles, keys, a tiny table store as request handler, and
endpoint builders. Every test runs its coroutine through `run`, bounded by `asyncio.wait_for`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from openami.c1222.aptitle import ApTitle
from openami.c1222.association import Association, AssociationConfig, RequestReceived
from openami.c1222.codes import ResponseCode
from openami.c1222.security import IvSource, KeyStore, ReplayGuard, SecurityMode, constant_time_equal
from openami.c1222.services import (
    ErrorResponse,
    FullRead,
    FullWrite,
    OkResponse,
    PartialReadOffset,
    ReadResponse,
    Request,
    Response,
)
from openami.transport import C1222Endpoint, Clock, ManualClock

T = TypeVar("T")

KEY = bytes.fromhex("01020304050607080102030405060708")  # c12-protocol-facts.md §4 (key id 2)
KEY_ID = 2
HEADEND = ApTitle.parse(".123.4")
METER = ApTitle.parse(".123.8437")
T0 = 1_700_000_000.0  # a wall-clock "now" (seconds since 1970): IVs are time based
PASSWORD = b"PASSWORD"
USER_ID = 2
ST1 = b"ACMEMODEL-7 " + bytes(range(4)) + b"MANUFACTURER SN "  # 32 bytes
LIMIT = 20.0  # seconds any one test may take


def run(coro: Coroutine[Any, Any, T], limit: float = LIMIT) -> T:
    """Run ``coro`` in a fresh event loop, failing after ``limit`` seconds, or if anything reached the
    loop's exception handler (an exception nobody retrieved, a callback that raised)."""
    problems: list[dict[str, Any]] = []

    async def guarded() -> T:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: problems.append(context))
        return await asyncio.wait_for(coro, limit)

    result = asyncio.run(guarded())
    assert not problems, problems
    return result


async def until(predicate: Callable[[], bool], step: float = 0.005) -> None:
    """Poll ``predicate`` (the caller bounds the wait with the test's limit)."""
    while not predicate():
        await asyncio.sleep(step)


def authenticator(user_id: int | None, password: bytes) -> int | None:
    good = user_id == USER_ID and constant_time_equal(password, PASSWORD.ljust(20, b" "))
    return 0x03 if good else None


def config(title: ApTitle, mode: SecurityMode = SecurityMode.CLEARTEXT, **kw: Any) -> AssociationConfig:
    settings: dict[str, Any] = {
        "ap_title": title,
        "keys": KeyStore({KEY_ID: KEY}),
        "key_id": KEY_ID,
        "security_mode": mode,
        "iv_source": IvSource(),
        "replay_guard": ReplayGuard(),
        "authenticator": authenticator,
        "response_timeout": 5.0,
        "retries": 2,
    }
    settings.update(kw)
    return AssociationConfig(**settings)


@dataclass
class TableStore:
    """A few tables as bytes; the application side of a meter endpoint."""

    tables: dict[int, bytearray] = field(default_factory=lambda: {1: bytearray(ST1), 5: bytearray(20)})
    seen: list[RequestReceived] = field(default_factory=list)

    def answer_one(self, request: Request) -> Response:
        table = getattr(request, "table", None)
        if table is not None and table not in self.tables:
            return ErrorResponse(ResponseCode.IAR)
        if isinstance(request, FullRead):
            return ReadResponse(bytes(self.tables[request.table]))
        if isinstance(request, PartialReadOffset):
            data = self.tables[request.table][request.offset : request.offset + request.octet_count]
            return ReadResponse(bytes(data))
        if isinstance(request, FullWrite):
            self.tables[request.table][:] = request.data
            return OkResponse()
        return ErrorResponse(ResponseCode.SNS)

    async def __call__(self, event: RequestReceived) -> Sequence[Response]:
        self.seen.append(event)
        return [self.answer_one(r) for r in event.requests]


def meter(
    mode: SecurityMode = SecurityMode.CLEARTEXT,
    *,
    clock: Clock | None = None,
    store: TableStore | None = None,
    handler: Callable[[RequestReceived], Awaitable[Sequence[Response]]] | None = None,
    **kw: Any,
) -> C1222Endpoint:
    """A meter endpoint answering from ``store`` (a fresh `TableStore` by default)."""
    return C1222Endpoint(
        Association(config(METER, mode, **kw)),
        clock=clock if clock is not None else ManualClock(T0),
        on_request=handler if handler is not None else (store if store is not None else TableStore()),
    )


def headend(
    mode: SecurityMode = SecurityMode.CLEARTEXT, *, title: ApTitle = HEADEND, clock: Clock | None = None, **kw: Any
) -> C1222Endpoint:
    return C1222Endpoint(Association(config(title, mode, **kw)), clock=clock if clock is not None else ManualClock(T0))
