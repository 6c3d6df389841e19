"""Identify service: request ``20``; ok response ``00 std:1 ver:1 rev:1 <feature>* 00``.

Features (c12-protocol-facts.md §3; encodings as INL's icsnpp-c1222 ``analyzer/c1222.spicy``
``IdentFeature`` and confirmed by the icsnpp synthetic capture ``c1222_ident_service_tcp.pcap``)::

    04 <UID element>               security mechanism (an OID, normally absolute: 06 L oid)
    05 session-ctrl:1              bits 0–6 number of sessions supported, bit 7 sessionless supported
    06 <UID element>               device class
    07 len:1 format:1 identity     device identity; len counts the format byte plus the identity bytes
    00                             end of list

Feature codes have no length of their own, so an unknown feature code cannot be skipped: it is a
`RemoteProtocolError`. Features are kept in wire order (repeats allowed) so bodies re-encode byte-exactly.
``std`` is the reference standard (0 = C12.18, 3 = C12.22 in the capture), ``ver``/``rev`` its version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from openami.c1222.aptitle import ApTitle
from openami.c1222.codes import ResponseCode, ServiceCode
from openami.c1222.services.base import (
    Reader,
    Request,
    Response,
    check_len,
    check_uint,
    encode_uid,
)
from openami.errors import RemoteProtocolError

__all__ = [
    "FEATURE_DEVICE_CLASS",
    "FEATURE_DEVICE_IDENTITY",
    "FEATURE_END",
    "FEATURE_SECURITY_MECHANISM",
    "FEATURE_SESSION_CTRL",
    "DeviceClassFeature",
    "DeviceIdentityFeature",
    "Feature",
    "Identify",
    "IdentifyResponse",
    "SecurityMechanismFeature",
    "SessionCtrlFeature",
]

FEATURE_END = 0x00
FEATURE_SECURITY_MECHANISM = 0x04
FEATURE_SESSION_CTRL = 0x05
FEATURE_DEVICE_CLASS = 0x06
FEATURE_DEVICE_IDENTITY = 0x07


@dataclass(frozen=True, slots=True)
class SecurityMechanismFeature:
    """``04 <UID>``: the security mechanism the device uses (e.g. C12.22's EAX′ mechanism OID)."""

    mechanism: ApTitle

    def encode(self) -> bytes:
        return bytes((FEATURE_SECURITY_MECHANISM,)) + encode_uid(self.mechanism)


@dataclass(frozen=True, slots=True)
class SessionCtrlFeature:
    """``05 session-ctrl``: ``nbr_sessions`` (0–127, bits 0–6) and ``sessionless`` (bit 7)."""

    nbr_sessions: int
    sessionless: bool = False

    def __post_init__(self) -> None:
        check_uint(self.nbr_sessions, 7, "number of sessions")

    def encode(self) -> bytes:
        return bytes((FEATURE_SESSION_CTRL, self.nbr_sessions | (0x80 if self.sessionless else 0)))


@dataclass(frozen=True, slots=True)
class DeviceClassFeature:
    """``06 <UID>``: the device class."""

    device_class: ApTitle

    def encode(self) -> bytes:
        return bytes((FEATURE_DEVICE_CLASS,)) + encode_uid(self.device_class)


@dataclass(frozen=True, slots=True)
class DeviceIdentityFeature:
    """``07 len:1 format:1 identity``; ``len`` = 1 + len(identity), so identity is at most 254 bytes."""

    format: int
    identity: bytes

    def __post_init__(self) -> None:
        check_uint(self.format, 8, "identity format")
        check_len(self.identity, 0xFE, "device identity")

    def encode(self) -> bytes:
        return bytes((FEATURE_DEVICE_IDENTITY, len(self.identity) + 1, self.format)) + self.identity


Feature = SecurityMechanismFeature | SessionCtrlFeature | DeviceClassFeature | DeviceIdentityFeature


def _decode_feature(tag: int, reader: Reader) -> Feature:
    if tag == FEATURE_SECURITY_MECHANISM:
        return SecurityMechanismFeature(reader.uid("security mechanism"))
    if tag == FEATURE_SESSION_CTRL:
        ctrl = reader.u8("session ctrl")
        return SessionCtrlFeature(ctrl & 0x7F, bool(ctrl & 0x80))
    if tag == FEATURE_DEVICE_CLASS:
        return DeviceClassFeature(reader.uid("device class"))
    if tag == FEATURE_DEVICE_IDENTITY:
        length = reader.u8("device identity length")
        if length == 0:
            raise RemoteProtocolError("identify response: device identity length 0 (counts the format)")
        fmt = reader.u8("device identity format")
        return DeviceIdentityFeature(fmt, reader.take(length - 1, "device identity"))
    raise RemoteProtocolError(f"identify response: unknown feature code 0x{tag:02X}")


@dataclass(frozen=True, slots=True)
class IdentifyResponse(Response):
    """``00 std ver rev <feature>* 00``."""

    std: int
    ver: int
    rev: int
    features: tuple[Feature, ...] = ()

    def __post_init__(self) -> None:
        check_uint(self.std, 8, "reference standard")
        check_uint(self.ver, 8, "version")
        check_uint(self.rev, 8, "revision")
        object.__setattr__(self, "features", tuple(self.features))

    @property
    def code(self) -> ResponseCode:
        return ResponseCode.OK

    def encode(self) -> bytes:
        return (
            bytes((0, self.std, self.ver, self.rev))
            + b"".join(f.encode() for f in self.features)
            + bytes((FEATURE_END,))
        )

    @property
    def security_mechanism(self) -> ApTitle | None:
        """The first security-mechanism feature, if any."""
        return next((f.mechanism for f in self.features if isinstance(f, SecurityMechanismFeature)), None)

    @property
    def session_ctrl(self) -> SessionCtrlFeature | None:
        return next((f for f in self.features if isinstance(f, SessionCtrlFeature)), None)

    @property
    def device_class(self) -> ApTitle | None:
        return next((f.device_class for f in self.features if isinstance(f, DeviceClassFeature)), None)

    @property
    def device_identity(self) -> DeviceIdentityFeature | None:
        return next((f for f in self.features if isinstance(f, DeviceIdentityFeature)), None)


@dataclass(frozen=True, slots=True)
class Identify(Request):
    """``20``: ask for the device's protocol version and features."""

    codes: ClassVar[tuple[int, ...]] = (ServiceCode.IDENTIFY,)

    @property
    def code(self) -> int:
        return ServiceCode.IDENTIFY

    def encode(self) -> bytes:
        return bytes((self.code,))

    @classmethod
    def _decode(cls, code: int, reader: Reader) -> Self:
        return cls()

    def decode_ok(self, payload: bytes) -> Response:
        reader = Reader(payload, "identify response")
        std, ver, rev = reader.u8("std"), reader.u8("ver"), reader.u8("rev")
        features: list[Feature] = []
        while (tag := reader.u8("feature code")) != FEATURE_END:
            features.append(_decode_feature(tag, reader))
        reader.finish()
        return IdentifyResponse(std, ver, rev, tuple(features))
