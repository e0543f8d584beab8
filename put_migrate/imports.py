"""Add import lines to a module where the project's isort/ruff configuration puts them.

The module's own import lines are left as they are; each new line goes into its section (future, standard library,
third party, first party, local folder), before the first line of the section that sorts after it (ruff's order:
``import x`` lines before ``from x import`` lines unless ``force-sort-within-sections``; natural, case-insensitive
module names; names within a line constants, classes, then the rest). A name imported from a module the top block
already imports from is added to that line. So a module sorted before the migration is sorted after it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

import libcst as cst
import libcst.helpers

from put_migrate.project_config import SECTIONS, ImportStyle

INDENT = "    "  # ruff's and black's wrapped import lines
_Statement = TypeVar("_Statement", bound=cst.SimpleStatementLine | cst.BaseCompoundStatement)


@dataclass
class _Entry:
    statement: cst.SimpleStatementLine
    section: str
    key: tuple
    new: bool = False


def add_imports(module: cst.Module, imports: Sequence[tuple[str, str]], style: ImportStyle) -> cst.Module:
    """``module`` with ``imports`` ((module, name) pairs; name "" for ``import module``) where ``style`` puts them."""
    body = list(module.body)
    start = 1 if body and _is_docstring_or_strict(body[0]) else 0
    end = start
    while end < len(body) and _is_import_line(body[end]):
        end += 1
    present, star = _imported(body)
    straight = sorted({name for name, obj in imports if not obj and (name, "") not in present})
    wanted: dict[str, list[str]] = {}
    for name, obj in imports:
        if obj and (name, obj) not in present and name not in star and obj not in wanted.get(name, []):
            wanted.setdefault(name, []).append(obj)
    if not straight and not wanted:
        return module

    lines_in_block = cast("list[cst.SimpleStatementLine]", body[start:end])  # import lines (_is_import_line)
    entries = [_Entry(s, *_classify(s, style)) for s in lines_in_block]
    for name in list(wanted):
        if _single_line(name, style):
            continue
        for entry in entries:
            merged = _merged(module, entry.statement, name, wanted[name], style)
            if merged is not None:
                entry.statement = merged
                del wanted[name]
                break
    lines = [f"import {name}" for name in straight]
    for name, objs in wanted.items():
        if _single_line(name, style):
            lines += [f"from {name} import {obj}" for obj in objs]
        else:
            lines.append(_from_line(name, sorted(objs, key=lambda o: _member_key(o, None, style)), style, False))
    was_empty = not entries
    for line in lines:
        statement = cast(cst.SimpleStatementLine, cst.parse_statement(line + "\n", config=module.config_for_parsing))
        section, key = _classify(statement, style)
        entries.insert(_position(entries, section, key), _Entry(statement, section, key, new=True))
    _space(entries, style)
    after = body[end:]
    if was_empty and after:
        after[0] = _with_blank_lines(after[0], 2 if _is_definition(after[0]) else 1)
    return module.with_changes(body=(*body[:start], *(e.statement for e in entries), *after))


# --- keys -------------------------------------------------------------------------------------------------------


def _natural(text: str) -> tuple:
    return tuple(int(part) if i % 2 else part for i, part in enumerate(re.split(r"(\d+)", text)))


def _name_key(name: str, style: ImportStyle) -> tuple:
    return (_natural(name if style.case_sensitive else name.lower()), _natural(name))


def _member_key(name: str, asname: str | None, style: ImportStyle) -> tuple:
    kind = 0
    if style.order_by_type:
        kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    return (name != "*", kind, *_name_key(name, style), asname or "")


def _classify(statement: cst.SimpleStatementLine, style: ImportStyle) -> tuple[str, tuple]:
    """(section, sort key) of an import line, by its first import."""
    small = statement.body[0]
    if isinstance(small, cst.Import):
        alias = small.names[0]
        name = _dotted(alias.name)
        rank = 1 if style.from_first else 0
        asname: str | None = _dotted(alias.asname.name) if alias.asname else ""
        rank = 0 if style.force_sort_within_sections else rank
        return style.section(name), (rank, *_name_key(name, style), (0,), asname)
    assert isinstance(small, cst.ImportFrom)  # an import line holds an Import or an ImportFrom
    level = len(small.relative)
    name = "." * level + (_dotted(small.module) if small.module is not None else "")
    rank = 0 if style.from_first else 1
    if isinstance(small.names, cst.ImportStar):
        first: tuple = (1, _member_key("*", None, style))
    else:
        alias = small.names[0]
        asname = _dotted(alias.asname.name) if alias.asname else None
        first = (1, _member_key(_dotted(alias.name), asname, style))
    key = (0 if style.force_sort_within_sections else rank, *_name_key(name, style), first, "")
    return style.section(name.lstrip("."), level), key


def _position(entries: list[_Entry], section: str, key: tuple) -> int:
    same = [i for i, entry in enumerate(entries) if entry.section == section]
    if same:
        return next((i for i in same if entries[i].key > key), same[-1] + 1)
    rank = SECTIONS.index(section)
    return next((i for i, entry in enumerate(entries) if SECTIONS.index(entry.section) > rank), len(entries))


# --- lines ------------------------------------------------------------------------------------------------------


def _single_line(module_name: str, style: ImportStyle) -> bool:
    return style.force_single_line and module_name not in style.single_line_exclusions


def _from_line(module_name: str, names: list[str], style: ImportStyle, split: bool) -> str:
    line = f"from {module_name} import {', '.join(names)}"
    if not split and len(line) <= style.line_length:
        return line
    return f"from {module_name} import (\n" + "".join(f"{INDENT}{name},\n" for name in names) + ")"


def _merged(
    module: cst.Module, statement: cst.SimpleStatementLine, name: str, objs: list[str], style: ImportStyle
) -> cst.SimpleStatementLine | None:
    """``from name import ...`` of the block with ``objs`` added, None when it is not such a line (or holds
    aliases or comments, which a rewritten line would lose)."""
    if len(statement.body) != 1 or not isinstance(small := statement.body[0], cst.ImportFrom):
        return None
    if small.relative or small.module is None or _dotted(small.module) != name:
        return None
    if isinstance(small.names, cst.ImportStar) or any(alias.asname for alias in small.names):
        return None
    code = module.code_for_node(small)
    if "#" in code:
        return None
    names = sorted({*(_dotted(a.name) for a in small.names), *objs}, key=lambda o: _member_key(o, None, style))
    split = small.lpar is not None and "\n" in code and isinstance(small.names[-1].comma, cst.Comma)  # magic comma
    text = _from_line(name, names, style, split)
    new = cast(cst.SimpleStatementLine, cst.parse_statement(text + "\n", config=module.config_for_parsing))
    return new.with_changes(leading_lines=statement.leading_lines, trailing_whitespace=statement.trailing_whitespace)


def _space(entries: list[_Entry], style: ImportStyle) -> None:
    """Blank lines around the new lines: one between sections; within one, ``lines-between-types`` between its
    ``import x`` and its ``from x import`` lines (unless ``force-sort-within-sections`` mixes them), else none; the
    first line keeps the block's leading blank lines."""
    for i, entry in enumerate(entries):
        if not (entry.new or (i and entries[i - 1].new)):
            continue
        statement = entry.statement
        if i == 0:
            following = entries[1].statement if len(entries) > 1 and not entries[1].new else None
            if following is not None:  # the new first line takes the place of the old one
                head = []
                for line in following.leading_lines:
                    if line.comment is not None:
                        break
                    head.append(line)
                entry.statement = statement.with_changes(leading_lines=head)
            continue
        previous = entries[i - 1]
        if previous.section != entry.section:
            blank = 1
        elif _is_from(previous) != _is_from(entry) and not style.force_sort_within_sections:
            blank = style.lines_between_types
        else:
            blank = 0
        entry.statement = _with_blank_lines(statement, blank)


def _is_from(entry: _Entry) -> bool:
    return isinstance(entry.statement.body[0], cst.ImportFrom)


def _with_blank_lines(statement: _Statement, count: int) -> _Statement:
    comments = [line for line in statement.leading_lines if line.comment is not None]
    lines = [*(cst.EmptyLine(indent=False) for _ in range(count)), *comments]
    return cast(_Statement, statement.with_changes(leading_lines=lines))  # with_changes keeps the node's type


# --- reading the module -----------------------------------------------------------------------------------------


def _dotted(node: cst.CSTNode) -> str:
    return cst.helpers.get_full_name_for_node(node) or ""


def _imported(body: Sequence[cst.BaseStatement]) -> tuple[set[tuple[str, str]], set[str]]:
    """(module, name) pairs the module's top-level import lines bind without an alias (name "" for ``import
    module``), and the modules imported ``*`` from."""
    present: set[tuple[str, str]] = set()
    star: set[str] = set()
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                present.update((_dotted(a.name), "") for a in small.names if a.asname is None)
            elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
                name = _dotted(small.module)
                if isinstance(small.names, cst.ImportStar):
                    star.add(name)
                else:
                    present.update((name, _dotted(a.name)) for a in small.names if a.asname is None)
    return present, star


def _is_docstring_or_strict(statement: cst.BaseStatement) -> bool:
    """What stays above the imports: a docstring, or ``__strict__ = ...``."""
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
        return False
    small = statement.body[0]
    if isinstance(small, cst.Expr):
        return isinstance(small.value, cst.SimpleString)
    return (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and small.targets[0].target.value == "__strict__"
    )


def _is_import_line(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], (cst.Import, cst.ImportFrom))
    )


def _is_definition(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, (cst.ClassDef, cst.FunctionDef))
