"""Hypothesis strategies for every request and response type of `openami.c1222.services`."""

from __future__ import annotations

from hypothesis import strategies as st

from openami.c1222.aptitle import ApTitle
from openami.c1222.codes import ResponseCode
from openami.c1222.services import (
    Authenticate,
    AuthenticateResponse,
    ConnectionType,
    DefaultRead,
    DefaultWrite,
    Deregistration,
    DeviceClassFeature,
    DeviceIdentityFeature,
    Disconnect,
    ErrorResponse,
    FullRead,
    FullWrite,
    Identify,
    IdentifyResponse,
    Logoff,
    Logon,
    LogonResponse,
    Negotiate,
    NegotiateResponse,
    NodeType,
    OkResponse,
    PartialReadIndex,
    PartialReadOffset,
    PartialWriteIndex,
    PartialWriteOffset,
    ReadRequest,
    ReadResponse,
    RegInfo,
    Registration,
    RegistrationResponse,
    Request,
    Resolve,
    ResolveResponse,
    Response,
    Security,
    SecurityMechanismFeature,
    SessionCtrlFeature,
    Terminate,
    TimingSetup,
    TimingSetupResponse,
    Trace,
    TraceResponse,
    Wait,
)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u24 = st.integers(0, 0xFFFFFF)
table_ids = u16
table_data = st.binary(max_size=300)
arc = st.integers(0, 2**40)


def _absolute_arcs() -> st.SearchStrategy[tuple[int, ...]]:
    head = st.one_of(
        st.tuples(st.integers(0, 1), st.integers(0, 39)),
        st.tuples(st.just(2), arc),
    )
    return st.tuples(head, st.lists(arc, max_size=8)).map(lambda p: (*p[0], *p[1]))


aptitles: st.SearchStrategy[ApTitle] = st.one_of(
    _absolute_arcs().map(lambda arcs: ApTitle(arcs, False)),
    st.lists(arc, min_size=1, max_size=8).map(lambda arcs: ApTitle(tuple(arcs), True)),
)

indices = st.lists(u16, min_size=1, max_size=9).map(tuple)

requests_by_type: dict[type[Request], st.SearchStrategy[Request]] = {
    Identify: st.just(Identify()),
    Terminate: st.just(Terminate()),
    Disconnect: st.just(Disconnect()),
    Logoff: st.just(Logoff()),
    DefaultRead: st.just(DefaultRead()),
    Deregistration: st.builds(Deregistration, aptitles),
    Resolve: st.builds(Resolve, aptitles),
    Trace: st.builds(Trace, aptitles),
    Registration: st.builds(
        Registration,
        u8.map(lambda b: NodeType(b & 0x7F)),
        u8.map(ConnectionType),
        st.binary(min_size=4, max_size=4),
        aptitles,
        aptitles,
        st.binary(max_size=255),
        u24,
        st.none() | st.binary(max_size=255),
    ),
    FullRead: st.builds(FullRead, table_ids),
    PartialReadIndex: st.builds(PartialReadIndex, table_ids, indices, u16),
    PartialReadOffset: st.builds(PartialReadOffset, table_ids, u24, u16),
    FullWrite: st.builds(FullWrite, table_ids, table_data),
    PartialWriteIndex: st.builds(PartialWriteIndex, table_ids, indices, table_data),
    DefaultWrite: st.builds(DefaultWrite, table_data),
    PartialWriteOffset: st.builds(PartialWriteOffset, table_ids, u24, table_data),
    Logon: st.builds(Logon, u16, st.binary(max_size=10), st.none() | u16),
    Security: st.builds(Security, st.binary(max_size=20), st.none() | u16),
    Authenticate: st.builds(Authenticate, st.binary(max_size=255)),
    Negotiate: st.builds(Negotiate, u16, u8, st.lists(u8, max_size=11).map(tuple)),
    Wait: st.builds(Wait, u8),
    TimingSetup: st.builds(TimingSetup, u8, u8, u8, u8),
}

requests: st.SearchStrategy[Request] = st.one_of(*requests_by_type.values())

features = st.one_of(
    st.builds(SecurityMechanismFeature, aptitles),
    st.builds(SessionCtrlFeature, st.integers(0, 127), st.booleans()),
    st.builds(DeviceClassFeature, aptitles),
    st.builds(DeviceIdentityFeature, u8, st.binary(max_size=254)),
)

_ERROR_CODES = [c for c in ResponseCode if c not in (ResponseCode.OK,)]


def error_responses(request: Request) -> st.SearchStrategy[Response]:
    """Every error response the decoder accepts for ``request``."""
    plain = st.sampled_from([c for c in _ERROR_CODES if c not in (ResponseCode.RQTL, ResponseCode.RSTL)]).map(
        lambda c: ErrorResponse(c)
    )
    sized = st.builds(
        ErrorResponse.too_large, st.sampled_from([ResponseCode.RQTL, ResponseCode.RSTL]), st.integers(0, 2**32 - 1)
    )
    sgerr = st.binary(max_size=16).map(lambda b: ErrorResponse(ResponseCode.SGERR, b))
    options: list[st.SearchStrategy[Response]] = [plain, sized, sgerr]
    if isinstance(request, Trace):
        titles = st.lists(aptitles, max_size=3).map(lambda ts: TraceResponse(tuple(ts)).encode()[1:] if ts else b"")
        options.append(
            st.tuples(st.sampled_from([ResponseCode.NETR, ResponseCode.NETT, ResponseCode.UAT]), titles).map(
                lambda p: ErrorResponse(p[0], p[1])
            )
        )
    return st.one_of(*options)


def ok_responses(request: Request) -> st.SearchStrategy[Response]:
    """Every ok response the decoder can return for ``request``."""
    if isinstance(request, ReadRequest):
        return st.builds(ReadResponse, table_data)
    if isinstance(request, Identify):
        return st.builds(IdentifyResponse, u8, u8, u8, st.lists(features, max_size=6).map(tuple))
    if isinstance(request, Logon):
        return st.just(OkResponse()) | st.builds(LogonResponse, u16)
    if isinstance(request, Authenticate):
        return st.just(OkResponse()) | st.builds(AuthenticateResponse, st.binary(max_size=255))
    if isinstance(request, TimingSetup):
        return st.just(OkResponse()) | st.builds(TimingSetupResponse, u8, u8, u8, u8)
    if isinstance(request, Negotiate):
        return st.builds(NegotiateResponse, u16, u8, u8)
    if isinstance(request, Registration):
        return st.builds(RegistrationResponse, aptitles, u16, u24, u8.map(RegInfo))
    if isinstance(request, Resolve):
        return st.builds(ResolveResponse, st.binary(max_size=255))
    if isinstance(request, Trace):
        return st.lists(aptitles, min_size=1, max_size=4).map(lambda ts: TraceResponse(tuple(ts)))
    return st.just(OkResponse())


def responses(request: Request) -> st.SearchStrategy[Response]:
    return ok_responses(request) | error_responses(request)


exchanges: st.SearchStrategy[tuple[Request, Response]] = requests.flatmap(lambda r: st.tuples(st.just(r), responses(r)))
"""A request and one response the decoder accepts for it."""
