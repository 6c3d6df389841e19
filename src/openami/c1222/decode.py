"""C12.22 messages → JSON-ready reports: what ``openami c1222 decode`` shows (sans-IO).

A report (a dict of str, int, bool, None, lists and dicts only) holds, per message:

- ``acse``: the elements present (titles as text, ``.123.4`` when relative; ids; the calling
  authentication value); ``epsem``: the control byte's fields and the ED class;
- ``security``: ``mode`` (cleartext / authenticated / encrypted) and ``mac``: ``none`` (mode 0),
  ``good``, ``bad`` or ``no-key`` (no key for the key id, or no key id / IV in the message); with a
  good MAC the plaintext P (hex); in mode 2 without one the ciphertext (hex) — services are unknown;
- ``kind``: ``request`` (every service code ≥ 0x20), ``response`` (every code ≤ 0x1F), ``mixed``
  or ``unknown`` (services not readable); ``services``: one dict per service with a ``summary``.

Responses are decoded against the request they answer (`openami.c1222.services.decode_response`):
`MessageDecoder` remembers decoded requests and pairs a response with the latest unanswered request
whose calling invocation id (A8) equals the response's called invocation id (A4) — or, when the
response has no A4, its own A8 (peers such as icsnpp's generator echo the id there) — and whose
titles mirror the response's (request calling = response called and vice versa, compared in absolute
form; a title missing on either side does not prevent the match). Services pair up in order. A
response without a request shows its response code and the raw bytes after it.

Writes to ST7 and reads of ST8 also show the procedure header (c12-protocol-facts.md §6):
TABLE_IDB_BFLD:2 (number bits 0–10, manufacturer bit 11, selector bits 12–15), SEQ_NBR:1, then
parameters (ST7) or RESULT_CODE:1 and response data (ST8). TABLE_IDB_BFLD is read little-endian, i.e.
ST0 DATA_ORDER 0, as Wireshark's dissector does (the real captures agree).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntFlag
from typing import Any, cast

from openami.c1222 import protect
from openami.c1222.acse import C1221Auth, C1222Auth, Message
from openami.c1222.aptitle import C1222_BASE, ApTitle
from openami.c1222.codes import ResponseCode, describe_code
from openami.c1222.eax import EaxPrime
from openami.c1222.epsem import EpsemControl, SecurityMode, decode_epsem_body, split_epsem
from openami.c1222.services import (
    ChecksumError,
    ErrorResponse,
    ReadResponse,
    Request,
    decode_request,
    decode_response,
    format_table_id,
    table_checksum,
)
from openami.errors import LocalProtocolError, ProtocolError

__all__ = [
    "MAC_BAD",
    "MAC_GOOD",
    "MAC_NONE",
    "MAC_NO_KEY",
    "PROCEDURE_RESULTS",
    "STANDARD_PROCEDURES",
    "MessageDecoder",
    "decode_messages",
    "describe_procedure",
    "describe_request",
    "describe_response",
    "jsonable",
]

MAC_GOOD, MAC_BAD, MAC_NO_KEY, MAC_NONE = "good", "bad", "no-key", "none"

STANDARD_PROCEDURES: dict[int, str] = {
    0: "cold start", 1: "warm start", 2: "save configuration", 3: "clear data", 4: "reset list pointers",
    5: "update last read entry", 6: "change end device mode", 7: "clear standard status flags",
    8: "clear manufacturer status flags", 9: "remote reset", 10: "set date and/or time",
    11: "execute diagnostics", 12: "activate all pending tables", 13: "activate specific pending tables",
    14: "clear all pending tables", 15: "clear specific pending tables", 16: "start load profile",
    17: "stop load profile", 18: "log in", 19: "log out", 20: "initiate an immediate call",
    21: "direct load control", 22: "modify credit", 27: "clear pending call status",
    28: "start quality of service monitors", 29: "stop quality of service monitors",
    30: "start secured registers", 31: "stop secured registers", 32: "set precision date and/or time",
}  # fmt: skip
"""Standard procedure names, c12-protocol-facts.md §6."""

PROCEDURE_RESULTS: dict[int, str] = {
    0: "completed", 1: "accepted, not completed", 2: "invalid parameter", 3: "conflicts with setup",
    4: "timing constraint", 5: "no authorization", 6: "unrecognized procedure",
}  # fmt: skip
"""ST8 RESULT_CODE values, c12-protocol-facts.md §6."""

_SELECTORS = {
    0: "respond on completion",
    1: "respond on exception",
    2: "never respond",
    3: "respond now and on completion",
}
_PROCEDURE_TABLE, _RESULT_TABLE = 7, 8


def jsonable(value: Any) -> Any:
    """``value`` made of JSON types: bytes → hex, ApTitle → text, IntFlag → {value, flags},
    IntEnum → int, dataclasses → dicts (with their ``type``), tuples → lists."""
    if value is None or isinstance(value, bool | str | float):
        return value
    if isinstance(value, IntFlag):
        names = [m.name for m in type(value) if m.name and m.value and (value & m) == m]
        return {"value": int(value), "flags": names}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, ApTitle):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"type": type(value).__name__}
        for f in dataclasses.fields(value):
            if not f.name.startswith("_"):
                out[f.name] = jsonable(getattr(value, f.name))
        return out
    return str(value)


def _text(data: bytes) -> str | None:
    """``data`` as text if every byte is printable ASCII, else None."""
    return data.decode("ascii") if data and all(0x20 <= b < 0x7F for b in data) else None


def describe_procedure(data: bytes, *, result: bool = False) -> dict[str, Any] | None:
    """The ST7 (``result=False``) or ST8 header of table data, None if too short (see module doc)."""
    if len(data) < (4 if result else 3):
        return None
    bits = int.from_bytes(data[:2], "little")
    number, manufacturer = bits & 0x07FF, bool(bits & 0x0800)
    out: dict[str, Any] = {
        "number": number,
        "manufacturer": manufacturer,
        "name": ("MP" if manufacturer else "SP") + str(number),
        "description": None if manufacturer else STANDARD_PROCEDURES.get(number),
        "selector": bits >> 12,
        "selector_text": _SELECTORS.get(bits >> 12, "reserved"),
        "sequence": data[2],
    }
    if result:
        out["result_code"] = data[3]
        out["result"] = PROCEDURE_RESULTS.get(data[3], "reserved")
        out["response_data"] = data[4:].hex()
    else:
        out["parameters"] = data[3:].hex()
    return out


def _table_part(out: dict[str, Any], request: Any) -> str:
    table = getattr(request, "table", None)
    if table is None:
        return ""
    name = format_table_id(table)
    out["table_name"] = name
    return " " + name


def _request_summary(req: Request, out: dict[str, Any]) -> str:
    name = describe_code(req.code)
    text = name + _table_part(out, req)
    fields = {f.name: getattr(req, f.name) for f in dataclasses.fields(cast(Any, req))}
    if "offset" in fields:
        text += f" offset {fields['offset']}"
    if "indices" in fields:
        text += f" index {list(fields['indices'])}"
    if "octet_count" in fields:
        text += f" count {fields['octet_count']}"
    if "element_count" in fields:
        text += f" count {fields['element_count']}"
    if "data" in fields:
        data: bytes = fields["data"]
        out["count"], out["checksum"], out["text"] = len(data), table_checksum(data), _text(data)
        text += f", {len(data)} bytes"
        if getattr(req, "table", None) == _PROCEDURE_TABLE and "indices" not in fields and not fields.get("offset"):
            out["procedure"] = describe_procedure(data)
            if out["procedure"] is not None:
                text += f", procedure {out['procedure']['name']} seq {out['procedure']['sequence']}"
    if "password" in fields:
        out["password_text"] = _text(fields["password"])
        shown = out["password_text"].rstrip(" ") if out["password_text"] is not None else fields["password"].hex()
        text += f" password {shown!r}"
    if "user" in fields:
        out["user_name"] = _text(fields["user"])
        text += f" user {fields['user'].decode('latin-1').rstrip(' ')!r}"
    if fields.get("user_id") is not None:
        text += f" user id {fields['user_id']}"
    if fields.get("session_idle_timeout") is not None:
        text += f" timeout {fields['session_idle_timeout']} s"
    if "ap_title" in fields:
        text += f" {fields['ap_title']}"
    if "seconds" in fields:
        text += f" {fields['seconds']} s"
    return text


def describe_request(body: bytes) -> tuple[dict[str, Any], Request | None]:
    """One request service body → (report dict, the decoded request or None if it did not decode)."""
    if not body:
        return {"error": "empty service"}, None
    code = body[0]
    out: dict[str, Any] = {"code": code, "code_hex": f"0x{code:02X}", "service": describe_code(code)}
    try:
        request = decode_request(body)
    except ChecksumError as exc:
        out.update(error=str(exc), data=exc.data.hex(), checksum=exc.received, expected_checksum=exc.expected)
        out.update(checksum_ok=False, summary=f"{out['service']}: bad table-data checksum")
        return out, None
    except ProtocolError as exc:
        out.update(error=str(exc), raw=body[1:].hex(), summary=f"{out['service']}: {exc}")
        return out, None
    fields = jsonable(request)
    out["type"] = fields.pop("type")
    out.update(fields)
    out["summary"] = _request_summary(request, out)
    if "checksum" in out:
        out["checksum_ok"] = True
    return out, request


def _response_name(code: int) -> str:
    try:
        return ResponseCode(code).name
    except ValueError:
        return describe_code(code)


def describe_response(body: bytes, request: Request | None) -> dict[str, Any]:
    """One response service body; decoded against ``request`` when known, else code + raw bytes."""
    if not body:
        return {"error": "empty service"}
    code = body[0]
    name = _response_name(code)
    out: dict[str, Any] = {"code": code, "code_hex": f"0x{code:02X}", "response": name}
    out["description"] = describe_code(code)
    if request is None:
        out.update(raw=body[1:].hex(), summary=f"{name} (no matching request: raw {len(body) - 1} bytes)")
        return out
    service = describe_code(request.code)
    out["request"] = {"code": request.code, "service": service}
    try:
        response = decode_response(body, request)
    except ChecksumError as exc:
        out.update(error=str(exc), data=exc.data.hex(), count=len(exc.data), text=_text(exc.data))
        out.update(checksum=exc.received, expected_checksum=exc.expected, checksum_ok=False)
        out["summary"] = f"{name} to {service}: {len(exc.data)} bytes, BAD checksum 0x{exc.received:02X}"
        return out
    except ProtocolError as exc:
        out.update(error=str(exc), raw=body[1:].hex(), summary=f"{name} to {service}: {exc}")
        return out
    fields = jsonable(response)
    out["type"] = fields.pop("type")
    out.update(fields)
    text = f"{name} to {service}"
    if isinstance(response, ReadResponse):
        out.update(count=response.count, checksum=body[-1], checksum_ok=True, text=_text(response.data))
        shown = f" {out['text']!r}" if out["text"] is not None else ""
        text += f"{_table_part({}, request)}: {response.count} bytes{shown}, checksum 0x{body[-1]:02X}"
        if getattr(request, "table", None) == _RESULT_TABLE and not getattr(request, "offset", 0):
            out["procedure"] = describe_procedure(response.data, result=True)
    elif isinstance(response, ErrorResponse):
        text += f": {response.code.description}"
        if response.max_size is not None:
            out["max_size"] = response.max_size
    elif len(fields) > 1:
        text += ": " + ", ".join(
            f"{k} {v}" for k, v in fields.items() if k != "code" and not isinstance(v, list | dict)
        )
    out["summary"] = text.rstrip(": ")
    return out


def _acse(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("application_context", "called", "called_invocation_id", "calling", "calling_ae_qualifier"):
        value = getattr(message, name)
        if value is not None:
            out[name] = jsonable(value)
    if message.calling_invocation_id is not None:
        out["calling_invocation_id"] = message.calling_invocation_id
    if message.mechanism is not None:
        out["mechanism"] = message.mechanism.hex()
    auth = message.auth
    if isinstance(auth, C1222Auth):
        out["auth"] = {"form": "C12.22", "key_id": auth.key_id, "iv": None if auth.iv is None else auth.iv.hex()}
    elif isinstance(auth, C1221Auth):
        out["auth"] = {"form": "C12.21", "kind": auth.kind.name.lower(), "data": auth.data.hex()}
    elif auth is not None:
        out["auth"] = {"form": "octet-aligned", "data": auth.data.hex()}
    if auth is not None and auth.indirect_reference is not None:
        out["auth"]["indirect_reference"] = auth.indirect_reference
    if message.user_information_indirect_ref is not None:
        out["user_information_indirect_ref"] = message.user_information_indirect_ref
    if message.extra:
        out["unknown_elements"] = [{"tag": f"0x{e.tag:02X}", "content": e.content.hex()} for e in message.extra]
    return out


def _epsem(control: EpsemControl, raw: int) -> dict[str, Any]:
    return {
        "control": raw,
        "control_hex": f"0x{raw:02X}",
        "security_mode": control.security_mode.name.lower(),
        "response_control": control.response_control.name.lower(),
        "ed_class_included": control.ed_class_included,
        "proxy_service_used": control.proxy_service_used,
        "recovery_session": control.recovery_session,
    }


@dataclass(slots=True)
class _Pending:
    index: int
    report: dict[str, Any]
    calling: ApTitle | None
    called: ApTitle | None
    invocation_id: int
    requests: list[Request | None]


class MessageDecoder:
    """Decodes messages one after the other, pairing responses with earlier requests (module doc).

    ``keys`` maps key id (0..255) → 16-byte AES key; ``base`` is the root of relative ApTitles.
    """

    def __init__(self, keys: Mapping[int, bytes] | None = None, *, base: ApTitle = C1222_BASE) -> None:
        self.keys = {int(k): bytes(v) for k, v in (keys or {}).items()}
        for key_id, key in self.keys.items():
            if not 0 <= key_id <= 0xFF or len(key) != 16:
                raise LocalProtocolError(f"key id {key_id}: ids are 0..255 and keys 16 bytes (AES-128)")
        self.base = base
        self.reports: list[dict[str, Any]] = []
        self._pending: list[_Pending] = []

    def decode(self, apdu: bytes | bytearray | memoryview, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The report of one APDU (also appended to `reports`); ``meta`` items go first (frame, …)."""
        data = bytes(apdu)
        report: dict[str, Any] = {"index": len(self.reports), **(meta or {})}
        report.update(kind="unknown", length=len(data), apdu=data.hex())
        self.reports.append(report)
        try:
            message = Message.decode(data)
            report["acse"] = _acse(message)
            control, body, mac = split_epsem(message.user_information)
        except ProtocolError as exc:
            report["error"] = str(exc)
            return report
        report["epsem"] = _epsem(control, message.user_information[0])
        plaintext = self._security(report, message, control, body, mac)
        if plaintext is None:
            return report
        try:
            ed_class, services = decode_epsem_body(plaintext, control.ed_class_included)
        except ProtocolError as exc:
            report["error"] = f"EPSEM: {exc}"
            return report
        report["epsem"]["ed_class"] = None if ed_class is None else ed_class.hex()
        self._services(report, message, services)
        return report

    def _security(
        self, report: dict[str, Any], message: Message, control: EpsemControl, body: bytes, mac: bytes | None
    ) -> bytes | None:
        """Fill ``report["security"]``; return P when it can be read (else None)."""
        mode = control.security_mode
        security: dict[str, Any] = {"mode": mode.name.lower()}
        report["security"] = security
        if mac is None:
            security["mac"] = MAC_NONE
            return body
        security["mac_value"] = mac.hex()
        clear = body if mode is SecurityMode.AUTHENTICATED else None
        auth = message.auth if isinstance(message.auth, C1222Auth) else None
        key_id = None if auth is None else auth.key_id
        iv = None if auth is None else auth.iv
        security.update(key_id=key_id, iv=None if iv is None else iv.hex())
        key = None if key_id is None else self.keys.get(key_id)
        if key_id is None or iv is None or key is None:
            security["mac"] = MAC_NO_KEY
            if key_id is None or iv is None:
                security["note"] = "no key id / IV in the message (they come from a session not seen here)"
            if clear is None:
                security["ciphertext"] = body.hex()
            return clear
        try:
            opened = protect.open(message, {key_id: key}, base=self.base)
            plaintext = opened.plaintext
        except protect.MessageMacError:
            security["mac"] = MAC_BAD
            if clear is None:
                security["ciphertext"] = body.hex()
            return clear
        except ProtocolError:  # the MAC verified but the EPSEM inside is malformed
            n = protect.canonified_cleartext(message, base=self.base)
            plaintext = body if clear is not None else EaxPrime(key).open(n, body, mac)
        security["mac"] = MAC_GOOD
        security["plaintext"] = plaintext.hex()
        return plaintext

    def _services(self, report: dict[str, Any], message: Message, services: tuple[bytes, ...]) -> None:
        is_request = [s[0] >= 0x20 for s in services]
        report["kind"] = "request" if all(is_request) else "response" if not any(is_request) else "mixed"
        pending = None if report["kind"] == "request" else self._match(message)
        if pending is not None:
            report["request_index"] = pending.index
            pending.report["response_index"] = report["index"]
        answers = [body for body, req in zip(services, is_request, strict=True) if not req]
        pairing = iter(_pair(answers, [] if pending is None else pending.requests))
        described: list[dict[str, Any]] = []
        requests: list[Request | None] = []
        for body, req in zip(services, is_request, strict=True):
            if req:
                out, request = describe_request(body)
                requests.append(request)
            else:
                k = next(pairing)
                out = describe_response(body, None if k is None or pending is None else pending.requests[k])
                if k is not None and "request" in out:
                    out["request"]["position"] = k
            described.append(out)
        report["services"] = described
        if report["kind"] == "request" and message.calling_invocation_id is not None:
            self._pending.append(
                _Pending(
                    report["index"], report, message.calling, message.called, message.calling_invocation_id, requests
                )
            )

    def _same(self, a: ApTitle | None, b: ApTitle | None) -> bool:
        return a is None or b is None or a.absolute(self.base) == b.absolute(self.base)

    def _match(self, response: Message) -> _Pending | None:
        wanted = response.called_invocation_id
        if wanted is None:
            wanted = response.calling_invocation_id
        if wanted is None:
            return None
        for i in range(len(self._pending) - 1, -1, -1):
            p = self._pending[i]
            if (
                p.invocation_id == wanted
                and self._same(p.calling, response.called)
                and self._same(p.called, response.calling)
            ):
                del self._pending[i]
                return p
        return None


def _pair(answers: list[bytes], requests: list[Request | None]) -> list[int | None]:
    """For each response body, the position of the request service it answers (None: unknown).

    Equal counts pair in order. Otherwise (the standard's Example 8 answers Security + Read with the
    read data alone) each response takes the next request whose response layout it fits.
    """
    if len(answers) == len(requests):
        return [k if requests[k] is not None else None for k in range(len(answers))]
    out: list[int | None] = []
    start = 0
    for body in answers:
        chosen = None
        for k in range(start, len(requests)):
            request = requests[k]
            if request is None:
                continue
            try:
                decode_response(body, request)
            except ChecksumError:
                pass  # the layout fits; the report shows the bad checksum
            except ProtocolError:
                continue
            chosen = k
            break
        if chosen is not None:
            start = chosen + 1
        out.append(chosen)
    return out


def decode_messages(
    apdus: Iterable[bytes | tuple[bytes, Mapping[str, Any]]],
    keys: Mapping[int, bytes] | None = None,
    *,
    base: ApTitle = C1222_BASE,
) -> list[dict[str, Any]]:
    """Reports of a sequence of APDUs (each alone or with a meta mapping), responses paired in order."""
    decoder = MessageDecoder(keys, base=base)
    for item in apdus:
        if isinstance(item, tuple):
            decoder.decode(item[0], item[1])
        else:
            decoder.decode(item)
    return decoder.reports
