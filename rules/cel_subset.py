"""A parser for the small part of CEL that most threshold conditions are written in: numbers,
``params.<name>``, ``window.<field>``, ``+ - * / %``, unary minus, ``< <= > >=``, ``&&`` and
parentheses. It exists to recognise a condition's shape (`rules.shapes`); anything outside the
subset is refused with None, never guessed, and the CEL runtime stays the reference.

Only conditions that CEL already compiled and type-checked are given to it, so it need not
report syntax errors; it must only never read a compiled condition differently from CEL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})
RELATIONS = frozenset({"<", "<=", ">", ">="})

# CEL's lexer: whitespace, // comments, double and int literals (decimal or 0x hex), identifiers.
_TOKEN = re.compile(
    r"(?P<space>[ \t\n\r\f]+|//[^\n]*)"
    r"|(?P<double>\d*\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)"
    r"|(?P<int>0x[0-9a-fA-F]+|\d+)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>&&|>=|<=|[-+*/%()<>.])"
)
_AFTER_NUMBER = re.compile(r"[A-Za-z0-9_.]")  # ``1u``, ``1.5.x``: outside the subset


@dataclass(frozen=True, slots=True)
class Number:
    value: int | float


@dataclass(frozen=True, slots=True)
class Param:
    name: str


@dataclass(frozen=True, slots=True)
class Field:
    """``window.<name>``."""

    name: str


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node


@dataclass(frozen=True, slots=True)
class Arithmetic:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Relation:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Conjunction:
    items: tuple[Node, ...]


Node = Number | Param | Field | Negate | Arithmetic | Relation | Conjunction


class Refused(Exception):
    """The source is outside the subset."""


def parse(source: str) -> Node | None:
    """The syntax tree of ``source``, or None when it uses anything outside the subset."""
    try:
        parser = _Parser(tokenize(source))
        node = parser.conjunction()
        parser.expect_end()
    except Refused:
        return None
    return node


def tokenize(source: str) -> list[tuple[str, str]]:
    """(kind, text) pairs without whitespace and comments; Refused at anything else."""
    tokens: list[tuple[str, str]] = []
    at = 0
    while at < len(source):
        match = _TOKEN.match(source, at)
        if match is None or match.lastgroup is None:
            raise Refused(source[at:])
        kind, at = match.lastgroup, match.end()
        if kind in ("double", "int") and _AFTER_NUMBER.match(source, at):
            raise Refused(source[at:])
        if kind != "space":
            tokens.append((kind, match.group()))
    return tokens


class _Parser:
    """Recursive descent with CEL's precedence: ``&&`` < relations < ``+ -`` < ``* / %`` <
    unary minus < member selection."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.at >= len(self.tokens):
            raise Refused("end of input")
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, text: str) -> None:
        if self.take()[1] != text:
            raise Refused(text)

    def expect_end(self) -> None:
        if self.at != len(self.tokens):
            raise Refused(self.tokens[self.at][1])

    def conjunction(self) -> Node:
        items = [self.relation()]
        while self.peek() == "&&":
            self.take()
            items.append(self.relation())
        return items[0] if len(items) == 1 else Conjunction(tuple(items))

    def relation(self) -> Node:
        left = self.sum()
        op = self.peek()
        if op not in RELATIONS:
            return left
        self.take()
        right = self.sum()
        if self.peek() in RELATIONS:  # ``a < b < c`` compares a bool: not a shape
            raise Refused("chained relation")
        return Relation(op, left, right)

    def sum(self) -> Node:
        node = self.product()
        while self.peek() in ("+", "-"):
            node = Arithmetic(self.take()[1], node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/", "%"):
            node = Arithmetic(self.take()[1], node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return Negate(self.unary())
        return self.primary()

    def primary(self) -> Node:
        kind, text = self.take()
        if text == "(":
            node = self.conjunction()
            self.expect(")")
            return node
        if kind == "double":
            return Number(float(text))
        if kind == "int":
            return Number(_int_literal(text))
        if kind == "name" and text in ("params", "window"):
            self.expect(".")
            member_kind, member = self.take()
            if member_kind != "name":
                raise Refused(member)
            return Param(member) if text == "params" else Field(member)
        raise Refused(text)


def _int_literal(text: str) -> int:
    value = int(text, 16) if text.startswith("0x") else int(text)
    if value > INT64_MAX:  # ``-9223372036854775808`` folds in CEL's parser; not here
        raise Refused(text)
    return value
