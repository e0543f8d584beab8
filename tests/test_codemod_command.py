"""``PutMigrateCommand`` under libcst's own codemod test harness, plus the file-level promises of migrate_source."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext, CodemodTest

from put_migrate.codemod import PutMigrateCommand
from put_migrate.rules import Severity
from put_migrate.transform import migrate_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class TestPutMigrateCommand(CodemodTest):
    TRANSFORM = PutMigrateCommand

    def test_golden_fixture(self) -> None:
        before = (FIXTURES / "train_batch" / "defaults.in.py").read_text()
        after = (FIXTURES / "train_batch" / "defaults.out.py").read_text()
        self.assertCodemod(before, after)

    def test_callback_fixture(self) -> None:
        before = (FIXTURES / "callbacks" / "callback_logs.in.py").read_text()
        after = (FIXTURES / "callbacks" / "callback_logs.out.py").read_text()
        # Named where it lives: the fixtures' configuration (line length, import sections) applies, as for the goldens.
        filename = str(FIXTURES / "callbacks" / "callback_logs.py")
        self.assertCodemod(before, after, context_override=CodemodContext(filename=filename))

    def test_manual_calls_are_warnings(self) -> None:
        before = (FIXTURES / "noop" / "overrides_log.py").read_text()
        context = CodemodContext(filename="overrides_log.py")
        self.assertCodemod(before, before, context_override=context)
        assert [w.split(" ")[1] for w in context.warnings] == ["PM207"]

    def test_skips_files_without_log(self) -> None:
        self.assertCodemod("x = 1\n", "x = 1\n", expected_skip=True)


def test_prefilter_does_not_parse() -> None:
    text = "this is not python ((("
    assert migrate_source(text).source == text  # no ".log": not even parsed


def test_syntax_error_raises() -> None:
    with pytest.raises(cst.ParserSyntaxError):
        migrate_source("self.log(\n")


def test_crlf_and_unchanged_text_kept() -> None:
    source = (FIXTURES / "train_batch" / "defaults.in.py").read_text()
    crlf = source.replace("\n", "\r\n")
    result = migrate_source(crlf)
    assert result.changed
    assert "\r\n" in result.source and "\n" not in result.source.replace("\r\n", "")
    assert result.source.replace("\r\n", "\n") == (FIXTURES / "train_batch" / "defaults.out.py").read_text()


def test_findings_per_call() -> None:
    result = migrate_source((FIXTURES / "manual" / "left_calls.in.py").read_text(), "left_calls.py")
    codes = [f.code for f in result.findings]
    # out_norm (a helper of forward), grad_epoch (weighted by the batch in flight), grad_epoch_sized, flag (prog_bar
    # at run time), the two run-time names of training_step, and on_validation_epoch_end's two calls (one in a
    # helper called in a loop, averaged over the hook's call by hook_value)
    assert codes.count("PM101") == 8
    assert all(f.path == "left_calls.py" for f in result.findings)
    assert {f.severity for f in result.findings} == {Severity.MANUAL, Severity.REWRITTEN}


def test_one_line_init_is_split() -> None:
    source = (
        "import lightning.pytorch as pl\n"
        "class M(pl.LightningModule):\n"
        "    def __init__(self): super().__init__(); self.k = 1\n"
        "    def validation_step(self, batch, batch_idx):\n"
        "        self.log('v', batch.sum())\n"
    )
    result = migrate_source(source)
    assert "        super().__init__()\n        self.v = Mean()\n        self.k = 1\n" in result.source
    assert migrate_source(result.source).source == result.source


def test_codemod_needs_only_libcst() -> None:
    import subprocess
    import sys

    code = (
        "import sys, put_migrate.codemod, put_migrate.transform\n"
        "print(sorted(m for m in ('torch', 'lightning', 'pytorch_lightning', 'torchmetrics') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=FIXTURES.parent)
    assert out.stdout.strip() == "[]"
