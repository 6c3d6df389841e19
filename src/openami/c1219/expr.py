"""Expressions in table definitions, written as in the standard's table syntax.

Dimensions and conditions are small expressions over other tables' fields, e.g.
``"ACT_REGS_TBL.NBR_TIERS"``, ``"(ACT_LP_TBL.NBR_CHNS_SET1 + 2) / 2"`` or
``"GEN_CONFIG_TBL.STD_TBLS_USED[64] and ACT_LP_TBL.LP_FLAGS.BLK_END_READ_FLAG"``. They are parsed once
(with `ast`, evaluated by a small walker — never `eval`) and evaluated when a definition is bound to a
device configuration. ``/`` is integer division as in C12.19; ``SET[n]`` is membership.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from openami.errors import LocalProtocolError

__all__ = ["Env", "Expr", "UnboundReference"]


class UnboundReference(LocalProtocolError):
    """An expression names a value the device configuration does not have."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the device configuration has no value for {name}")
        self.name = name


class Env(Protocol):
    """What expressions are evaluated against (a `DeviceConfig`)."""

    def lookup(self, name: str) -> Any:
        """The value of a dotted name such as ``ACT_REGS_TBL.NBR_TIERS``; raises `UnboundReference`."""
        ...


_BINOPS: Mapping[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.floordiv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
}
_COMPARE: Mapping[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_CONSTANTS = {"TRUE": True, "FALSE": False}


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


@dataclass(frozen=True)
class Expr:
    """A parsed expression; ``Expr("A_TBL.X + 1").evaluate(env)``."""

    text: str
    _tree: ast.expr = field(init=False, repr=False, compare=False, hash=False)
    names: frozenset[str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        try:
            tree = ast.parse(self.text.strip(), mode="eval").body
        except SyntaxError as exc:
            raise LocalProtocolError(f"bad expression {self.text!r}: {exc.msg}") from None
        names: set[str] = set()
        self._check(tree, names)
        object.__setattr__(self, "_tree", tree)
        object.__setattr__(self, "names", frozenset(names))

    def _check(self, node: ast.expr, names: set[str]) -> None:
        dotted = _dotted(node)
        if dotted is not None:
            if dotted not in _CONSTANTS:
                names.add(dotted)
            return
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return
        children: list[ast.expr]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            children = [node.left, node.right]
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
            children = [node.operand]
        elif isinstance(node, ast.BoolOp):
            children = list(node.values)
        elif isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
            children = [node.left, *node.comparators]
        elif isinstance(node, ast.Subscript):
            children = [node.value, node.slice]
        else:
            raise LocalProtocolError(f"expression {self.text!r}: {ast.dump(node)[:40]} is not allowed")
        for child in children:
            self._check(child, names)

    def evaluate(self, env: Env) -> Any:
        """The value under ``env`` (raises `UnboundReference` for a name it lacks)."""
        return self._eval(self._tree, env)

    def _eval(self, node: ast.expr, env: Env) -> Any:
        dotted = _dotted(node)
        if dotted is not None:
            return _CONSTANTS[dotted] if dotted in _CONSTANTS else env.lookup(dotted)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](self._eval(node.left, env), self._eval(node.right, env))
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, env)
            return (not value) if isinstance(node.op, ast.Not) else -value
        if isinstance(node, ast.BoolOp):
            values = (self._eval(v, env) for v in node.values)
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, env)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self._eval(comparator, env)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        assert isinstance(node, ast.Subscript)
        container = self._eval(node.value, env)
        key = self._eval(node.slice, env)
        if isinstance(container, frozenset | set):
            return key in container
        try:
            return container[key]
        except (IndexError, KeyError, TypeError):
            raise LocalProtocolError(f"{self.text!r}: cannot index {container!r} by {key!r}") from None

    def __str__(self) -> str:
        return self.text
