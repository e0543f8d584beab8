"""The ``# put-migrate: skip`` opt-out: marked log calls are renamed away from the transform, then reported."""

# A marked ``.log(``/``.log_dict(`` call (the marker on the line holding ``.log(``) has its ``log`` attribute renamed to
# a placeholder before the transform runs and back afterwards: nothing is parsed twice, and ``tokenize`` runs only on
# files that carry the marker.

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

from put_migrate import safety
from put_migrate.results import SKIPPED_BY_COMMENT
from put_migrate.rules import Finding, Severity

SKIP_LINE_MARKER = "put-migrate: skip"
PLACEHOLDER = "__put_migrate_skipped_{}__"  # `log` -> `__put_migrate_skipped_log__`
LOG_NAMES = ("log", "log_dict")


@dataclass(frozen=True)
class Mask:
    offset: int  # character offset of the `log`/`log_dict` name in the text
    name: str
    line: int  # 1-based
    column: int  # 0-based, of the call's receiver (`self` in `self.log(`)


def find_skipped_calls(text: str) -> list[Mask]:
    """`.log(`/`.log_dict(` calls that start on a line carrying `# put-migrate: skip`."""
    if SKIP_LINE_MARKER not in text:
        return []
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))  # raises on untokenizable text
    marked = {
        tok.start[0]
        for tok in tokens
        if tok.type == tokenize.COMMENT and tok.string.lstrip("#").strip().startswith(SKIP_LINE_MARKER)
        and not tok.string.lstrip("#").strip().startswith(SKIP_LINE_MARKER + "-file")
    }
    if not marked:
        return []
    line_starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            line_starts.append(index + 1)
    masks = []
    significant = [t for t in tokens if t.type not in (tokenize.NL, tokenize.COMMENT)]
    for i, tok in enumerate(significant[1:-1], start=1):
        if (
            tok.type == tokenize.NAME
            and tok.string in LOG_NAMES
            and tok.start[0] in marked
            and significant[i - 1].string == "."
            and significant[i + 1].string == "("
        ):
            receiver = significant[i - 2] if i >= 2 else significant[i - 1]
            column = receiver.start[1] if receiver.type == tokenize.NAME and receiver.start[0] == tok.start[0] else (
                significant[i - 1].start[1]
            )
            row, col = tok.start
            masks.append(Mask(offset=line_starts[row - 1] + col, name=tok.string, line=row, column=column))
    return masks


def mask(text: str) -> tuple[str, list[Mask]]:
    """The text with its marked calls renamed to placeholders, and the masks. Raises safety.UnsafeFile when the
    markers cannot be honoured (and libcst.ParserSyntaxError when the text cannot be tokenized or parsed)."""
    try:
        masks = find_skipped_calls(text)
    except (tokenize.TokenError, SyntaxError) as exc:
        # libcst will most likely reject the file too; if it does not, we cannot honour its skip comments.
        import libcst

        libcst.parse_module(text)
        raise safety.UnsafeFile(f"cannot find `# {SKIP_LINE_MARKER}` comments: {exc}") from None
    if masks and any(PLACEHOLDER.format(name) in text for name in LOG_NAMES):
        raise safety.UnsafeFile("the file already contains put-migrate's placeholder names")
    masked = text
    for m in sorted(masks, key=lambda m: m.offset, reverse=True):
        masked = masked[: m.offset] + PLACEHOLDER.format(m.name) + masked[m.offset + len(m.name) :]
    return masked, masks


def unmask(text: str, masks: list[Mask], path: str) -> tuple[str, list[Finding]]:
    """The transformed text with the marked calls restored, and a PM001 finding per call. Raises safety.UnsafeFile
    when the transform changed a marked call."""
    for name in LOG_NAMES:
        expected = sum(1 for m in masks if m.name == name)
        placeholder = PLACEHOLDER.format(name)
        if text.count(placeholder) != expected:
            raise safety.UnsafeFile("the transform changed a call marked `# put-migrate: skip`; not rewritten")
        text = text.replace(placeholder, name)
    findings = [
        Finding(
            path=path,
            line=m.line,
            column=m.column,
            code=SKIPPED_BY_COMMENT,
            message=f"`.{m.name}(...)` left as it is (`# {SKIP_LINE_MARKER}` comment)",
            severity=Severity.SKIPPED,
        )
        for m in masks
    ]
    return text, findings
