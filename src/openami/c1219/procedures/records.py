"""ST7 PROC_INITIATE_TBL / ST8 PROC_RESPONSE_TBL as typed records.

Layouts (c12-protocol-facts.md §6; ST7/ST8 are tables, so the UINT16 follows ST0 DATA_ORDER)::

    ST7 = TABLE_IDB_BFLD:2  SEQ_NBR:1  PARM[0..MAX_PROC_PARM_LENGTH]
    ST8 = TABLE_IDB_BFLD:2  SEQ_NBR:1  RESULT_CODE:1  RESP_DATA[0..MAX_RESP_DATA_LEN]
    TABLE_IDB_BFLD = procedure number b0–10, MFG_FLAG b11, SELECTOR b12–15

Checked against the nDPI capture of a real C12.22 exchange (four cleartext ST7 writes: MFG 52, SP15,
MFG 62, MFG 37, read little-endian — Wireshark's dissector reads them the same way).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

from openami.c1219.formats import Formats
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "MAX_PROCEDURE",
    "ByteOrder",
    "ProcedureRequest",
    "ProcedureResponse",
    "ResponseSelector",
    "ResultCode",
    "StandardProcedure",
    "byte_order",
]

MAX_PROCEDURE = 0x07FF
"""Largest procedure number (11 bits)."""


class ResponseSelector(IntEnum):
    """TABLE_IDB_BFLD.SELECTOR of an ST7 write: when the device posts the result to ST8."""

    ON_COMPLETION = 0
    ON_EXCEPTION = 1
    NEVER = 2
    NOW_AND_ON_COMPLETION = 3


class ResultCode(IntEnum):
    """ST8 RESULT_CODE."""

    COMPLETED = 0
    NOT_COMPLETED = 1  # accepted but not fully completed
    INVALID_PARAMETER = 2
    CONFLICT_WITH_SETUP = 3
    TIMING_CONSTRAINT = 4
    NO_AUTHORIZATION = 5
    UNRECOGNIZED = 6


class StandardProcedure(IntEnum):
    """Standard procedure numbers (c12-protocol-facts.md §6; 23/24 from Itron's procedure list)."""

    COLD_START = 0
    WARM_START = 1
    SAVE_CONFIGURATION = 2
    CLEAR_DATA = 3
    RESET_LIST_POINTERS = 4
    UPDATE_LAST_READ_ENTRY = 5
    CHANGE_END_DEVICE_MODE = 6
    CLEAR_STD_STATUS_FLAGS = 7
    CLEAR_MFG_STATUS_FLAGS = 8
    REMOTE_RESET = 9
    SET_DATE_TIME = 10
    EXECUTE_DIAGNOSTICS = 11
    ACTIVATE_ALL_PENDING_TABLES = 12
    ACTIVATE_SPECIFIC_PENDING_TABLES = 13
    CLEAR_ALL_PENDING_TABLES = 14
    CLEAR_SPECIFIC_PENDING_TABLES = 15
    START_LOAD_PROFILE = 16
    STOP_LOAD_PROFILE = 17
    LOG_IN = 18
    LOG_OUT = 19
    INITIATE_IMMEDIATE_CALL = 20
    DIRECT_LOAD_CONTROL = 21
    MODIFY_CREDIT = 22
    REGISTER = 23
    DEREGISTER = 24
    CLEAR_PENDING_CALL_STATUS = 27
    START_QOS_MONITORS = 28
    STOP_QOS_MONITORS = 29
    START_SECURED_REGISTERS = 30
    STOP_SECURED_REGISTERS = 31
    SET_PRECISION_DATE_TIME = 32


ByteOrder = Literal["little", "big"]


def byte_order(formats: Formats | None) -> ByteOrder:
    """``"little"`` or ``"big"``: ST0 DATA_ORDER of ``formats`` (default little-endian)."""
    return "big" if formats is not None and formats.byteorder == "big" else "little"


def _check_common(procedure: int, mfg: bool, seq_nbr: int) -> None:
    if isinstance(procedure, bool) or not isinstance(procedure, int) or not 0 <= procedure <= MAX_PROCEDURE:
        raise LocalProtocolError(f"procedure number must be 0..{MAX_PROCEDURE}, got {procedure!r}")
    if not isinstance(mfg, bool):
        raise LocalProtocolError(f"mfg must be True or False, got {mfg!r}")
    if isinstance(seq_nbr, bool) or not isinstance(seq_nbr, int) or not 0 <= seq_nbr <= 0xFF:
        raise LocalProtocolError(f"SEQ_NBR must be 0..255, got {seq_nbr!r}")


def _idb(procedure: int, mfg: bool, selector: ResponseSelector, formats: Formats | None) -> bytes:
    return (procedure | (mfg << 11) | (int(selector) << 12)).to_bytes(2, byte_order(formats))


def _split_idb(data: bytes, formats: Formats | None) -> tuple[int, bool, ResponseSelector]:
    raw = int.from_bytes(data[:2], byte_order(formats))
    selector = raw >> 12
    if selector > max(ResponseSelector):
        raise RemoteProtocolError(f"TABLE_IDB_BFLD 0x{raw:04X}: response selector {selector} is reserved")
    return raw & MAX_PROCEDURE, bool(raw & 0x0800), ResponseSelector(selector)


def _check_bytes(value: object, name: str, limit: int | None) -> bytes:
    if not isinstance(value, bytes | bytearray):
        raise LocalProtocolError(f"{name} must be bytes, got {type(value).__name__}")
    if limit is not None and len(value) > limit:
        raise LocalProtocolError(f"{name} is {len(value)} octets, the device takes at most {limit}")
    return bytes(value)


def _label(procedure: int, mfg: bool) -> str:
    if mfg:
        return f"MFG{procedure}"
    try:
        return f"SP{procedure} {StandardProcedure(procedure).name}"
    except ValueError:
        return f"SP{procedure}"


@dataclass(frozen=True, slots=True)
class ProcedureRequest:
    """One procedure call, as written to ST7.

    ``procedure`` is 0..2047 (standard or, with ``mfg``, manufacturer procedure number), ``seq_nbr``
    0..255 (echoed in ST8), ``params`` the procedure's parameter octets (see `openami.c1219.procedures.params`).
    """

    procedure: int
    mfg: bool = False
    selector: ResponseSelector = ResponseSelector.ON_COMPLETION
    seq_nbr: int = 0
    params: bytes = b""

    def __post_init__(self) -> None:
        _check_common(self.procedure, self.mfg, self.seq_nbr)
        if not isinstance(self.selector, ResponseSelector):
            try:
                object.__setattr__(self, "selector", ResponseSelector(self.selector))
            except ValueError:
                raise LocalProtocolError(f"response selector must be 0..3, got {self.selector!r}") from None
        object.__setattr__(self, "params", _check_bytes(self.params, "params", None))

    @property
    def standard(self) -> StandardProcedure | None:
        """The standard procedure, or None for a manufacturer or unassigned number."""
        if self.mfg:
            return None
        try:
            return StandardProcedure(self.procedure)
        except ValueError:
            return None

    def encode(self, formats: Formats | None = None, *, max_params: int | None = None) -> bytes:
        """ST7 octets; ``max_params`` is ST0 MAX_PROC_PARM_LENGTH when known."""
        _check_bytes(self.params, "params", max_params)
        head = _idb(self.procedure, self.mfg, self.selector, formats)
        return head + bytes((self.seq_nbr,)) + self.params

    @classmethod
    def decode(
        cls, data: bytes | bytearray | memoryview, formats: Formats | None = None, *, max_params: int | None = None
    ) -> ProcedureRequest:
        """From ST7 octets (raises `RemoteProtocolError` when short, too long or with a reserved selector)."""
        data = bytes(data)
        if len(data) < 3:
            raise RemoteProtocolError(f"ST7 needs at least 3 octets, got {len(data)}")
        if max_params is not None and len(data) - 3 > max_params:
            raise RemoteProtocolError(f"ST7 parameters are {len(data) - 3} octets, the limit is {max_params}")
        procedure, mfg, selector = _split_idb(data, formats)
        return cls(procedure, mfg, selector, data[2], data[3:])

    def response(self, result: ResultCode, data: bytes = b"") -> ProcedureResponse:
        """The ST8 record answering this request."""
        return ProcedureResponse(self.procedure, self.mfg, self.seq_nbr, result, data, self.selector)

    def __str__(self) -> str:
        return f"{_label(self.procedure, self.mfg)} seq {self.seq_nbr} params {self.params.hex() or '-'}"


@dataclass(frozen=True, slots=True)
class ProcedureResponse:
    """The result of a procedure, as read from ST8 (``selector`` echoes the request's)."""

    procedure: int
    mfg: bool
    seq_nbr: int
    result: ResultCode
    data: bytes = b""
    selector: ResponseSelector = ResponseSelector.ON_COMPLETION

    def __post_init__(self) -> None:
        _check_common(self.procedure, self.mfg, self.seq_nbr)
        for name, enum in (("result", ResultCode), ("selector", ResponseSelector)):
            value = getattr(self, name)
            if not isinstance(value, enum):
                try:
                    object.__setattr__(self, name, enum(value))
                except ValueError:
                    raise LocalProtocolError(f"{name} {value!r} is not a {enum.__name__}") from None
        object.__setattr__(self, "data", _check_bytes(self.data, "data", None))

    @property
    def ok(self) -> bool:
        """Whether the procedure completed."""
        return self.result == ResultCode.COMPLETED

    def answers(self, request: ProcedureRequest) -> bool:
        """Whether this is the response to ``request`` (same procedure, manufacturer flag and SEQ_NBR)."""
        return (self.procedure, self.mfg, self.seq_nbr) == (request.procedure, request.mfg, request.seq_nbr)

    def encode(self, formats: Formats | None = None, *, max_data: int | None = None) -> bytes:
        """ST8 octets; ``max_data`` is ST0 MAX_RESP_DATA_LEN when known."""
        _check_bytes(self.data, "data", max_data)
        head = _idb(self.procedure, self.mfg, self.selector, formats)
        return head + bytes((self.seq_nbr, int(self.result))) + self.data

    @classmethod
    def decode(
        cls, data: bytes | bytearray | memoryview, formats: Formats | None = None, *, max_data: int | None = None
    ) -> ProcedureResponse:
        """From ST8 octets (raises `RemoteProtocolError` for a short table or an unknown RESULT_CODE)."""
        data = bytes(data)
        if len(data) < 4:
            raise RemoteProtocolError(f"ST8 needs at least 4 octets, got {len(data)}")
        if max_data is not None and len(data) - 4 > max_data:
            raise RemoteProtocolError(f"ST8 response data is {len(data) - 4} octets, the limit is {max_data}")
        procedure, mfg, selector = _split_idb(data, formats)
        if data[3] > max(ResultCode):
            raise RemoteProtocolError(f"ST8 RESULT_CODE {data[3]} is not defined (0..{int(max(ResultCode))})")
        return cls(procedure, mfg, data[2], ResultCode(data[3]), data[4:], selector)

    def __str__(self) -> str:
        return f"{_label(self.procedure, self.mfg)} seq {self.seq_nbr} {self.result.name} {self.data.hex() or '-'}"
