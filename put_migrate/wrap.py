"""Generated statements wrapped at the project's line length, as black and ``ruff format`` wrap them.

A line longer than the limit is split at its last bracket pair whose contents are not empty (black's right-hand
split): the contents go on one line of their own, indented one level, when they fit there; otherwise one item per
line with a trailing comma, each item wrapped again the same way. A line that nothing can shorten (a long string)
is kept. Only single-line statements are wrapped: a statement that already spans lines holds the user's own
layout of an expression.
"""

from __future__ import annotations

import io
import keyword
import tokenize

_OPENING = {"(": ")", "[": "]", "{": "}"}
# black's delimiter priorities: inside brackets a line too long is split before its operators of the highest one.
_OPERATOR_PRIORITY = {
    "if": 16, "else": 16, "and": 14, "or": 14,
    "<": 10, ">": 10, "==": 10, "!=": 10, "<=": 10, ">=": 10, "in": 10, "not": 10, "is": 10,
    "|": 9, "^": 8, "&": 7, "<<": 6, ">>": 6, "+": 5, "-": 5, "*": 4, "/": 4, "//": 4, "%": 4, "@": 4, "**": 1,
}
_CLOSING = frozenset(_OPENING.values())
# Python 3.12 tokenizes f-strings into parts, with the brackets of their replacement fields as operators.
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


def wrap_code(code: str, column: int, line_length: int, indent: str = "    ", comment: int = 0) -> str:
    """``code`` (one or more statements, its first line at ``column``) with every single-line statement longer
    than ``line_length`` wrapped; ``indent`` is one level of indentation. ``comment``: the width of a comment that
    will follow a one-line ``code`` (the user's, kept from the statement it replaces): it counts, as black counts
    it, and ends up after the last line."""
    lines = code.split("\n")
    single = _single_line_statements(code)
    trailing = comment if len(lines) == 1 else 0
    wrapped: list[str] = []
    for number, line in enumerate(lines, start=1):
        if number in single and column + len(line) + trailing > line_length:
            lead = line[: len(line) - len(line.lstrip())]
            parts = _wrap(line.strip(), column + len(lead), line_length, indent, force=True)
            wrapped.extend(lead + part for part in parts)
        else:
            wrapped.append(line)
    return "\n".join(wrapped)


def _single_line_statements(code: str) -> set[int]:
    """Numbers of the lines that hold a whole statement (a logical line of one physical line)."""
    found: set[int] = set()
    start: int | None = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(code + "\n").readline):
            if token.type in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
                continue
            if start is None:
                start = token.start[0]
            if token.type == tokenize.NEWLINE:
                if token.start[0] == start:
                    found.add(start)
                start = None
    except (tokenize.TokenError, SyntaxError):
        return set()
    return found


def _brackets(code: str) -> list[tuple[int, int, int]] | None:
    """(depth, offset of the opening bracket, offset of its closing bracket) of every bracket pair of a one-line
    statement, brackets inside f-strings left out; None when the line has a comment or cannot be read."""
    pairs: list[tuple[int, int, int]] = []
    stack: list[int] = []
    in_fstring = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(code + "\n").readline):
            if token.type == tokenize.COMMENT:
                return None
            if _FSTRING_START is not None and token.type == _FSTRING_START:
                in_fstring += 1
            elif _FSTRING_END is not None and token.type == _FSTRING_END:
                in_fstring -= 1
            elif token.type == tokenize.OP and not in_fstring:
                if token.string in _OPENING:
                    stack.append(token.start[1])
                elif token.string in _CLOSING and stack:
                    opening = stack.pop()
                    pairs.append((len(stack), opening, token.start[1]))
    except (tokenize.TokenError, SyntaxError):
        return None
    return pairs


def _parenthesized(code: str, column: int, line_length: int, indent: str) -> list[str]:
    """A line with no bracket to split at, split as black adds optional parentheses: around the value of an
    assignment (``x = (\n    self.x.compute()\n)``) or the targets of a ``for`` (``for (\n    a,\n    b,\n) in ...``).
    Anything else is kept."""
    tokens = _tokens(code)
    if tokens is None:
        return [code]
    level = [t for t in tokens if t[1] == 0]
    assigns = [start for text, _, start in level if text == "="]
    if len(assigns) == 1:
        target, value = code[: assigns[0]].rstrip(), code[assigns[0] + 1 :].strip()
        delimiters = _top_level_commas(target)
        if column + len(target) + len(" = (") > line_length and delimiters and delimiters[0]:
            # ``(\n    a,\n    b,\n) = value``: the targets too long for ``a, b = (``
            bounds = [-1, *delimiters[0], len(target)]
            items = [target[a + 1 : b].strip() for a, b in zip(bounds, bounds[1:]) if target[a + 1 : b].strip()]
            rest = _wrap(f"_ = {value}", column, line_length, indent)  # "_ = " is as wide as ") = "
            return ["(", *(f"{indent}{item}," for item in items), ") = " + rest[0][len("_ = "):], *rest[1:]]
        return [f"{target} = (", *(indent + line for line in _wrap(value, column + len(indent), line_length, indent)),
                ")"]
    words = [(text, start) for text, _, start in level]
    if code.startswith("for ") and code.endswith(":") and any(w == "in" for w, _ in words):
        in_at = next(start for text, start in words if text == "in")
        targets = code[4:in_at].strip()
        delimiters = _top_level_commas(targets)
        if delimiters and delimiters[0]:
            commas = delimiters[0]
            bounds = [-1, *commas, len(targets)]
            items = [targets[a + 1 : b].strip() for a, b in zip(bounds, bounds[1:]) if targets[a + 1 : b].strip()]
            return ["for (", *(f"{indent}{item}," for item in items), ") " + code[in_at:]]
    return [code]


def _assignment(code: str) -> int:
    """The offset of the ``=`` of an assignment statement, else -1."""
    tokens = _tokens(code)
    assigns = [start for text, depth, start in tokens or () if text == "=" and depth == 0]
    return assigns[0] if len(assigns) == 1 else -1


def _tokens(code: str) -> list[tuple[str, int, int]] | None:
    """(text, bracket depth, offset) of every operator and name of a one-line statement outside f-strings."""
    found: list[tuple[str, int, int]] = []
    depth = 0
    in_fstring = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(code + "\n").readline):
            if _FSTRING_START is not None and token.type == _FSTRING_START:
                in_fstring += 1
            elif _FSTRING_END is not None and token.type == _FSTRING_END:
                in_fstring -= 1
            elif token.type in (tokenize.OP, tokenize.NAME) and not in_fstring:
                if token.string in _CLOSING:
                    depth -= 1
                found.append((token.string, depth, token.start[1]))
                if token.string in _OPENING:
                    depth += 1
    except (tokenize.TokenError, SyntaxError):
        return None
    return found


def _top_level_commas(body: str) -> tuple[list[int], list[int]] | None:
    """Offsets of the commas of ``body`` outside any bracket (and outside f-strings), and of its ``for`` and
    ``if`` clauses when it is a comprehension (then its commas are not delimiters: ``for i, w in ...``)."""
    commas: list[int] = []
    clauses: list[int] = []
    lambdas = False
    depth = 0
    in_fstring = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(body + "\n").readline):
            if _FSTRING_START is not None and token.type == _FSTRING_START:
                in_fstring += 1
            elif _FSTRING_END is not None and token.type == _FSTRING_END:
                in_fstring -= 1
            elif token.type == tokenize.OP and not in_fstring:
                if token.string in _OPENING:
                    depth += 1
                elif token.string in _CLOSING:
                    depth -= 1
                elif token.string == "," and depth == 0:
                    commas.append(token.start[1])
            elif token.type == tokenize.NAME and depth == 0 and not in_fstring:
                if token.string in ("for", "if") and (token.string == "for" or clauses):
                    clauses.append(token.start[1])
                lambdas = lambdas or token.string == "lambda"
    except (tokenize.TokenError, SyntaxError):
        return None
    if lambdas:  # ``lambda a, b: ...``: its commas are not delimiters either; the body stays whole
        return [], []
    return ([], clauses) if clauses else (commas, [])


def _wrap(code: str, column: int, line_length: int, indent: str, force: bool = False, inside: bool = False
          ) -> list[str]:
    """The lines (relative to ``column``) of one statement, or of a line inside brackets (``inside``: split at
    its operators first), split as black splits them (``force``: even if it fits, because of a comment that
    follows it)."""
    if not force and column + len(code) <= line_length:
        return [code]
    if inside:
        parts = _operator_split(code)
        if parts is not None:
            return [line for part in parts for line in _wrap(part, column, line_length, indent, inside=True)]
    pairs = _brackets(code)
    if not pairs:
        return [code]
    # Right-hand split: the last bracket pair of the outermost level whose contents are not empty; an earlier one
    # where the first line would not fit otherwise and the earlier one's would (black's omitted trailers).
    # An assignment is split in its value (black's right-hand side first), in parentheses if need be.
    assigned = _assignment(code)
    outer = sorted((p for p in pairs if p[0] == 0 and p[1] > assigned and code[p[1] + 1 : p[2]].strip()),
                   key=lambda p: p[2], reverse=True)
    if not outer:
        return _parenthesized(code, column, line_length, indent)
    fitting = [pair for pair in outer if column + pair[1] + 1 <= line_length]
    if not fitting and assigned >= 0:
        return _parenthesized(code, column, line_length, indent)
    chosen = fitting[0] if fitting else outer[0]
    _, opening, closing = chosen
    head, body, tail = code[: opening + 1], code[opening + 1 : closing].strip(), code[closing:]
    inner = column + len(indent)
    delimiters = _top_level_commas(body)
    if delimiters is None:
        return [code]
    commas, clauses = delimiters
    if not inside and not commas and code.startswith("for ") and code.endswith(":"):
        targets = _parenthesized(code, column, line_length, indent)
        if len(targets) > 1:  # black parenthesizes ``for a, b in`` rather than split a body it cannot split
            return targets
    trailing = bool(commas) and not body[commas[-1] + 1 :].strip()  # black's magic trailing comma
    # A collection literal (not a call's or a subscript's brackets) with several items is exploded, one per line.
    literal = len(commas) > int(trailing) and not _is_trailer(code, opening)
    if inner + len(body) <= line_length and not trailing and not literal:
        return [head, indent + body, *_tail_lines(tail, column, line_length, indent)]
    if clauses:  # a comprehension: one line per clause, no commas added
        starts = [0, *clauses, len(body)]
        parts = [body[a:b].strip() for a, b in zip(starts, starts[1:])]
        return [head, *(indent + line for part in parts for line in _wrap(part, inner, line_length, indent)),
                *_tail_lines(tail, column, line_length, indent)]
    if not commas:  # one item: on its own line, wrapped again
        return [head, *(indent + part for part in _wrap(body, inner, line_length, indent, inside=True)),
                *_tail_lines(tail, column, line_length, indent)]
    items, start = [], 0
    for comma in commas:
        items.append(body[start:comma].strip())
        start = comma + 1
    if body[start:].strip():
        items.append(body[start:].strip())
    lines = [head]
    for item in items:
        lines.extend(indent + part for part in _wrap(item + ",", inner, line_length, indent, inside=True))
    lines.extend(_tail_lines(tail, column, line_length, indent))
    return lines


def _tail_lines(tail: str, column: int, line_length: int, indent: str) -> list[str]:
    """The closing bracket and what follows it (``].update(...)`` after an earlier pair was split), split again
    where too long, as black splits each line a split produces."""
    if column + len(tail) <= line_length or len(tail) < 2:
        return [tail]
    # The closing bracket stands in for the expression it ends: wrap a one-character name in its place.
    lines = _wrap("_" + tail[1:], column, line_length, indent)
    return [tail[0] + lines[0][1:], *lines[1:]]


def _is_trailer(code: str, opening: int) -> bool:
    """Whether the bracket at ``opening`` is a call's or a subscript's (after a name, a closing bracket or a
    string) rather than a literal's or a parenthesized expression's."""
    before = code[:opening].rstrip()
    if not before:
        return False
    if before[-1] in ")]}\"'":
        return True
    word = before.split()[-1] if before.split() else ""
    name = ""
    for char in reversed(word):
        if not (char.isalnum() or char == "_"):
            break
        name = char + name
    return bool(name) and not keyword.iskeyword(name)


def _operator_split(code: str) -> list[str] | None:
    """A line inside brackets split before each of its top-level binary operators of the highest priority (black's
    delimiter split); the trailing comma stays with the last part. None without such an operator."""
    body = code[:-1] if code.endswith(",") else code
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(body + "\n").readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    found: list[tuple[int, int]] = []  # (priority, offset)
    depth = 0
    in_fstring = 0
    previous: tokenize.TokenInfo | None = None
    for token in tokens:
        if _FSTRING_START is not None and token.type == _FSTRING_START:
            in_fstring += 1
        elif _FSTRING_END is not None and token.type == _FSTRING_END:
            in_fstring -= 1
            previous = token
            continue
        if in_fstring or token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
            continue
        if token.type == tokenize.OP and token.string in _OPENING:
            depth += 1
        elif token.type == tokenize.OP and token.string in _CLOSING:
            depth -= 1
        elif depth == 0 and token.string in _OPERATOR_PRIORITY and previous is not None:
            if token.string in ("for", "lambda"):
                return None
            operand = previous.type in (tokenize.NUMBER, tokenize.STRING) or previous.string in ")]}" or (
                previous.type == tokenize.NAME and (not keyword.iskeyword(previous.string)
                                                    or previous.string in ("True", "False", "None"))
            ) or (_FSTRING_END is not None and previous.type == _FSTRING_END)
            if operand and (token.type == tokenize.OP or token.string in ("if", "else", "and", "or", "in", "not",
                                                                           "is")):
                found.append((_OPERATOR_PRIORITY[token.string], token.start[1]))
        elif depth == 0 and token.string in ("for", "lambda"):
            return None
        previous = token
    if not found:
        return None
    top = max(priority for priority, _ in found)
    cuts = [0, *(offset for priority, offset in found if priority == top), len(code)]
    return [code[a:b].strip() for a, b in zip(cuts, cuts[1:])]
