"""Access control from ST42–ST44 and keys from ST45: passwords open groups, groups open tables and
procedures, anonymous requesters get what ST43/ST44 give anyone; the tables can be rewritten and the
rules follow; the C12.18 optical port runs through the same checks."""

from __future__ import annotations

import random
from typing import Any

import pytest

from openami.c1218 import LinkConfig
from openami.c1218.client import PsemClient
from openami.c1218.server import PsemServer, ServerSession
from openami.c1219.procedures import ProcedureRequest, ProcedureResponse, RemoteResetParams, ResultCode
from openami.c1222.association import Envelope, SecurityContext
from openami.c1222.codes import ResponseCode
from openami.c1222.epsem import EpsemControl
from openami.c1222.security import KeyStore, SecurityMode
from openami.c1222.services import (
    ErrorResponse,
    FullRead,
    FullWrite,
    Logon,
    OkResponse,
    PartialWriteOffset,
    ReadResponse,
    Security,
)
from openami.meter.access import ANONYMOUS, AccessControl, Clearance
from openami.meter.config import (
    GROUP_MASTER,
    GROUP_OPERATE,
    GROUP_PROGRAM,
    GROUP_READ,
    Key,
    MeterConfig,
    Password,
    Permission,
    SecuritySettings,
)
from openami.meter.tables import TableStore

from ..c1218.harness import Wire
from ..c1218.test_psem import Line
from .test_procedures import MASTER, PROGRAMMER, READER, FakeMeter, T, meter

KEY_A = bytes.fromhex("01020304050607080102030405060708")  # c12-protocol-facts.md §4 (V1, key id 2)
KEY_B = bytes.fromhex("102030405060708090a0b0c0d0e0f000")  # §4 V3's key


def wire(password: bytes) -> bytes:
    """The Security service's 20-octet password field (blank padded)."""
    return Security(password).password


# -- passwords -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "groups"),
    [
        (b"READER", GROUP_READ),
        (b"OPERATOR", GROUP_READ | GROUP_OPERATE),
        (b"PROGRAMMER", GROUP_READ | GROUP_PROGRAM),
        (b"MASTER", 0xFF),
        (b"master", None),
        (b"READER2", None),
        (b"", None),
        (b"READE", None),
    ],
)
def test_passwords_open_their_groups(password: bytes, groups: int | None) -> None:
    access = AccessControl(TableStore(MeterConfig()))
    assert access.authenticate(wire(password)) == groups
    assert access.authenticator(2, wire(password)) == groups
    assert access.authenticate(password.ljust(20, b"\0")) == groups  # zero padding reads the same


def test_zero_padded_and_shared_entries() -> None:
    settings = SecuritySettings(
        passwords=(Password(b"PW\0\0", GROUP_READ), Password(b"PW", GROUP_PROGRAM)), password_len=8
    )
    access = AccessControl(TableStore(MeterConfig(security=settings)))
    assert access.authenticate(wire(b"PW")) == GROUP_READ | GROUP_PROGRAM  # both entries match
    assert access.authenticate(wire(b"PW" + b"X" * 8)) is None  # longer than PASSWORD_LEN


def test_a_password_change_through_st42_takes_effect() -> None:
    responder, _ = meter()
    store = responder.store
    layout = store.layout(42)
    entries = store.value(42)
    entries["SECURITY_ENTRIES"][0]["PASSWORD"] = b"NEWREAD".ljust(20)
    assert responder.answer(FullWrite(42, layout.encode(entries)), MASTER, T) == OkResponse()
    assert responder.access.authenticate(wire(b"READER")) is None
    assert responder.access.authenticate(wire(b"NEWREAD")) == GROUP_READ
    # blanking an entry disables it
    entries["SECURITY_ENTRIES"][0]["PASSWORD"] = bytes(20)
    assert responder.answer(FullWrite(42, layout.encode(entries)), MASTER, T) == OkResponse()
    assert responder.access.authenticate(wire(b"")) is None


# -- the matrix ----------------------------------------------------------------------------------------------
ANON = ANONYMOUS
OPERATOR = Clearance(groups=GROUP_READ | GROUP_OPERATE, authenticated=True)

MATRIX = [
    # (clearance, table, may read, may write)
    (ANON, 23, True, False),
    (ANON, 6, True, False),
    (ANON, 42, False, False),
    (ANON, 45, False, False),
    (READER, 23, True, False),
    (READER, 6, True, False),
    (READER, 42, False, False),
    (READER, 7, True, False),
    (OPERATOR, 7, True, True),
    (OPERATOR, 6, True, False),
    (PROGRAMMER, 6, True, True),
    (PROGRAMMER, 42, False, False),
    (MASTER, 6, True, True),
    (MASTER, 42, True, True),
    (MASTER, 45, True, True),
    (MASTER, 44, True, True),
]


@pytest.mark.parametrize(("clearance", "table", "may_read", "may_write"), MATRIX)
def test_access_matrix(clearance: Clearance, table: int, may_read: bool, may_write: bool) -> None:
    responder, _ = meter(MeterConfig(security=SecuritySettings(keys=(Key(2, KEY_A),))))
    read = responder.answer(FullRead(table), clearance, T)
    assert isinstance(read, ReadResponse) == may_read
    if not may_read:
        assert read == ErrorResponse(ResponseCode.ISC)
    data = responder.store.get(table)
    write = responder.answer(FullWrite(table, data), clearance, T)
    if table in responder.config.writable:  # (ST7: rewriting it runs the procedure named in it)
        assert write == (OkResponse() if may_write else ErrorResponse(ResponseCode.ISC))
    else:
        assert write == ErrorResponse(ResponseCode.IAR)  # read-only for everybody, master included


def test_master_can_do_everything_the_configuration_allows() -> None:
    responder, _ = meter(MeterConfig(security=SecuritySettings(keys=(Key(2, KEY_A),))))
    for number in sorted(responder.store.numbers):
        assert isinstance(responder.answer(FullRead(number), MASTER, T), ReadResponse), number
    for number in sorted(responder.config.writable - {7}):
        assert responder.answer(FullWrite(number, responder.store.get(number)), MASTER, T) == OkResponse(), number
    for procedure in sorted(responder.config.procedures):
        rights = responder.access.procedure_rights(procedure)
        assert rights.may_write(MASTER.groups), procedure


def test_st44_rewritten_gives_a_reader_write_access() -> None:
    responder, _ = meter()
    data = responder.store.get(6)
    assert responder.answer(FullWrite(6, data), READER, T) == ErrorResponse(ResponseCode.ISC)
    layout = responder.store.layout(44)
    acl = responder.store.value(44)
    entry = acl["ACCESS_CONTROL"][0]  # ST7's entry becomes ST6's, writable by group 0
    entry["TABLE_IDC"]["TBL_PROC_NBR"] = 6
    entry["WRITE_ACCESS"]["GROUP_PERM_0"] = True
    assert responder.answer(FullWrite(44, layout.encode(acl)), MASTER, T) == OkResponse()
    assert responder.answer(FullWrite(6, data), READER, T) == OkResponse()


def test_anonymous_gets_what_st43_gives_anyone() -> None:
    closed = Permission(0, any_read=False, read_groups=GROUP_READ | GROUP_MASTER, write_groups=GROUP_MASTER)
    responder, _ = meter(MeterConfig(security=SecuritySettings(table_default=closed)))
    assert responder.answer(FullRead(23), ANON, T) == ErrorResponse(ResponseCode.ISC)
    assert isinstance(responder.answer(FullRead(23), READER, T), ReadResponse)
    assert isinstance(responder.answer(FullRead(43), ANON, T), ReadResponse)  # ST44 lists ST43 as ANY_READ
    opened = Permission(0, any_read=True, any_write=True)
    responder, _ = meter(MeterConfig(security=SecuritySettings(table_default=opened)))
    assert responder.answer(FullWrite(6, responder.store.get(6)), ANON, T) == OkResponse()
    assert responder.answer(FullWrite(1, responder.store.get(1)), ANON, T) == ErrorResponse(ResponseCode.IAR)


def test_security_mode_minimums() -> None:
    settings = SecuritySettings(min_read_mode=SecurityMode.AUTHENTICATED, min_write_mode=SecurityMode.ENCRYPTED)
    responder, _ = meter(MeterConfig(security=settings))
    clear = MASTER
    signed = Clearance(groups=0xFF, authenticated=True, security_mode=SecurityMode.AUTHENTICATED)
    sealed = Clearance(groups=0xFF, authenticated=True, security_mode=SecurityMode.ENCRYPTED)
    optical = Clearance(groups=0xFF, authenticated=True, local=True)
    assert responder.answer(FullRead(1), clear, T) == ErrorResponse(ResponseCode.ISC)
    assert isinstance(responder.answer(FullRead(1), signed, T), ReadResponse)
    data = responder.store.get(6)
    assert responder.answer(FullWrite(6, data), signed, T) == ErrorResponse(ResponseCode.ISC)
    assert responder.answer(FullWrite(6, data), sealed, T) == OkResponse()
    assert responder.answer(FullWrite(6, data), optical, T) == OkResponse()


def test_clearance_from_a_c1222_security_context() -> None:
    envelope = Envelope(message=None, control=EpsemControl(security_mode=SecurityMode.ENCRYPTED))  # type: ignore[arg-type]
    context = SecurityContext(envelope=envelope, user_id=9, authenticated=True, access=GROUP_PROGRAM)
    assert Clearance.from_context(context) == Clearance(GROUP_PROGRAM, True, 9, SecurityMode.ENCRYPTED)
    anonymous = SecurityContext(envelope=envelope, access=None)
    assert Clearance.from_context(anonymous).groups == 0


# -- keys ----------------------------------------------------------------------------------------------------
def test_keys_come_from_st45_and_follow_writes() -> None:
    config = MeterConfig(security=SecuritySettings(keys=(Key(2, KEY_A), Key(4, KEY_B))))
    responder, _ = meter(config)
    assert responder.access.keys() == {2: KEY_A, 4: KEY_B}
    assert responder.keys.key_ids() == (2, 4)
    st45 = responder.store.value(45)
    assert len(st45["KEY_ENTRIES"]) == 5 and st45["KEY_ENTRIES"][0]["KEY"] == bytes(16)
    st45["KEY_ENTRIES"][2]["KEY"] = bytes(16)  # retire key 2
    st45["KEY_ENTRIES"][3]["KEY"] = KEY_B[::-1]  # add key 3
    data = responder.store.layout(45).encode(st45)
    assert responder.answer(FullWrite(45, data), PROGRAMMER, T) == ErrorResponse(ResponseCode.ISC)
    assert responder.answer(FullWrite(45, data), MASTER, T) == OkResponse()
    assert responder.keys.key_ids() == (3, 4)
    fresh = KeyStore({9: KEY_A})
    responder.access.sync_keys(fresh)
    assert fresh.key_ids() == (3, 4)


# -- C12.18 --------------------------------------------------------------------------------------------------
def test_c1218_authorizer() -> None:
    responder, _ = meter()
    session = ServerSession()
    assert responder.access.authorize(Logon(2, b"ANYONE"), session) == OkResponse()
    assert responder.access.authorize(Security(b"OPERATOR"), session) == OkResponse()
    assert responder.access.authorize(Security(b"WRONG"), session) == ErrorResponse(ResponseCode.ERR)
    logged = ServerSession(user_id=5, password=wire(b"PROGRAMMER"))
    assert responder.access.clearance_c1218(logged) == Clearance(GROUP_READ | GROUP_PROGRAM, True, 5, local=True)


def optical_session(password: bytes, requests: list[Any]) -> tuple[list[Any], FakeMeter]:
    responder, live = meter()
    server = PsemServer(
        LinkConfig(baud_rate=9600, channel_traffic_timeout=6.0),
        responder.c1218_handler,
        authorize=responder.access.authorize,
    )
    line = Line(PsemClient(LinkConfig(baud_rate=9600)), server, Wire(random.Random(1)))
    client = line.client
    line.send(client.identify(line.now))
    line.send(client.negotiate(256, 4, (6,), line.now))
    line.send(client.logon(3, b"FIELD", line.now))
    line.send(client.security(password, line.now))
    for request in requests:
        line.send(client.request(request, line.now))
    line.run()
    return [response for _, response in line.responses()][4:], live


def test_c1218_session_reads_writes_and_runs_a_procedure() -> None:
    reset = ProcedureRequest(9, seq_nbr=3, params=RemoteResetParams(demand_reset=True).encode())
    answers, live = optical_session(
        b"OPERATOR", [FullRead(1), FullWrite(7, reset.encode()), FullRead(8), PartialWriteOffset(6, 0, b"AB")]
    )
    assert isinstance(answers[0], ReadResponse) and answers[0].data[:4] == b"OAMI"
    assert answers[1] == OkResponse()
    assert isinstance(answers[2], ReadResponse)
    assert ProcedureResponse.decode(answers[2].data).result == ResultCode.COMPLETED
    assert live.resets == 1 and live.log[-1].user_id == 3
    assert answers[3] == ErrorResponse(ResponseCode.ISC)  # the operator may not program ST6


def test_c1218_wrong_password_leaves_the_session_anonymous() -> None:
    answers, live = optical_session(b"GUESS", [FullRead(1), FullWrite(7, ProcedureRequest(7).encode())])
    assert isinstance(answers[0], ReadResponse)
    assert answers[1] == ErrorResponse(ResponseCode.ISC)
    assert live.log == []
