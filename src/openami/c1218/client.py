"""Sans-IO C12.18 PSEM client (the reader side of an optical port): a request queue on a `LinkEndpoint`.

C12.18 is half-duplex request/response, so one request is outstanding at a time: requests queue up and
the next goes out when the answer to the previous one has arrived. Each answer is decoded against its
request (`openami.c1222.services.decode_response`) and reported as a `Response` event.

Session flow (c12-protocol-facts.md §5), one helper per step, each queuing one request::

    identify → negotiate(packet_size, nbr_packets, bauds) → logon(user_id, user) → security(password)
    → read / read_offset / write / write_offset / run_procedure (write ST7, read ST8) → logoff → terminate

Side effects of answers: an ok Negotiate answer switches the link to the answered sizes
(`LinkEndpoint.apply_negotiation`) and is followed by a `Negotiated` event; any answer to Terminate
puts the link back to the sizes of its `LinkConfig`, as the meter does (its toggle state is kept, so a
repeated Terminate answer is still dropped as a duplicate).

Failures (`ClientFailed`), rules of ours: the link gives up on a request (`LinkFailed`), no answer
comes within ``answer_timeout`` seconds of line silence after the request was acknowledged, or a
Negotiate answer the link cannot apply — these drop every queued request (the session state is unknown;
they are listed in ``dropped``). An answer that does not decode, or a queued request that has become too
large for the negotiated sizes, fails that request only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from openami.c1218.link import (
    LinkConfig,
    LinkEndpoint,
    LinkEvent,
    LinkFailed,
    MessageReceived,
    MessageSent,
    SendBytes,
    TrafficTimeout,
)
from openami.c1218.psem import Negotiated, max_read_octets
from openami.c1219.formats import Formats
from openami.c1219.procedures import ProcedureRequest, ProcedureResponse
from openami.c1222.services import (
    FullRead,
    FullWrite,
    Identify,
    IdentifyResponse,
    Logoff,
    Logon,
    Negotiate,
    NegotiateResponse,
    PartialReadOffset,
    PartialWriteOffset,
    ReadResponse,
    Request,
    Security,
    Terminate,
    Wait,
    decode_response,
)
from openami.c1222.services import Response as ServiceResponse
from openami.errors import LocalProtocolError, ProtocolError

__all__ = [
    "PROCEDURE_INITIATE_TABLE",
    "PROCEDURE_RESPONSE_TABLE",
    "ClientEvent",
    "ClientFailed",
    "ProcedureResult",
    "PsemClient",
    "Response",
    "UnexpectedMessage",
]

PROCEDURE_INITIATE_TABLE = 7
"""ST7 PROC_INITIATE_TBL: a procedure is started by writing it."""
PROCEDURE_RESPONSE_TABLE = 8
"""ST8 PROC_RESPONSE_TBL: the procedure's result is read from it."""


@dataclass(frozen=True, slots=True)
class Response:
    """The answer to ``request``, decoded against it (an `ErrorResponse` for a non-ok code)."""

    request: Request
    response: ServiceResponse

    @property
    def ok(self) -> bool:
        return self.response.ok


@dataclass(frozen=True, slots=True)
class ClientFailed:
    """``request`` got no usable answer; ``dropped`` are the queued requests abandoned with it."""

    reason: str
    request: Request | None = None
    dropped: tuple[Request, ...] = ()


@dataclass(frozen=True, slots=True)
class ProcedureResult:
    """Outcome of `PsemClient.run_procedure`: the ST8 record read back, or why there is none.

    ``response`` is None when the ST7 write or the ST8 read was refused or ST8 did not decode (``error``
    says which). It follows the `Response` events of the two table services; when either of them fails
    outright a `ClientFailed` comes instead.
    """

    request: ProcedureRequest
    response: ProcedureResponse | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """ST8 answers this request (procedure, flag, SEQ_NBR) and says completed."""
        return self.response is not None and self.response.answers(self.request) and self.response.ok


@dataclass(frozen=True, slots=True)
class UnexpectedMessage:
    """A message arrived while no request was outstanding (ignored)."""

    payload: bytes


ClientEvent = SendBytes | Response | Negotiated | ProcedureResult | ClientFailed | UnexpectedMessage
"""Everything `PsemClient` reports, in order; write every `SendBytes` to the line as it comes."""


@dataclass(frozen=True, slots=True)
class _Item:
    request: Request
    body: bytes
    procedure: ProcedureRequest | None = None
    formats: Formats | None = None
    step: int = 0  # PROCEDURE_INITIATE_TABLE / PROCEDURE_RESPONSE_TABLE for the two halves of a procedure


def _name(request: Request) -> str:
    return f"{type(request).__name__} (0x{request.code:02X})"


class PsemClient:
    """C12.18 reader core: ``request(service, now)`` queues, ``receive_data`` / ``handle_timer`` report.

    ``link_config`` configures the `LinkEndpoint` (leave its ``channel_traffic_timeout`` None on a
    client). ``answer_timeout`` (seconds) is how long the line may stay silent while an acknowledged
    request waits for its answer; the default, ``(max_retries + 2) × response_timeout`` (10 s with the
    link defaults), outlasts the meter's own retransmissions of an answer.
    """

    def __init__(self, link_config: LinkConfig | None = None, *, answer_timeout: float | None = None) -> None:
        self._link = LinkEndpoint(link_config)
        cfg = self._link.config
        timeout = (cfg.max_retries + 2) * cfg.response_timeout if answer_timeout is None else answer_timeout
        if not timeout > 0:
            raise LocalProtocolError(f"answer_timeout must be > 0 s, got {answer_timeout}")
        self._answer_timeout = timeout
        self._queue: deque[_Item] = deque()
        self._current: _Item | None = None
        self._sent = False
        self._deadline: float | None = None
        self.identity: IdentifyResponse | None = None
        """The last Identify answer."""
        self.negotiated: Negotiated | None = None
        """The Negotiate answer in force (None before Negotiate and after Terminate)."""

    # ----------------------------------------------------------------------------------------- properties

    @property
    def link(self) -> LinkEndpoint:
        """The link endpoint underneath (sizes in force, `LinkStats`)."""
        return self._link

    @property
    def answer_timeout(self) -> float:
        return self._answer_timeout

    @property
    def outstanding(self) -> Request | None:
        """The request sent and not yet answered."""
        return None if self._current is None else self._current.request

    @property
    def pending(self) -> tuple[Request, ...]:
        """Requests queued behind the outstanding one."""
        return tuple(item.request for item in self._queue)

    @property
    def busy(self) -> bool:
        """A request is outstanding or queued."""
        return self._current is not None or bool(self._queue)

    @property
    def max_read_octets(self) -> int:
        """Table octets one read answer can carry at the sizes in force."""
        return max_read_octets(self._link.packet_size, self._link.nbr_packets)

    # ----------------------------------------------------------------------------------------- requests

    def request(self, service: Request, now: float) -> list[bytes]:
        """Queue ``service``; returns the bytes to write now (its first packet, if the link was idle).

        Raises `LocalProtocolError` if it goes out at once and does not fit the sizes in force.
        """
        return self._enqueue([_Item(service, service.encode())], now)

    def identify(self, now: float) -> list[bytes]:
        return self.request(Identify(), now)

    def negotiate(self, packet_size: int, nbr_packets: int, bauds: tuple[int, ...], now: float) -> list[bytes]:
        """Offer ``packet_size`` bytes × ``nbr_packets`` packets and baud codes in order of preference."""
        return self.request(Negotiate(packet_size, nbr_packets, tuple(bauds)), now)

    def logon(self, user_id: int, user: bytes, now: float) -> list[bytes]:
        """C12.18 Logon: ``user`` up to 10 bytes, blank padded."""
        return self.request(Logon(user_id, user), now)

    def security(self, password: bytes, now: float) -> list[bytes]:
        """C12.18 Security: ``password`` up to 20 bytes, blank padded."""
        return self.request(Security(password), now)

    def read(self, table: int, now: float) -> list[bytes]:
        """Full Read of table id ``table`` (MT n = 0x0800 | n)."""
        return self.request(FullRead(table), now)

    def read_offset(self, table: int, offset: int, octet_count: int, now: float) -> list[bytes]:
        """Partial Read of ``octet_count`` bytes at byte ``offset``."""
        return self.request(PartialReadOffset(table, offset, octet_count), now)

    def write(self, table: int, data: bytes, now: float) -> list[bytes]:
        """Full Write of ``data`` to ``table``."""
        return self.request(FullWrite(table, data), now)

    def write_offset(self, table: int, offset: int, data: bytes, now: float) -> list[bytes]:
        """Partial Write of ``data`` at byte ``offset``."""
        return self.request(PartialWriteOffset(table, offset, data), now)

    def wait(self, seconds: int, now: float) -> list[bytes]:
        return self.request(Wait(seconds), now)

    def logoff(self, now: float) -> list[bytes]:
        return self.request(Logoff(), now)

    def terminate(self, now: float) -> list[bytes]:
        return self.request(Terminate(), now)

    def run_procedure(self, procedure: ProcedureRequest, now: float, *, formats: Formats | None = None) -> list[bytes]:
        """Queue a Full Write of ``procedure`` to ST7 and a Full Read of ST8; a `ProcedureResult` follows.

        ``formats`` gives ST0's DATA_ORDER for the ST7/ST8 records (little-endian by default).
        """
        write = FullWrite(PROCEDURE_INITIATE_TABLE, procedure.encode(formats))
        read = FullRead(PROCEDURE_RESPONSE_TABLE)
        return self._enqueue(
            [
                _Item(write, write.encode(), procedure, formats, PROCEDURE_INITIATE_TABLE),
                _Item(read, read.encode(), procedure, formats, PROCEDURE_RESPONSE_TABLE),
            ],
            now,
        )

    def reset(self) -> tuple[Request, ...]:
        """Forget the outstanding and queued requests and reset the link; returns the requests dropped."""
        dropped = (() if self._current is None else (self._current.request,)) + self.pending
        self._queue.clear()
        self._current = None
        self._sent = False
        self._deadline = None
        self.negotiated = None
        self._link.reset()
        return dropped

    # ----------------------------------------------------------------------------------------- driver API

    def receive_data(self, data: bytes, now: float) -> list[ClientEvent]:
        """Bytes from the line at ``now``; returns the events in order."""
        out: list[ClientEvent] = []
        before = self._activity()
        self._process(self._link.receive_data(data, now), now, out)
        if self._current is not None and self._sent and self._activity() != before:
            self._deadline = now + self._answer_timeout
        self._send_next(now, out)
        return out

    def next_timer(self) -> float | None:
        """When `handle_timer` should next be called, or None."""
        return min((t for t in (self._link.next_timer(), self._deadline) if t is not None), default=None)

    def handle_timer(self, now: float) -> list[ClientEvent]:
        """Run the link's timers and the answer timeout due at ``now``."""
        out: list[ClientEvent] = []
        self._process(self._link.handle_timer(now), now, out)
        current = self._current
        if current is not None and self._deadline is not None and now >= self._deadline:
            self._fail(f"no answer to {_name(current.request)} within {self._answer_timeout} s", out, drop=True)
        self._send_next(now, out)
        return out

    # ----------------------------------------------------------------------------------------- internals

    def _activity(self) -> int:
        stats = self._link.stats
        return stats.packets_received + stats.duplicates + stats.receive_errors

    def _enqueue(self, items: list[_Item], now: float) -> list[bytes]:
        if self._current is None and not self._queue and len(items[0].body) > self._link.max_payload:
            raise LocalProtocolError(
                f"{_name(items[0].request)} is {len(items[0].body)} bytes; the link carries at most "
                f"{self._link.max_payload} at {self._link.packet_size}-byte packets × {self._link.nbr_packets}"
            )
        self._queue.extend(items)
        out: list[ClientEvent] = []
        self._send_next(now, out)
        return [event.data for event in out if isinstance(event, SendBytes)]

    def _send_next(self, now: float, out: list[ClientEvent]) -> None:
        while self._current is None and self._queue:
            item = self._queue.popleft()
            if len(item.body) > self._link.max_payload:
                self._current = item
                reason = f"{_name(item.request)} is {len(item.body)} bytes, above the {self._link.max_payload} in force"
                self._fail(reason, out, drop=False)
                continue
            self._current = item
            self._sent = False
            self._deadline = None
            self._process(self._link.send_message(item.body, now), now, out)

    def _process(self, events: list[LinkEvent], now: float, out: list[ClientEvent]) -> None:
        for event in events:
            if isinstance(event, SendBytes):
                out.append(event)
            elif isinstance(event, MessageSent):
                if self._current is not None and not self._sent:
                    self._sent = True
                    self._deadline = now + self._answer_timeout
            elif isinstance(event, MessageReceived):
                self._on_answer(event.payload, out)
            elif isinstance(event, LinkFailed):
                if self._current is not None:
                    self._fail(f"link failed: {event.reason}", out, drop=True)
            elif isinstance(event, TrafficTimeout) and self._current is not None:
                self._fail("channel traffic timeout (the link was reset)", out, drop=True)
            # PeerDuplicate / ReceiveError: handled by the link and counted in its stats.

    def _on_answer(self, payload: bytes, out: list[ClientEvent]) -> None:
        item = self._current
        if item is None or not self._sent:
            out.append(UnexpectedMessage(payload))
            return
        try:
            response = decode_response(payload, item.request)
        except ProtocolError as exc:
            self._fail(f"undecodable answer to {_name(item.request)}: {exc}", out, drop=False)
            return
        self._current = None
        self._deadline = None
        out.append(Response(item.request, response))
        if isinstance(response, IdentifyResponse):
            self.identity = response
        elif isinstance(response, NegotiateResponse):
            self._apply_negotiation(item.request, response, out)
        elif isinstance(item.request, Terminate):
            # The meter is back at the default sizes. Only the sizes are restored here, not a full link
            # reset: the toggle bit of the last answer is kept, so a retransmitted Terminate answer (our ACK
            # was lost) is still recognised as a duplicate.
            cfg = self._link.config
            self._link.apply_negotiation(cfg.packet_size, cfg.nbr_packets, baud_rate=cfg.baud_rate)
            self.negotiated = None
        if item.procedure is not None:
            self._procedure_step(item, response, out)

    def _apply_negotiation(self, request: Request, answer: NegotiateResponse, out: list[ClientEvent]) -> None:
        negotiated = Negotiated(answer.packet_size, answer.nbr_packets, answer.baud)
        try:
            self._link.apply_negotiation(answer.packet_size, answer.nbr_packets, baud_rate=negotiated.baud_rate)
        except LocalProtocolError as exc:
            self._fail(f"Negotiate answer cannot be applied: {exc}", out, drop=True, request=request)
            return
        self.negotiated = negotiated
        out.append(negotiated)

    def _procedure_step(self, item: _Item, response: ServiceResponse, out: list[ClientEvent]) -> None:
        procedure = item.procedure
        assert procedure is not None
        if item.step == PROCEDURE_INITIATE_TABLE:
            if not response.ok:
                self._drop_partner(item)
                out.append(ProcedureResult(procedure, None, f"ST7 write answered {response.code.name}"))
            return
        if not isinstance(response, ReadResponse):
            out.append(ProcedureResult(procedure, None, f"ST8 read answered {response.code.name}"))
            return
        try:
            record = ProcedureResponse.decode(response.data, item.formats)
        except ProtocolError as exc:
            out.append(ProcedureResult(procedure, None, f"ST8 does not decode: {exc}"))
            return
        out.append(ProcedureResult(procedure, record))

    def _drop_partner(self, item: _Item) -> None:
        """Drop the ST8 read queued right behind the ST7 write ``item``."""
        if item.step == PROCEDURE_INITIATE_TABLE and self._queue and self._queue[0].procedure is item.procedure:
            self._queue.popleft()

    def _fail(self, reason: str, out: list[ClientEvent], *, drop: bool, request: Request | None = None) -> None:
        """Fail the current item (clearing it), and every queued one with ``drop``."""
        item = self._current
        self._current = None
        self._sent = False
        self._deadline = None
        if item is not None:
            request = item.request
            self._drop_partner(item)
        dropped: tuple[Request, ...] = ()
        if drop:
            dropped = self.pending
            self._queue.clear()
        out.append(ClientFailed(reason, request, dropped))
