"""Apply ``MigrationPlan``s to a module with libcst: replace log statements, add scaffolding, bases and imports."""

from __future__ import annotations

from typing import Sequence, Union

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from put_migrate.plan import MigrationPlan, _super_init_index


def _indent_code(code: str, indent: str) -> str:
    return "\n".join((indent + line) if line.strip() else line for line in code.split("\n"))


class PlanRenderer(cst.CSTTransformer):
    def __init__(self, plans: Sequence[MigrationPlan], module: cst.Module) -> None:
        super().__init__()
        self.config = module.config_for_parsing
        self.indent = module.default_indent
        self.plans = {id(p.analysis.cls.node): p for p in plans if p.changes}
        self.replacements: dict[int, list[str]] = {}
        # Placeholders for removed statements, by id; the dict keeps them alive so that an id is never reused.
        self.removed: dict[int, cst.SimpleStatementLine] = {}
        for plan in self.plans.values():
            self.replacements.update(plan.replacements)

    def _statement(self, code: str) -> cst.BaseStatement:
        return cst.parse_statement(code + "\n", config=self.config)

    # -- statements -------------------------------------------------------------------------------------------
    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> Union[cst.BaseStatement, cst.FlattenSentinel[cst.BaseStatement], cst.RemovalSentinel]:
        codes = self.replacements.get(id(original_node))
        if codes is None:
            return updated_node
        if not codes:  # removed in leave_IndentedBlock, which moves its comments to the next statement
            placeholder = cst.SimpleStatementLine([cst.Pass()], leading_lines=original_node.leading_lines)
            self.removed[id(placeholder)] = placeholder
            return placeholder
        statements = [self._statement(code) for code in codes]
        first = statements[0]
        if isinstance(first, cst.SimpleStatementLine):
            first = first.with_changes(
                leading_lines=original_node.leading_lines, trailing_whitespace=original_node.trailing_whitespace
            )
        else:
            first = first.with_changes(leading_lines=original_node.leading_lines)
        statements[0] = first
        return cst.FlattenSentinel(statements)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        if not any(self.removed.get(id(statement)) is statement for statement in updated_node.body):
            return updated_node
        body: list[cst.BaseStatement] = []
        carried: list[cst.EmptyLine] = []
        for statement in updated_node.body:
            if self.removed.get(id(statement)) is statement:
                carried.extend(line for line in statement.leading_lines if line.comment is not None)
                continue
            if carried:
                statement = statement.with_changes(leading_lines=[*statement.leading_lines, *carried])
                carried = []
            body.append(statement)
        if not body:  # every statement was a removed log call
            body = [cst.SimpleStatementLine([cst.Pass()], leading_lines=carried)]
        elif carried:
            # Comments of a removed last statement: keep them, above a ``pass`` that says nothing is left.
            body.append(cst.SimpleStatementLine([cst.Pass()], leading_lines=carried))
        return updated_node.with_changes(body=body)

    # -- classes ----------------------------------------------------------------------------------------------
    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        plan = self.plans.get(id(original_node))
        if plan is None:
            return updated_node
        node = self._add_mixin(updated_node)
        body = list(node.body.body)
        if plan.init_statements:
            body = self._with_init(body, plan.init_statements, plan.analysis.cls.kind)
        for hook, codes in plan.hook_additions.items():
            body = self._with_hook(body, hook, codes, plan.hook_anchors.get(hook), plan.analysis.cls.kind)
        return node.with_changes(body=node.body.with_changes(body=body))

    def _add_mixin(self, node: cst.ClassDef) -> cst.ClassDef:
        if any(isinstance(b.value, cst.Name) and b.value.value == "PutMixin" for b in node.bases):
            return node
        mixin = cst.Arg(cst.Name("PutMixin"), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return node.with_changes(bases=[mixin, *node.bases])

    def _method(self, name: str, codes: list[str], kind: str) -> cst.FunctionDef:
        params = "self" if kind == "module" else "self, trainer, pl_module"
        body = "\n".join(_indent_code(code, self.indent) for code in codes)
        method = self._statement(f"def {name}({params}):\n{body}")
        assert isinstance(method, cst.FunctionDef)
        return method.with_changes(leading_lines=[cst.EmptyLine(indent=False)])

    def _with_init(self, body: list[cst.BaseStatement], codes: list[str], kind: str) -> list[cst.BaseStatement]:
        statements = [self._statement(code) for code in codes]
        for index, statement in enumerate(body):
            if isinstance(statement, cst.FunctionDef) and statement.name.value == "__init__":
                if not isinstance(statement.body, cst.IndentedBlock):  # one line: one statement per line
                    lines = [cst.SimpleStatementLine([small.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)])
                             for small in statement.body.body]
                    statement = statement.with_changes(body=cst.IndentedBlock(body=lines))
                at = _super_init_index(statement)
                assert at is not None
                inner = list(statement.body.body)
                inner[at + 1 : at + 1] = statements
                body[index] = statement.with_changes(body=statement.body.with_changes(body=inner))
                return body
        init = self._method("__init__", ["super().__init__()", *codes], kind)
        if kind == "callback":
            init = self._method("__init__", ["super().__init__()", *codes], "module")
        first = next((i for i, s in enumerate(body) if isinstance(s, cst.FunctionDef)), len(body))
        init = init.with_changes(leading_lines=[cst.EmptyLine(indent=False)] if first > 0 else [])
        if first < len(body):
            following = body[first]
            if not any(line.comment is None for line in following.leading_lines[:1]):
                body[first] = following.with_changes(leading_lines=[cst.EmptyLine(indent=False), *following.leading_lines])
        body.insert(first, init)
        return body

    def _with_hook(
        self, body: list[cst.BaseStatement], hook: str, codes: list[str], anchor: str | None, kind: str
    ) -> list[cst.BaseStatement]:
        statements = [self._statement(code) for code in codes]
        for index, statement in enumerate(body):
            if isinstance(statement, cst.FunctionDef) and statement.name.value == hook:
                body[index] = self._appended(statement, statements)
                return body
        method = self._method(hook, codes, kind)
        at = len(body)
        for index, statement in enumerate(body):
            if isinstance(statement, cst.FunctionDef) and statement.name.value == anchor:
                at = index + 1
        body.insert(at, method)
        return body

    def _appended(self, function: cst.FunctionDef, statements: list[cst.BaseStatement]) -> cst.FunctionDef:
        block = function.body
        if not isinstance(block, cst.IndentedBlock):  # ``def f(self): pass`` on one line
            inner: list[cst.BaseStatement] = [cst.SimpleStatementLine(body=block.body)]
            block = cst.IndentedBlock(body=[])
        else:
            inner = list(block.body)
        if len(inner) == 1 and _is_pass(inner[0]):
            inner = []
        at = len(inner)
        if inner and isinstance(inner[-1], cst.SimpleStatementLine) and isinstance(inner[-1].body[-1], cst.Return):
            at -= 1
        inner[at:at] = statements
        return function.with_changes(body=block.with_changes(body=inner))


def _is_pass(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Pass)
    )


def render(module: cst.Module, plans: Sequence[MigrationPlan], context: CodemodContext | None = None) -> cst.Module:
    """The module with every plan applied; imports are added with libcst's ``AddImportsVisitor``."""
    if not any(plan.changes for plan in plans):
        return module
    new = module.visit(PlanRenderer(plans, module))
    context = context or CodemodContext()
    imports = sorted({imp for plan in plans if plan.changes for imp in plan.imports})
    for module_name, obj in imports:
        AddImportsVisitor.add_needed_import(context, module_name, obj)
    return AddImportsVisitor(context).transform_module(new)
