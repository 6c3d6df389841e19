"""Network services: Registration, Deregistration, Resolve and Trace.

Bodies (c12-protocol-facts.md §3; field encodings from INL's icsnpp-c1222 ``analyzer/c1222.spicy``
``RegisterReq``/``RegisterRespOk``/``ResolveRespOk``/``Trace``, checked against its synthetic capture
``c1222_reg_service_tcp.pcap``; the Wireshark dissector does not decode these services)::

    27 node-type:1 connection-type:1 device-class:4 <ap-title> <esn> addr-len:1 native-address
       registration-period:3 [pattern-len:1 my-domain-pattern]          registration
    24 <ap-title>                                                        deregistration
    25 <ap-title>                                                        resolve
    26 <ap-title>                                                        trace

    ok to registration:  00 <ap-title> registration-delay:2 registration-period:3 reg-info:1
    ok to resolve:       00 local-address-length:1 local-address
    ok to trace:         00 <ap-title>+   (the relays on the path)

``<ap-title>`` and ``<esn>`` (electronic serial number) are UID elements (see `encode_uid`).
Choices where the public sources are vague: the device class is 4 raw bytes (the ED_CLASS of the EPSEM
header and ST0's DEVICE_CLASS; icsnpp's generator writes 4 bytes there); node-type bit 7 is the
MY_DOMAIN_PATTERN flag (icsnpp) and is derived here from ``my_domain_pattern is not None``; the domain
pattern is length-prefixed with one byte (icsnpp). Registration delay and periods are in seconds.
A non-ok response to Trace may list the ApTitles reached so far (icsnpp ``ResponseNok``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag
from typing import ClassVar, Self

from openami.c1222.aptitle import ApTitle
from openami.c1222.codes import ResponseCode, ServiceCode
from openami.c1222.services.base import (
    Reader,
    Request,
    Response,
    check_len,
    check_uint,
    decode_uid_list,
    encode_uid,
    uid_list_ok,
)
from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "DEVICE_CLASS_LENGTH",
    "MY_DOMAIN_PATTERN_FLAG",
    "ConnectionType",
    "Deregistration",
    "NodeType",
    "RegInfo",
    "Registration",
    "RegistrationResponse",
    "Resolve",
    "ResolveResponse",
    "Trace",
    "TraceResponse",
]

DEVICE_CLASS_LENGTH = 4
MY_DOMAIN_PATTERN_FLAG = 0x80
"""Node-type bit 7: a my-domain-pattern follows the registration period (icsnpp-c1222)."""


class NodeType(IntFlag):
    """Registration node-type bits (bit 0 = LSB), as icsnpp-c1222 ``RegisterReq.nodetype``.

    Bit 6 is reserved; bit 7 (`MY_DOMAIN_PATTERN_FLAG`) is not a node type and is carried by
    ``Registration.my_domain_pattern``. Unknown bits are kept (IntFlag KEEP boundary).
    """

    RELAY = 0x01
    MASTER_RELAY = 0x02
    HOST = 0x04
    NOTIFICATION_HOST = 0x08
    AUTHENTICATION_HOST = 0x10
    END_DEVICE = 0x20


class ConnectionType(IntFlag):
    """Registration connection-type bits, as icsnpp-c1222 ``RegisterReq.connectiontype`` (bit 3 reserved)."""

    BROADCAST_AND_MULTICAST_SUPPORTED = 0x01
    MESSAGE_ACCEPTANCE_WINDOW_MODE_SUPPORTED = 0x02
    PLAYBACK_REJECTION_SUPPORTED = 0x04
    CONNECTIONLESS_MODE_SUPPORTED = 0x10
    ACCEPT_CONNECTIONLESS = 0x20
    CONNECTION_MODE_SUPPORTED = 0x40
    ACCEPT_CONNECTIONS = 0x80


class RegInfo(IntFlag):
    """Registration-response reg-info bits, as icsnpp-c1222 ``RegisterRespOk.regInfo`` (bit 3 reserved)."""

    DIRECT_MESSAGING_AVAILABLE = 0x01
    MESSAGE_ACCEPTANCE_WINDOW_MODE = 0x02
    PLAYBACK_REJECTION_MODE = 0x04
    CONNECTIONLESS_MODE = 0x10
    ACCEPT_CONNECTIONLESS = 0x20
    CONNECTION_MODE = 0x40
    ACCEPT_CONNECTIONS = 0x80


def _short_bytes(data: bytes, field: str) -> bytes:
    check_len(data, 0xFF, field)
    return bytes((len(data),)) + data


@dataclass(frozen=True, slots=True)
class RegistrationResponse(Response):
    """``00 <ap-title> registration-delay:2 registration-period:3 reg-info:1``.

    ``ap_title`` is the title the node is registered under; delay and period in seconds.
    """

    ap_title: ApTitle
    registration_delay: int
    registration_period: int
    reg_info: RegInfo

    def __post_init__(self) -> None:
        check_uint(self.registration_delay, 16, "registration delay")
        check_uint(self.registration_period, 24, "registration period")
        check_uint(int(self.reg_info), 8, "reg info")
        object.__setattr__(self, "reg_info", RegInfo(self.reg_info))

    @property
    def code(self) -> ResponseCode:
        return ResponseCode.OK

    def encode(self) -> bytes:
        return (
            b"\x00"
            + encode_uid(self.ap_title)
            + self.registration_delay.to_bytes(2, "big")
            + self.registration_period.to_bytes(3, "big")
            + bytes((self.reg_info,))
        )


@dataclass(frozen=True, slots=True)
class Registration(Request):
    """``27 node-type connection-type device-class:4 <ap-title> <esn> len address period:3 [len pattern]``."""

    node_type: NodeType
    connection_type: ConnectionType
    device_class: bytes
    ap_title: ApTitle
    electronic_serial_number: ApTitle
    native_address: bytes
    registration_period: int
    my_domain_pattern: bytes | None = None
    codes: ClassVar[tuple[int, ...]] = (ServiceCode.REGISTRATION,)

    def __post_init__(self) -> None:
        check_uint(int(self.node_type), 7, "node type (bit 7 is the my-domain-pattern flag)")
        object.__setattr__(self, "node_type", NodeType(self.node_type))
        check_uint(int(self.connection_type), 8, "connection type")
        object.__setattr__(self, "connection_type", ConnectionType(self.connection_type))
        if len(self.device_class) != DEVICE_CLASS_LENGTH:
            raise LocalProtocolError(f"device class is {DEVICE_CLASS_LENGTH} bytes, not {len(self.device_class)}")
        check_len(self.native_address, 0xFF, "native address")
        check_uint(self.registration_period, 24, "registration period")
        if self.my_domain_pattern is not None:
            check_len(self.my_domain_pattern, 0xFF, "my-domain-pattern")

    @property
    def code(self) -> int:
        return ServiceCode.REGISTRATION

    def encode(self) -> bytes:
        flag = MY_DOMAIN_PATTERN_FLAG if self.my_domain_pattern is not None else 0
        node_type = int(self.node_type) | flag
        body = (
            bytes((self.code, node_type, self.connection_type))
            + self.device_class
            + encode_uid(self.ap_title)
            + encode_uid(self.electronic_serial_number)
            + _short_bytes(self.native_address, "native address")
            + self.registration_period.to_bytes(3, "big")
        )
        if self.my_domain_pattern is not None:
            body += _short_bytes(self.my_domain_pattern, "my-domain-pattern")
        return body

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        node_type = reader.u8("node type")
        connection_type = reader.u8("connection type")
        device_class = reader.take(DEVICE_CLASS_LENGTH, "device class")
        ap_title = reader.uid("ApTitle")
        esn = reader.uid("electronic serial number")
        native_address = reader.take(reader.u8("native address length"), "native address")
        period = reader.uint(3, "registration period")
        pattern = None
        if node_type & MY_DOMAIN_PATTERN_FLAG:
            pattern = reader.take(reader.u8("my-domain-pattern length"), "my-domain-pattern")
        return cls(
            NodeType(node_type & ~MY_DOMAIN_PATTERN_FLAG),
            ConnectionType(connection_type),
            device_class,
            ap_title,
            esn,
            native_address,
            period,
            pattern,
        )

    def decode_ok(self, payload: bytes) -> Response:
        reader = Reader(payload, "registration response")
        response = RegistrationResponse(
            reader.uid("ApTitle"),
            reader.u16("registration delay"),
            reader.uint(3, "registration period"),
            RegInfo(reader.u8("reg info")),
        )
        reader.finish()
        return response


@dataclass(frozen=True, slots=True)
class _TitleRequest(Request):
    """A request whose body is one UID element."""

    ap_title: ApTitle
    codes: ClassVar[tuple[int, ...]] = ()

    @property
    def code(self) -> int:
        return self.codes[0]

    def encode(self) -> bytes:
        return bytes((self.code,)) + encode_uid(self.ap_title)

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        return cls(reader.uid("ApTitle"))


@dataclass(frozen=True, slots=True)
class Deregistration(_TitleRequest):
    """``24 <ap-title>``: remove the node from the network."""

    codes: ClassVar[tuple[int, ...]] = (ServiceCode.DEREGISTRATION,)


@dataclass(frozen=True, slots=True)
class ResolveResponse(Response):
    """``00 local-address-length:1 local-address`` (the node's native address on the local network)."""

    local_address: bytes

    def __post_init__(self) -> None:
        check_len(self.local_address, 0xFF, "local address")

    @property
    def code(self) -> ResponseCode:
        return ResponseCode.OK

    def encode(self) -> bytes:
        return b"\x00" + _short_bytes(self.local_address, "local address")


@dataclass(frozen=True, slots=True)
class Resolve(_TitleRequest):
    """``25 <ap-title>``: ask for the native address of a node."""

    codes: ClassVar[tuple[int, ...]] = (ServiceCode.RESOLVE,)

    def decode_ok(self, payload: bytes) -> Response:
        reader = Reader(payload, "resolve response")
        address = reader.take(reader.u8("local address length"), "local address")
        reader.finish()
        return ResolveResponse(address)


@dataclass(frozen=True, slots=True)
class TraceResponse(Response):
    """``00 <ap-title>+``: the ApTitles of the relays on the path (at least one)."""

    titles: tuple[ApTitle, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "titles", tuple(self.titles))
        if not self.titles:
            raise LocalProtocolError("a trace response lists at least one ApTitle")

    @property
    def code(self) -> ResponseCode:
        return ResponseCode.OK

    def encode(self) -> bytes:
        return b"\x00" + b"".join(encode_uid(t) for t in self.titles)


@dataclass(frozen=True, slots=True)
class Trace(_TitleRequest):
    """``26 <ap-title>``: ask for the relays on the path to a node."""

    codes: ClassVar[tuple[int, ...]] = (ServiceCode.TRACE,)

    def decode_ok(self, payload: bytes) -> Response:
        titles = decode_uid_list(payload, "trace response")
        if not titles:
            raise RemoteProtocolError("trace response: no ApTitle")
        return TraceResponse(titles)

    def error_extra_allowed(self, extra: bytes) -> bool:
        return uid_list_ok(extra)
