"""The meter's HAN module (sans-IO, driven by ``now``): appliances join through the meter's `PermitJoin`,
register (C12.22 Registration) and leave over the HAN link, and take SP21 switch commands from the meter.

Pieces: a `HanNetwork` over the given `HanMedium` carries `HanEndpoint` nodes — the meter at link address
`METER_ADDRESS` (1), and one node per appliance. Before joining, an appliance's node sits at a provisional
link address (``0x8000 + n``, standing in for an 802.15.4 extended address); once accepted, its node moves to
the short address the `PermitJoin` gave it (also its C12.22 native address). Short addresses are handed out
from 2 up and the capacity is kept below ``0x8000 - 2`` so they never meet the provisional range.

HAN message format (one message per link message; the link segments, retries and suppresses duplicates):

============== ==== =======================================================================================
message        type body
============== ==== =======================================================================================
JOIN_REQUEST   0x01 id_len:1, appliance id (ASCII, 1..255), install code (rest; empty = none)
JOIN_ACCEPT    0x02 short address:2 (big-endian)
JOIN_REFUSED   0x03 reason (UTF-8 text of `openami.han.pairing.Refusal`)
C12_APDU       0x04 one C12.22 / PSEM service body (request or response, code byte first)
LEAVE          0x05 the Deregistration service body
============== ==== =======================================================================================

Flows: `HanModule.join` sends JOIN_REQUEST; the meter answers with `PermitJoin.request`. An accepted
appliance sends its `Appliance.registration_request` as C12_APDU; the meter records it
(`PermitJoin.register`) and queues it in ``pending_registrations`` for the head-end. Relaying it to the
head-end (the meter as C12.22 relay) and the head-end's RegistrationResponse are later work: the meter
answers nothing to a Registration. `HanModule.leave` sends LEAVE; the meter deregisters the appliance
and queues the Deregistration in ``pending_deregistrations``. `HanModule.switch` sends an SP21 full write
to ST7 (`DirectLoadControlParams` SHED / RESTORE on control point 0) as C12_APDU; the appliance's
`Responder` executes it and answers with a C12_APDU response body (kept in ``responses``). A retried
frame whose ACK was lost is dropped by the link's duplicate suppression, so a command executes once.

Limits: the meter encodes SP21 with the appliance's own formats (it holds the simulated `Appliance`; a
real meter would read ST0 first); one outstanding C12.22 request per appliance is matched to its answer
in order; a rejoin at an address whose previous holder sent many messages may see its first frames
dropped as duplicates (each node starts from a fresh ``initial_seq``, 64 apart, to make this unlikely).

Time: ``now`` in seconds (the network's simulated time and the meter clock, s since 1970 UTC).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from enum import IntEnum

from openami.c1219.procedures import DirectLoadControlParams, LoadControlAction, ProcedureRequest
from openami.c1222.aptitle import ApTitle
from openami.c1222.services import (
    Deregistration,
    FullWrite,
    Registration,
    Request,
    Response,
    decode_request,
    decode_response,
)
from openami.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from openami.han.appliance import Appliance
from openami.han.pairing import JoinAccepted, PermitJoin, Refusal
from openami.link import ArqConfig, DeliveryFailed, HanEndpoint, MessageReceived
from openami.meter.access import Clearance
from openami.meter.engine.loads import LoadModel, Spectrum
from openami.meter.loadcontrol import LoadControlEngine
from openami.meter.loadcontrol_types import Measurements, SwitchDecision
from openami.transport.han import HanMedium, HanNetwork

__all__ = [
    "METER_ADDRESS",
    "PROVISIONAL_BASE",
    "HanMessage",
    "HanModule",
    "HanStep",
    "MessageType",
    "decode_message",
    "encode_message",
]

METER_ADDRESS = 1
"""The meter's link address."""
PROVISIONAL_BASE = 0x8000
"""Appliance ``n`` (attach order) talks from link address ``PROVISIONAL_BASE + n`` until it joins."""

_METER_CLEARANCE = Clearance(groups=0xFF, authenticated=True, user_id=1)
"""The meter's clearance on its appliances (MASTER group; the HAN link is the trust boundary)."""


class MessageType(IntEnum):
    """First octet of a HAN message."""

    JOIN_REQUEST = 0x01
    JOIN_ACCEPT = 0x02
    JOIN_REFUSED = 0x03
    C12_APDU = 0x04
    LEAVE = 0x05


@dataclass(frozen=True, slots=True)
class HanMessage:
    """A decoded HAN message: ``kind``; ``appliance_id`` and ``install_code`` (JOIN_REQUEST, None = no
    code); ``address`` (JOIN_ACCEPT); ``reason`` (JOIN_REFUSED); ``body`` (C12_APDU, LEAVE)."""

    kind: MessageType
    appliance_id: str = ""
    install_code: bytes | None = None
    address: int = 0
    reason: str = ""
    body: bytes = b""


def encode_message(message: HanMessage) -> bytes:
    """The octets of ``message`` (see the module docstring)."""
    kind = message.kind
    if kind is MessageType.JOIN_REQUEST:
        ident = message.appliance_id.encode("ascii", "strict") if message.appliance_id.isascii() else b""
        if not 1 <= len(ident) <= 255:
            raise LocalProtocolError(f"appliance id must be 1..255 ASCII characters, got {message.appliance_id!r}")
        return bytes((kind, len(ident))) + ident + (message.install_code or b"")
    if kind is MessageType.JOIN_ACCEPT:
        if not 0 <= message.address <= 0xFFFF:
            raise LocalProtocolError(f"short address out of range: {message.address}")
        return bytes((kind,)) + message.address.to_bytes(2, "big")
    if kind is MessageType.JOIN_REFUSED:
        return bytes((kind,)) + message.reason.encode("utf-8")
    return bytes((kind,)) + message.body


def decode_message(data: bytes | bytearray | memoryview) -> HanMessage:
    """Decode a HAN message; bad bytes raise `RemoteProtocolError`."""
    raw = bytes(data)
    if not raw:
        raise RemoteProtocolError("empty HAN message")
    try:
        kind = MessageType(raw[0])
    except ValueError:
        raise RemoteProtocolError(f"unknown HAN message type {raw[0]:#04x}") from None
    rest = raw[1:]
    if kind is MessageType.JOIN_REQUEST:
        if not rest or rest[0] == 0 or len(rest) < 1 + rest[0]:
            raise RemoteProtocolError("JOIN_REQUEST: truncated or empty appliance id")
        ident, code = rest[1 : 1 + rest[0]], rest[1 + rest[0] :]
        if not ident.isascii():
            raise RemoteProtocolError("JOIN_REQUEST: appliance id is not ASCII")
        return HanMessage(kind, appliance_id=ident.decode("ascii"), install_code=code or None)
    if kind is MessageType.JOIN_ACCEPT:
        if len(rest) != 2:
            raise RemoteProtocolError(f"JOIN_ACCEPT carries 2 octets, got {len(rest)}")
        return HanMessage(kind, address=int.from_bytes(rest, "big"))
    if kind is MessageType.JOIN_REFUSED:
        try:
            return HanMessage(kind, reason=rest.decode("utf-8"))
        except UnicodeDecodeError:
            raise RemoteProtocolError("JOIN_REFUSED: reason is not UTF-8") from None
    return HanMessage(kind, body=rest)


@dataclass(frozen=True, slots=True)
class HanStep:
    """What `HanModule.step` gives the meter engine: the appliances' summed ``current`` (A, harmonic
    spectrum at the step's voltage), active ``power_w`` (W, last whole second) and the load-control
    ``decisions`` sent as switch commands."""

    current: Spectrum
    power_w: float
    decisions: tuple[SwitchDecision, ...] = ()


@dataclass(slots=True)
class _Member:
    appliance: Appliance
    link_address: int
    point: int | None
    joined: bool = False
    refused: Refusal | None = None
    outstanding: deque[Request] = field(default_factory=deque)


class HanModule:
    """The meter's HAN module (see the module docstring). ``voltage`` (V spectrum) and ``frequency_hz``
    (Hz) drive the appliances' load models; ``engine`` (optional) decides switches each `step`."""

    def __init__(
        self,
        medium: HanMedium,
        voltage: Spectrum,
        frequency_hz: float,
        *,
        permit: PermitJoin | None = None,
        engine: LoadControlEngine | None = None,
        arq: ArqConfig | None = None,
        now: float = 0.0,
    ) -> None:
        self.permit = permit if permit is not None else PermitJoin(first_address=2)
        if (
            self.permit.first_address <= METER_ADDRESS
            or self.permit.first_address + self.permit.capacity > PROVISIONAL_BASE
        ):
            raise LocalProtocolError("short addresses must lie in 2..0x7FFF (1 is the meter)")
        self.network = HanNetwork(medium, now=now)
        self.arq = arq if arq is not None else ArqConfig()
        self.meter = self.network.add(HanEndpoint(METER_ADDRESS, self.arq))
        self.voltage = voltage
        self.frequency_hz = frequency_hz
        self.engine = engine
        self.pending_registrations: list[Registration] = []
        """Registrations received from appliances, for the head-end (relay: later work)."""
        self.pending_deregistrations: list[Deregistration] = []
        """Deregistrations of appliances that left, for the head-end."""
        self.responses: list[tuple[ApTitle, Request, Response]] = []
        """Answers of appliances to the meter's C12.22 requests, in arrival order."""
        self.failures: list[DeliveryFailed] = []
        """Meter messages the link could not confirm."""
        self.executed: dict[str, int] = {}
        """C12.22 requests each appliance (by id) executed."""
        self._members: dict[str, _Member] = {}
        self._by_link: dict[int, _Member] = {}
        self._cursor: dict[int, int] = {}
        self._seq = 0
        self._sp21_seq = 0

    # -- appliances --------------------------------------------------------------------------------------------
    def attach(self, appliance: Appliance, *, point: int | None = None) -> None:
        """Put ``appliance`` in range of the meter (not joined yet); ``point`` is its control point in the
        load-control engine (its `AppliancePolicy` is given to the engine)."""
        key = appliance.identity.serial
        if key in self._members:
            raise LocalProtocolError(f"appliance {key} already attached")
        address = PROVISIONAL_BASE + len(self._members)
        member = _Member(appliance, address, point)
        self._members[key] = member
        self._add_node(member, address)
        if self.engine is not None and point is not None:
            self.engine.add_appliance(point, appliance.policy, now=self.network.now, on=appliance.on)

    def _add_node(self, member: _Member, address: int) -> None:
        self.network.add(HanEndpoint(address, replace(self.arq, initial_seq=self._seq)))
        self._seq = (self._seq + 64) & 0xFF
        self._cursor[address] = 0
        self._by_link[address] = member
        member.link_address = address

    def _member(self, appliance: Appliance) -> _Member:
        member = self._members.get(appliance.identity.serial)
        if member is None or member.appliance is not appliance:
            raise LocalProtocolError(f"appliance {appliance.identity.serial} is not attached")
        return member

    def open_permit(self, now: float, seconds: float) -> None:
        """Open the permit-join window for ``seconds`` (s) from ``now``."""
        self.permit.open(now, seconds)

    def join(self, appliance: Appliance, now: float) -> None:
        """The appliance sends a JOIN_REQUEST (id = its serial, with its install code if it has one)."""
        member = self._member(appliance)
        msg = HanMessage(MessageType.JOIN_REQUEST, appliance.identity.serial, appliance.identity.install_code or None)
        self._send(member.link_address, METER_ADDRESS, encode_message(msg), now)

    def leave(self, appliance: Appliance, now: float) -> None:
        """The appliance sends LEAVE with its Deregistration."""
        member = self._member(appliance)
        if not member.joined:
            raise LocalProtocolError(f"appliance {appliance.identity.serial} has not joined")
        body = appliance.deregistration_request().encode()
        self._send(member.link_address, METER_ADDRESS, encode_message(HanMessage(MessageType.LEAVE, body=body)), now)
        member.joined = False

    def refusal(self, appliance: Appliance) -> Refusal | None:
        """Why the appliance's last join was refused (None if not refused)."""
        return self._member(appliance).refused

    def request(self, title: ApTitle, request: Request, now: float) -> None:
        """Send one C12.22 request to the registered appliance ``title``; its answer lands in ``responses``."""
        entry = self.permit.registry.by_title(title)
        if entry is None:
            raise LocalProtocolError(f"no registered appliance {title}")
        member = self._members[entry.appliance_id]
        member.outstanding.append(request)
        msg = HanMessage(MessageType.C12_APDU, body=request.encode())
        self._send(METER_ADDRESS, member.link_address, encode_message(msg), now)

    def switch(self, title: ApTitle, on: bool, now: float) -> None:
        """Send SP21 (SHED / RESTORE control point 0) as a full write of ST7 to appliance ``title``."""
        entry = self.permit.registry.by_title(title)
        if entry is None:
            raise LocalProtocolError(f"no registered appliance {title}")
        formats = self._members[entry.appliance_id].appliance.config.formats
        action = LoadControlAction.RESTORE if on else LoadControlAction.SHED
        params = DirectLoadControlParams(0, action).encode(formats)
        self._sp21_seq = (self._sp21_seq + 1) & 0xFF
        write = FullWrite(7, ProcedureRequest(21, seq_nbr=self._sp21_seq, params=params).encode(formats))
        self.request(title, write, now)

    def loads(self) -> list[LoadModel]:
        """The appliances' loads (each `Appliance` is a `LoadModel`), for the engine's `CompositeLoad`."""
        return [m.appliance for m in self._members.values()]

    # -- driving -------------------------------------------------------------------------------------------------
    def _send(self, src: int, dst: int, payload: bytes, now: float) -> None:
        self.network.now = max(self.network.now, now)
        self.network.send(src, dst, payload)

    def step(self, now: float, *, premise_w: float = 0.0) -> HanStep:
        """Run the link up to ``now`` (answering every message as it arrives), advance the appliances, run
        the load-control engine (measured total = ``premise_w`` + the appliances, W) and send its
        decisions as switch commands. Returns the appliances' current and power for the meter engine."""
        while (t := self.network.next_time()) is not None and t <= now:
            self.network.step()
            self._dispatch()
        self.network.now = max(self.network.now, now)
        current = Spectrum.zero()
        power = 0.0
        for m in self._members.values():
            m.appliance.advance(now, self.voltage, self.frequency_hz)
            current = current + m.appliance.current(now, self.voltage, self.frequency_hz)
            power += m.appliance.power_w
        self.permit.poll(now)
        decisions: tuple[SwitchDecision, ...] = ()
        if self.engine is not None:
            loads = {m.point: m.appliance.power_w for m in self._members.values() if m.point is not None}
            decisions = tuple(self.engine.step(now, Measurements(premise_w + power, loads)))
            by_point = {m.point: m for m in self._members.values() if m.point is not None}
            for d in decisions:
                member = by_point.get(d.point)
                entry = self.permit.registry.get(member.appliance.identity.serial) if member is not None else None
                if entry is not None and entry.ap_title is not None:
                    self.switch(entry.ap_title, d.on, now)
        return HanStep(current, power, decisions)

    def _dispatch(self) -> None:
        for address in list(self.network.events):
            events = self.network.events[address]
            start = self._cursor.get(address, 0)
            self._cursor[address] = len(events)
            for timed in events[start:]:
                ev = timed.event
                if isinstance(ev, MessageReceived):
                    if address == METER_ADDRESS:
                        self._meter_received(ev.src, ev.payload, timed.time)
                    elif (member := self._by_link.get(address)) is not None:
                        self._appliance_received(member, ev.src, ev.payload, timed.time)
                elif isinstance(ev, DeliveryFailed) and address == METER_ADDRESS:
                    self.failures.append(ev)

    def _meter_received(self, src: int, payload: bytes, now: float) -> None:
        try:
            msg = decode_message(payload)
        except ProtocolError:
            return  # a peer's bad bytes: dropped
        if msg.kind is MessageType.JOIN_REQUEST:
            answer = self.permit.request(msg.appliance_id, now, msg.install_code)
            reply = (
                HanMessage(MessageType.JOIN_ACCEPT, address=answer.address)
                if isinstance(answer, JoinAccepted)
                else HanMessage(MessageType.JOIN_REFUSED, reason=str(answer.reason))
            )
            self._send(METER_ADDRESS, src, encode_message(reply), now)
            return
        entry = self.permit.registry.by_address(src)
        if entry is None:
            return  # not joined: ignored
        if msg.kind is MessageType.LEAVE:
            try:
                dereg = decode_request(msg.body)
            except ProtocolError:
                return
            if isinstance(dereg, Deregistration):
                self.permit.leave(entry.appliance_id)
                self.pending_deregistrations.append(dereg)
            return
        if msg.kind is not MessageType.C12_APDU:
            return
        member = self._members[entry.appliance_id]
        if member.outstanding:
            request = member.outstanding.popleft()
            try:
                response = decode_response(msg.body, request)
            except ProtocolError:
                return
            self.permit.seen(entry.appliance_id, now)
            self.responses.append((member.appliance.ap_title, request, response))
            return
        try:
            registration = decode_request(msg.body)
        except ProtocolError:
            return
        if isinstance(registration, Registration):
            answer = self.permit.register(entry.appliance_id, registration, now)
            if isinstance(answer, JoinAccepted):
                self.pending_registrations.append(registration)

    def _appliance_received(self, member: _Member, src: int, payload: bytes, now: float) -> None:
        if src != METER_ADDRESS:
            return
        try:
            msg = decode_message(payload)
        except ProtocolError:
            return
        appliance = member.appliance
        if msg.kind is MessageType.JOIN_ACCEPT and not member.joined:
            old = member.link_address
            del self.network.nodes[old]
            del self._by_link[old]
            self._add_node(member, msg.address)
            member.joined, member.refused = True, None
            appliance.han_address = msg.address
            body = appliance.registration_request().encode()
            self._send(msg.address, METER_ADDRESS, encode_message(HanMessage(MessageType.C12_APDU, body=body)), now)
        elif msg.kind is MessageType.JOIN_REFUSED:
            member.refused = next((r for r in Refusal if r.value == msg.reason), None)
        elif msg.kind is MessageType.C12_APDU and member.joined:
            appliance.advance(now, self.voltage, self.frequency_hz)
            answer = appliance.responder.answer_body(msg.body, _METER_CLEARANCE, now)
            key = appliance.identity.serial
            self.executed[key] = self.executed.get(key, 0) + 1
            reply = encode_message(HanMessage(MessageType.C12_APDU, body=answer))
            self._send(member.link_address, METER_ADDRESS, reply, now)
