"""Generated statements as small records (blocks, ``if`` chains, updates, resets) and the source text they become."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Union

import libcst as cst

from put_migrate.analyze import _code

_DESTINATION_ORDER = ("callbacks", "loggers", "progress_bar")


@dataclass(frozen=True)
class Block:
    """A compound statement with one body: ``for ...:`` or ``if ...:``."""

    header: str
    body: tuple[Statement, ...]


@dataclass(frozen=True)
class IfChain:
    """``if``/``elif``/``else`` branches; a condition of None is the ``else``."""

    branches: tuple[tuple[str | None, tuple[Statement, ...]], ...]


@dataclass(frozen=True)
class Update:
    """``<target>.update(<value>, weight=...)``; ``batch_param`` weighs by ``extract_batch_size(<batch_param>)``,
    or by the local that holds it once it is hoisted."""

    target: str
    value: str
    weight: str | None = None
    batch_param: str | None = None


@dataclass(frozen=True)
class Reset:
    """``self.<attr>.reset()`` of a Metric object; with ``when``, only where that condition holds."""

    attr: str
    when: str | None = None
    logged: tuple[str, ...] = ()  # the names its log calls mark on the Metric (``shim.reset_logged`` clears them)


Statement = Union[str, Block, IfChain, Update, Reset]  # a str is the statement's source text


def indent_code(code: str, indent: str) -> str:
    """Every non-blank line of ``code`` indented by ``indent``."""
    return "\n".join((indent + line) if line.strip() else line for line in code.split("\n"))


def text(statement: Statement, indent: str, batch_size: str | None = None) -> str:
    """The source of a statement; ``batch_size`` is the local that holds the batch size, where one is hoisted."""
    if isinstance(statement, str):
        return statement
    if isinstance(statement, Block):
        return statement.header + "\n" + "\n".join(
            indent_code(text(s, indent, batch_size), indent) for s in statement.body
        )
    if isinstance(statement, IfChain):
        lines = []
        for index, (condition, body) in enumerate(statement.branches):
            lines.append("else:" if condition is None else f"{'if' if index == 0 else 'elif'} {condition}:")
            lines.extend(indent_code(text(s, indent, batch_size), indent) for s in (body or ("pass",)))
        return "\n".join(lines)
    if isinstance(statement, Update):
        weight = statement.weight
        if statement.batch_param is not None:
            weight = batch_size or f"extract_batch_size({statement.batch_param})"
        if weight:
            return f"{statement.target}.update({statement.value}, weight={weight})"
        return f"{statement.target}.update({statement.value})"
    reset = f"self.{statement.attr}.reset()"
    if statement.logged:
        reset = f"reset_logged(self.{statement.attr}, {', '.join(quote(n) for n in statement.logged)})"
    if statement.when is not None:
        return f"if {statement.when}:\n{indent}{reset}"
    return reset


def batch_size_updates(statement: Statement, param: str) -> int:
    """How many updates in ``statement`` are weighed by ``extract_batch_size(<param>)``."""
    if isinstance(statement, Block):
        return sum(batch_size_updates(s, param) for s in statement.body)
    if isinstance(statement, IfChain):
        return sum(batch_size_updates(s, param) for _, body in statement.branches for s in body)
    return int(isinstance(statement, Update) and statement.batch_param == param)


def quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def braces(text: str) -> str:
    """Literal text inside an f-string."""
    return text.replace("{", "{{").replace("}", "}}")


def destinations(*, callbacks: bool, loggers: bool, progress_bar: bool) -> tuple[str, ...]:
    chosen = {"callbacks": callbacks, "loggers": loggers, "progress_bar": progress_bar}
    return tuple(d for d in _DESTINATION_ORDER if chosen[d])


def dest_code(destinations: tuple[str, ...]) -> str:
    return "[" + ", ".join(quote(d) for d in destinations) + "]"


def name_literal(name: str, suffix: str | None = None) -> str:
    """A literal name as code; with ``suffix`` (an expression) an f-string ending with it."""
    if suffix is None:
        return quote(name)
    return "f" + quote(braces(name) + "{" + suffix + "}")


def put_call(name: str, value: str, destinations: tuple[str, ...], callback_alias: str | None = None) -> str:
    """``self.put(<name>, <value>, [...])`` with ``name`` and ``callback_alias`` given as code. A forked value is
    one put: its step or epoch name, and its plain name (for callbacks only) as ``callback_alias``."""
    alias = "" if callback_alias is None else f", callback_alias={callback_alias}"
    return f"self.put({name}, {value}, {dest_code(destinations)}{alias})"


def put(name: str, value: str, destinations: tuple[str, ...], suffix: str | None = None,
        callback_alias: str | None = None) -> str:
    """``self.put("name", ...)``; with ``suffix`` (an expression) the names are f-strings ending with it."""
    alias = None if callback_alias is None else name_literal(callback_alias, suffix)
    return put_call(name_literal(name, suffix), value, destinations, alias)


Named = tuple[str, tuple[str, ...], bool]  # a name put, its destinations, whether a dataloader suffix ends it
CALLBACKS_ONLY = ("callbacks",)


def step_names(name: str, forked: bool, stage: str, destinations: tuple[str, ...], suffixed: bool = False
               ) -> list[Named]:
    """The names the step part of a logged value is put as (§2.1): a forked name as ``name_step``, and in the
    train stage also as ``name`` for callbacks, which hold both."""
    if not forked:
        return [(name, destinations, suffixed)]
    names = [(f"{name}_step", destinations, suffixed)]
    if stage == "train":
        names.append((name, CALLBACKS_ONLY, False))
    return names


def epoch_names(name: str, forked: bool, destinations: tuple[str, ...], suffixed: bool = False) -> list[Named]:
    """The names an epoch value is put as: a forked name as ``name_epoch``, and as ``name`` for callbacks."""
    if not forked:
        return [(name, destinations, suffixed)]
    return [(f"{name}_epoch", destinations, suffixed), (name, CALLBACKS_ONLY, suffixed)]


def named_put(names: list[Named], value: str, suffix: str | None = None) -> str:
    """The one put of ``step_names``/``epoch_names``: the first name, with the plain name of a forked value as its
    ``callback_alias``."""
    (name, destinations, suffixed), *rest = names
    alias = None
    if rest:
        (plain_name, _, plain_suffixed), = rest
        alias = name_literal(plain_name, suffix if plain_suffixed else None)
    return put_call(name_literal(name, suffix if suffixed else None), value, destinations, alias)


def step_puts(name: str, value: str, forked: bool, stage: str, destinations: tuple[str, ...],
              suffix: str | None = None) -> list[str]:
    """The step put of a logged value (``step_names``)."""
    return [named_put(step_names(name, forked, stage, destinations, suffix is not None), value, suffix)]


def is_simple(node: cst.BaseExpression) -> bool:
    """An expression that can be written several times without evaluating anything twice."""
    if isinstance(node, (cst.Name, cst.Integer, cst.Float)):
        return True
    if isinstance(node, cst.Attribute):
        return is_simple(node.value) and not isinstance(node.value, (cst.Integer, cst.Float))
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return isinstance(node.expression, (cst.Integer, cst.Float))
    return False


def plain(node: cst.BaseExpression) -> str:
    """Source of an expression, safe on the right of ``=`` (multi-line expressions get parentheses)."""
    code = _code(node)
    return f"({code})" if "\n" in code and not node.lpar else code
