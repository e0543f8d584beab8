"""The plan package: generated statements are records that become text at the end; a hoisted batch size replaces
only the weights the codemod wrote, never the user's text."""

from __future__ import annotations

import textwrap

import libcst as cst

from put_migrate.plan.statements import Block, IfChain, Reset, Update, batch_size_updates, text
from put_migrate.transform import migrate_source

HEADER = (
    "import lightning.pytorch as pl\n\n\n"
    "class M(pl.LightningModule):\n    def training_step(self, batch, batch_idx):\n"
)


def _migrated(body: str) -> str:
    result = migrate_source(HEADER + textwrap.indent(textwrap.dedent(body), " " * 8))
    cst.parse_module(result.source)
    return result.source


def test_records_become_indented_text():
    loop = Block("for name, value in d.items():", (Update("self.a[name]", "value", batch_param="batch"),))
    chain = IfChain((("stage == 'fit'", (loop,)), (None, ())))
    assert text(chain, "  ") == (
        "if stage == 'fit':\n"
        "  for name, value in d.items():\n"
        "    self.a[name].update(value, weight=extract_batch_size(batch))\n"
        "else:\n"
        "  pass"
    )
    assert text(chain, "  ", batch_size="bs").endswith("self.a[name].update(value, weight=bs)\nelse:\n  pass")
    assert text(Update("self.s", "x"), "    ") == "self.s.update(x)"
    assert text(Reset("acc"), "    ") == "self.acc.reset()"


def test_batch_size_updates_are_counted_in_every_branch():
    update = Update("self.a", "x", batch_param="batch")
    chain = IfChain((("a", (update,)), ("b", (Block("for x in y:", (update, "pass")),))))
    assert batch_size_updates(chain, "batch") == 2
    assert batch_size_updates(chain, "other") == 0
    assert batch_size_updates(Update("self.a", "x", weight="n"), "batch") == 0


def test_a_hoisted_batch_size_leaves_the_users_text_alone():
    out = _migrated(
        """
        self.log("loss", loss, on_epoch=True)
        self.log("extract_batch_size(batch)", loss, on_epoch=True)
        self.log("n", extract_batch_size(batch), on_step=False, on_epoch=True)
        """
    )
    assert out.count("batch_size = extract_batch_size(batch)") == 1
    assert '"extract_batch_size(batch)_step",' in out and '"extract_batch_size(batch)"' in out
    assert "self.n.update(extract_batch_size(batch), weight=batch_size)" in out
