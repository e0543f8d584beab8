"""put_migrate.codegen: the per-element code of a module is byte-identical to libcst's ``Module.code``, for the
original module and for a rewrite of it that shares some of its statements."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from put_migrate import codegen, safety
from put_migrate.codegen import ModuleCode
from put_migrate.transform import migrate_module, migrate_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FIXTURE_FILES = sorted(FIXTURES.rglob("*.py"))

MAIN_BLOCK = 'if __name__ == "__main__":\n    main()\n'
LIGHTNING_CLASS = (
    "class Model(pl.LightningModule):\n"
    "    def training_step(self, batch, batch_idx):\n"
    "        loss = self.layer(batch).sum()\n"
    '        self.log("train_loss", loss, on_step=True, on_epoch=True)\n'
    "        return loss\n"
)
LIGHTNING_FILE = (
    "# header comment\n\n"
    '"""Docstring."""\n'
    "import lightning.pytorch as pl\n\n\n"
    "def main():\n    pass\n\n\n"
    + LIGHTNING_CLASS
    + "\n\nx = 1; y = 2\n\n\n"
    + MAIN_BLOCK
    + "\n# footer comment\n"
)

# Texts libcst reproduces, chosen for the end-of-file rule and the header/footer split.
EDGE_TEXTS = {
    "empty": "",
    "newline": "\n",
    "newlines": "\n\n\n",
    "crlf_newline": "\r\n",
    "spaces": "   ",
    "spaces_newline": "  \n",
    "comment_no_newline": "# c",
    "comments_only": "# one\n\n# two\n",
    "comments_only_crlf": "# one\r\n\r\n# two\r\n",
    "no_trailing_newline": "x = 1",
    "no_trailing_newline_block": "if x:\n    y = 2",
    "trailing_whitespace_no_newline": "x = 1\n    ",
    "comment_after_last_statement_no_newline": "x = 1\n# c",
    "crlf": "a = 1\r\nb = 2\r\n",
    "crlf_no_trailing_newline": "a = 1\r\nb = 2",
    "mixed_endings": "a = 1\nb = 2\r\n",
    "tabs": "if x:\n\ty = 1\n",
    "form_feed_first": "\x0c\nx = 1\n",
    "form_feeds": "x = 1\n\x0c\n# c\n\x0c\ndef f():\n    x = 1\n\x0c\n    y = 2\n\x0c\n",
    "semicolons": "a = 1; b = 2\nc = 3;\n",
    "semicolons_no_newline": "a = 1; b = 2",
    "main_block": "import sys\n\n\n" + MAIN_BLOCK,
    "main_block_no_newline": MAIN_BLOCK.rstrip("\n"),
    "header_and_footer": "#!/usr/bin/env python\n# header\n\nx = 1\n\n# footer\n\n",
    "lightning_file": LIGHTNING_FILE,
    "lightning_file_crlf": LIGHTNING_FILE.replace("\n", "\r\n"),
    "lightning_file_no_newline": LIGHTNING_FILE.rstrip("\n"),
}


def _comment(text: str) -> cst.EmptyLine:
    return cst.EmptyLine(comment=cst.Comment(text))


def _first_middle_last(count: int) -> set[int]:
    return {0, count // 2, count - 1} if count else set()


def _rewrites(module: cst.Module, replaced=range) -> dict[str, cst.Module]:
    """Modules that share nodes with ``module``, built the ways a rewrite can build them; ``replaced(count)``:
    the indexes of the statements replaced (or removed) one at a time."""
    body = tuple(module.body)
    added = cst.parse_statement("import os\n", config=module.config_for_parsing)
    rewrites = {
        "same_fields": module.with_changes(),
        "import_added_at_top": module.with_changes(body=(added, *body)),
        "import_added_at_end": module.with_changes(body=(*body, added)),
        "header_comment_added": module.with_changes(header=(*module.header, _comment("# added"))),
        "header_dropped": module.with_changes(header=()),
        "footer_comment_added": module.with_changes(footer=(*module.footer, _comment("# added"))),
        "footer_dropped": module.with_changes(footer=()),
        "header_and_footer_swapped": module.with_changes(header=module.footer, footer=module.header),
        "body_dropped": module.with_changes(body=()),
        "everything_dropped": module.with_changes(header=(), body=(), footer=()),
        "trailing_newline_flipped": module.with_changes(has_trailing_newline=not module.has_trailing_newline),
        "crlf_default": module.with_changes(default_newline="\r\n", body=(added, *body)),
        "tab_default": module.with_changes(default_indent="\t", body=(*body, added)),
        "body_repeated": module.with_changes(body=(*body, *body)),
    }
    for i in sorted(replaced(len(body))):
        statement = body[i]
        rewrites[f"statement_{i}_replaced"] = module.with_changes(
            body=(*body[:i], statement.deep_clone().with_changes(leading_lines=[_comment("# new")]), *body[i + 1:])
        )
        rewrites[f"statement_{i}_removed"] = module.with_changes(body=(*body[:i], *body[i + 1:]))
    return rewrites


def _check(module: cst.Module, replaced=range) -> None:
    original = ModuleCode.of(module)
    assert original.text == module.code
    for name, new in _rewrites(module, replaced).items():
        assert original.code_of(new) == new.code, name


@pytest.mark.parametrize("text", EDGE_TEXTS.values(), ids=EDGE_TEXTS.keys())
def test_edge_cases_and_their_rewrites(text):
    module = cst.parse_module(text)
    assert module.code == text  # each case is one libcst reproduces
    _check(module)
    assert safety.check_round_trip(text, module).text == text


# Texts libcst does not give back: the check must refuse them, and the per-element code still equals Module.code.
UNREPRODUCED_TEXTS = {
    "lone_carriage_return_at_end": "a = 1\nb = 2\r",
    "form_feed_before_a_statement": "x = 1\n\x0cdef f():\n    pass\n",
    "form_feed_first": "\x0cx = 1\n",
}


@pytest.mark.parametrize("text", UNREPRODUCED_TEXTS.values(), ids=UNREPRODUCED_TEXTS.keys())
def test_texts_libcst_does_not_reproduce_are_refused(text):
    module = cst.parse_module(text)
    assert module.code != text
    _check(module)
    with pytest.raises(safety.UnsafeFile, match="^libcst does not reproduce this file exactly"):
        safety.check_round_trip(text, module)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixtures_and_their_rewrites(path):
    text = path.read_bytes().decode("utf-8")
    module = cst.parse_module(text)
    _check(module, replaced=_first_middle_last)
    new, _ = migrate_module(module, str(path), source=text)
    assert ModuleCode.of(module).code_of(new) == new.code


def _old_migrate_source(source: str, path: str) -> str:
    """migrate_source as it was: the original and the new module generated in full."""
    module = cst.parse_module(source)
    new, _ = migrate_module(module, path, source=source)
    if new is module:
        return source
    if module.code != source:
        raise safety.UnsafeFile("libcst does not reproduce this file exactly (unusual line endings?); not rewritten")
    return new.code


def _variants(text: str) -> dict[str, str]:
    return {
        "crlf": text.replace("\n", "\r\n"),
        "no_trailing_newline": text.rstrip("\n"),
        "header_and_footer": "#!/usr/bin/env python\n# header\n\n" + text + "\n# footer\n\n",
        "form_feed": "\x0c\n" + text,
        "main_block": text + "\n\n" + MAIN_BLOCK,
    }


# One rewritten fixture per topic: each variant is a full migration, twice.
ONE_PER_TOPIC = sorted({p.parent: p for p in reversed(FIXTURE_FILES) if p.name.endswith(".in.py")}.values())


@pytest.mark.parametrize("path", ONE_PER_TOPIC, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_migrate_source_gives_the_bytes_of_a_full_generation(path):
    for name, text in _variants(path.read_bytes().decode("utf-8")).items():
        assert migrate_source(text, str(path)).source == _old_migrate_source(text, str(path)), name


@pytest.mark.parametrize("text", [LIGHTNING_FILE, *_variants(LIGHTNING_FILE).values()])
def test_a_rewritten_class_in_the_middle(text):
    result = migrate_source(text, "model.py")
    assert result.changed
    assert result.source == _old_migrate_source(text, "model.py")


def test_only_the_new_statements_are_generated(monkeypatch):
    module = cst.parse_module(LIGHTNING_FILE)
    original = ModuleCode.of(module)
    new, _ = migrate_module(module, "model.py", source=LIGHTNING_FILE)
    generated = []
    real = codegen.generate
    monkeypatch.setattr(codegen, "generate", lambda m, node: generated.append(node) or real(m, node))
    assert original.code_of(new) == new.code
    assert generated and all(node not in codegen.elements(module) for node in generated)
    assert len(generated) < len(list(codegen.elements(new)))


def test_round_trip_failure_is_reported_as_before():
    with pytest.raises(safety.UnsafeFile, match="^libcst does not reproduce this file exactly"):
        safety.check_round_trip("a = 1\nb = 2\r")
    with pytest.raises(safety.UnsafeFile, match="^libcst does not reproduce this file exactly"):
        migrate_source(LIGHTNING_FILE + "z = 3\r", "model.py")
