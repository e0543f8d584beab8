"""``PutMigrateCommand``: the migration as a libcst codemod, for ``python -m libcst.tool codemod``.

With ``put_migrate`` importable and a ``.libcst.codemod.yaml`` (``python -m libcst.tool initialize .``) whose
``modules`` list is ``['put_migrate']``::

    python -m libcst.tool codemod --no-format codemod.PutMigrateCommand path/to/code

Calls left for a human are reported as codemod warnings, one per call, in ``Finding.format()`` form.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodContext, SkipFile, VisitorBasedCodemodCommand

from put_migrate.rules import Severity
from put_migrate.transform import migrate_module


class PutMigrateCommand(VisitorBasedCodemodCommand):
    DESCRIPTION: str = (
        "Rewrite Lightning self.log/self.log_dict (and Callback pl_module.log) calls into explicit aggregation "
        "plus self.put (see docs/design/generated-code.md)."
    )

    def __init__(self, context: CodemodContext) -> None:
        super().__init__(context)

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        path = self.context.filename or "<string>"
        if ".log" not in tree.code:
            raise SkipFile("no .log call")
        # Imports are added inside migrate_module with a context of its own, so this command's context stays clean.
        new, findings = migrate_module(tree, path)
        for finding in findings:
            if finding.severity is Severity.MANUAL:
                self.warn(finding.format())
        return new
