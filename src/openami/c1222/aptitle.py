"""C12.22 application-process titles (ApTitles): absolute OIDs or OIDs relative to a base.

C12.22 relative titles hang under ``2.16.124.113620.1.22.0`` unless an application context says
otherwise (c12-protocol-facts.md §1). Text form: ``2.16.124.113620.1.22.0.123.4`` or ``.123.4``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openami.c1222.ber import decode_oid_arcs, encode_oid_arcs, encode_tlv
from openami.errors import LocalProtocolError

__all__ = ["C1222_APPLICATION_CONTEXT", "C1222_BASE", "ApTitle"]


@dataclass(frozen=True, slots=True)
class ApTitle:
    """An ApTitle: ``arcs`` and whether they are relative to a base OID."""

    arcs: tuple[int, ...]
    relative: bool = False
    _content: bytes = field(init=False, repr=False, compare=False, hash=False)
    _acse: bytes | None = field(default=None, init=False, repr=False, compare=False, hash=False)
    _absolute: ApTitle | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_content", encode_oid_arcs(self.arcs, relative=self.relative))  # validates

    @classmethod
    def parse(cls, text: str) -> ApTitle:
        """``"2.16.124.113620.1.22.0.5"`` (absolute) or ``".123.4"`` (relative)."""
        relative = text.startswith(".")
        body = text[1:] if relative else text
        try:
            arcs = tuple(int(part) for part in body.split("."))
        except ValueError:
            raise LocalProtocolError(f"ApTitle {text!r}: expected dotted decimal arcs like .123.4") from None
        return cls(arcs, relative)

    @classmethod
    def from_content(cls, content: bytes | bytearray | memoryview, *, relative: bool) -> ApTitle:
        """From OID / RELATIVE-OID content octets (raises `RemoteProtocolError` if malformed)."""
        arcs = decode_oid_arcs(content, relative=relative)
        title = object.__new__(cls)
        object.__setattr__(title, "arcs", arcs)
        object.__setattr__(title, "relative", relative)
        object.__setattr__(title, "_acse", None)
        object.__setattr__(title, "_absolute", None)
        # the decoder refuses padded sub-identifiers, so the octets are the canonical encoding — except
        # an absolute OID whose first sub-identifier folds arcs ApTitle would refuse: re-check those
        if relative:
            object.__setattr__(title, "_content", bytes(content))
        else:
            object.__setattr__(title, "_content", encode_oid_arcs(arcs, relative=False))
        return title

    def content(self) -> bytes:
        """OID or RELATIVE-OID content octets (no tag, no length)."""
        return self._content

    def acse_value(self) -> bytes:
        """The title as the value of an ACSE AP-title element: ``06 L <OID>`` (absolute) or
        ``80 L <RELATIVE-OID>`` (relative), shortest length form; computed once."""
        value = self._acse
        if value is None:
            value = encode_tlv(0x80 if self.relative else 0x06, self._content)
            object.__setattr__(self, "_acse", value)
        return value

    def absolute(self, base: ApTitle | None = None) -> ApTitle:
        """This title in absolute form: relative arcs appended to ``base`` (default `C1222_BASE`)."""
        if not self.relative:
            return self
        if base is None or base == C1222_BASE:  # the common case, cached (titles are immutable)
            if self._absolute is None:
                title = object.__new__(ApTitle)
                object.__setattr__(title, "arcs", C1222_BASE.arcs + self.arcs)
                object.__setattr__(title, "relative", False)
                # absolute content of base ‖ relative arcs = base content ‖ relative content
                object.__setattr__(title, "_content", C1222_BASE.content() + self._content)
                object.__setattr__(title, "_acse", None)
                object.__setattr__(title, "_absolute", None)
                object.__setattr__(self, "_absolute", title)
            assert self._absolute is not None
            return self._absolute
        return ApTitle(base.arcs + self.arcs, False)

    def relative_to(self, base: ApTitle | None = None) -> ApTitle | None:
        """This title relative to ``base`` if it lies under it, else None."""
        root = base if base is not None else C1222_BASE
        if self.relative:
            return self
        n = len(root.arcs)
        if len(self.arcs) > n and self.arcs[:n] == root.arcs:
            return ApTitle(self.arcs[n:], True)
        return None

    def __str__(self) -> str:
        text = ".".join(str(a) for a in self.arcs)
        return "." + text if self.relative else text


C1222_APPLICATION_CONTEXT = ApTitle((2, 16, 124, 113620, 1, 22))
"""The C12.22 application context OID (``06 07 60 7C 86 F7 54 01 16``)."""

C1222_BASE = ApTitle((2, 16, 124, 113620, 1, 22, 0))
"""The base of relative ApTitles (content ``60 7C 86 F7 54 01 16 00``)."""
