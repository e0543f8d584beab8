"""``migrate_source``: text in, migrated text and findings out. The layer the API, the CLI and the codemod share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from put_migrate.analyze import analyze_class
from put_migrate.lightning_classes import ImportMap, lightning_classes, readable_tree
from put_migrate.plan import plan_class
from put_migrate.positions import log_call_positions
from put_migrate.prefilter import might_log
from put_migrate.render import render
from put_migrate.rules import Finding, make_finding
from put_migrate.safety import check_round_trip
from put_migrate.screen import python_tree
from put_migrate.unresolved import CODE as UNRESOLVED_CODE
from put_migrate.unresolved import unresolved_classes

if TYPE_CHECKING:
    from libcst.codemod import CodemodContext


@dataclass(frozen=True)
class MigrationResult:
    source: str  # the new text (== the input text when nothing changed)
    findings: list[Finding] = field(default_factory=list)  # one per call rewritten or left

    @property
    def changed(self) -> bool:
        return bool(self.findings) and any(f.severity.value == "rewritten" for f in self.findings)



def migrate_module(
    module: cst.Module,
    path: str = "<string>",
    context: CodemodContext | None = None,
    index=None,
    source: str | None = None,
) -> tuple[cst.Module, list[Finding]]:
    """Migrate a parsed module. ``index`` (``put_migrate.index.RepositoryIndex``) makes subclasses of project
    classes of other files known; without it, the module is indexed alone (same-file base classes)."""
    from pathlib import Path

    from put_migrate.index import RepositoryIndex, index_source, module_name

    text = source if source is not None else module.code
    tree, tree_text = readable_tree(module, text)  # the tree the screens, the index and ``positions`` read too
    imports = ImportMap.from_tree(tree, tree_text)
    if index is None:
        index = RepositoryIndex(files=((path, text),))
        index_source(index, text, Path(path))
    module_key = module_name(Path(path))
    if source is not None:  # this file as the run started (a no-op where the index does not have it)
        index.load(module_key, (source, python_tree(source)))
    else:
        index.load(module_key)
    if any(isinstance(s, cst.ClassDef) and s.bases and f"{module_key}.{s.name.value}" not in index.classes
           for s in module.body):
        # A text the index does not hold (a notebook's code, a file outside the run): read it now, on top of the
        # run's index.
        index = index.overlay()
        index_source(index, text, Path(path))
    classes = lightning_classes(module, imports, index, module_key)
    unresolved = unresolved_classes(
        module, imports, index, module_key, {c.name for c in classes}, Path(path).name == "__init__.py", tree
    )
    if not classes and not unresolved:
        return module, []
    positions = log_call_positions(module, text)
    plans = [plan_class(analyze_class(cls, imports, positions), path, module.default_indent) for cls in classes]
    findings = [f for plan in plans for f in plan.findings]
    for statement, base, calls in unresolved:
        for call, hook in calls:
            start = positions[call].start
            detail = f"`{statement.name.value}.{hook}`: its base `{base}` could not be resolved"
            findings.append(make_finding(path, start.line, start.column, UNRESOLVED_CODE, detail))
    return render(module, plans, context, path), sorted(findings)


def migrate_source(source: str, path: str = "<string>", index=None) -> MigrationResult:
    """Migrate one file's text. Raises ``libcst.ParserSyntaxError`` when it does not parse, ``safety.UnsafeFile``
    when it would change but libcst does not reproduce the text exactly."""
    if not might_log(source):
        return MigrationResult(source, [])
    module = cst.parse_module(source)
    new, findings = migrate_module(module, path, index=index, source=source)
    if new is module:
        return MigrationResult(source, findings)
    original = check_round_trip(source, module)  # a rewrite of text libcst does not give back could change others
    return MigrationResult(original.code_of(new), findings)  # the untouched statements' text is generated once
