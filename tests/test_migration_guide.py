"""docs/migration-guide.md, walked as a new user: its commands in order, in a new git repository, committing between
steps, verifying against a worktree of the original (scripts/walk_guide.py; ``--fresh-venv`` there builds the
wheel into a new venv, too slow for the suite)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import walk_guide  # noqa: E402

sys.path.remove(str(ROOT / "scripts"))


def test_the_guide_has_every_step_the_walk_needs() -> None:
    names = [block.name for block in walk_guide.guide_blocks(walk_guide.GUIDE.read_text())]
    assert names == ["branch", "preview", "rewrite", "find-left", "rerun", "worktree", "verify_migration.py",
                     "cleanup", "staged", "libcst"]


def test_walk_the_guide(tmp_path: Path) -> None:
    walk = walk_guide.walk_guide(tmp_path, walk_guide.checkout_env(tmp_path / "bin"))
    commands = [step.command for step in walk.steps]
    # The rewrite is committed before put-migrate runs again (the dirty-tree guard), and the original is a worktree.
    assert commands.index('git commit -qam "Migrate self.log to put (put-migrate)"') < commands.index(
        "put-migrate src/"
    )
    assert not any("PM304" in step.output for step in walk.steps)
    assert "git worktree add -q ../before-put-migrate before-put-migrate" in commands
    assert "Transformed 1 files successfully" in walk.output_of("libcst.tool")  # the call staged in step 6


def test_the_old_order_hits_the_dirty_tree_guard(tmp_path: Path) -> None:
    """The guide as it was: step 3 rewrote, step 4 ran put-migrate again before anything was committed."""
    guide = walk_guide.GUIDE.read_text().replace('git commit -qam "Migrate self.log to put (put-migrate)"\n', "")
    guide = guide.replace('git commit -qam "Make the calls put-migrate left migratable"\n', "")
    with pytest.raises(AssertionError, match="rerun|PM304|self.log"):
        walk_guide.walk_guide(tmp_path, walk_guide.checkout_env(tmp_path / "bin"), guide)
