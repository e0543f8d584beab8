"""Apply ``MigrationPlan``s to a module with libcst: replace log statements, add scaffolding, bases and imports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import libcst as cst

from put_migrate.imports import add_imports
from put_migrate.lightning_classes import dotted_name, sub_blocks
from put_migrate.lightning_names import BASES
from put_migrate.mixin_position import mixin_position
from put_migrate.plan import MigrationPlan, super_init_index
from put_migrate.plan.statements import indent_code
from put_migrate.project_config import import_style
from put_migrate.walk import visit
from put_migrate.wrap import wrap_code

if TYPE_CHECKING:  # libcst.codemod (with libcst.matchers) takes longer to import than most files take to migrate
    from libcst.codemod import CodemodContext


class PlanRenderer(cst.CSTTransformer):
    def __init__(self, plans: Sequence[MigrationPlan], module: cst.Module, line_length: int = 88) -> None:
        super().__init__()
        self.line_length = line_length
        self.blocks: list[tuple[int, int]] = []  # (id, width of its indentation) of the blocks being visited
        self.config = module.config_for_parsing
        self.indent = module.default_indent
        self.plans = {id(p.analysis.cls.node): p for p in plans if p.changes}
        self.replacements: dict[int, list[str]] = {}
        # Placeholders for removed statements, by id; the dict keeps them alive so that an id is never reused.
        self.removed: dict[int, cst.SimpleStatementLine] = {}
        self.dispatch_keys: set[int] = set()
        self.dispatches: dict[int, cst.If] = {}  # generated if/elif chains, by id (kept alive)
        self.module = module
        self.derived = False
        self.class_column = 0  # where the statements of the body of the class being rendered start
        self.added_mixin = False
        self.insertions: dict[int, list[str]] = {}
        for plan in self.plans.values():
            self.replacements.update(plan.replacements)
            self.dispatch_keys |= plan.dispatches
            self.insertions.update(plan.insertions)
        # Top-level classes of this file that get PutMixin (first) for the sake of a migrated subclass: name -> id.
        self.roots_given_mixin = _roots_given_mixin(module, [p.analysis.cls for p in self.plans.values()])
        self.around_plans = _enclosing(module, set(self.plans) | set(self.roots_given_mixin.values()))
        self.around_plans |= set(self.roots_given_mixin.values())
        self.in_plans = 0  # how many planned classes enclose the node being visited

    def _statement(self, code: str, column: int, comment: int = 0) -> cst.BaseStatement:
        """A generated statement whose first line starts at ``column``, wrapped at the project's line length
        (``comment``: the width of the user's comment that will follow it)."""
        wrapped = wrap_code(code, column, self.line_length, self.indent, comment)
        return cst.parse_statement(wrapped + "\n", config=self.config)

    def _column(self) -> int:
        """Where a statement of the innermost block being visited starts."""
        return sum(width for _, width in self.blocks)

    def _block_width(self, block: cst.BaseSuite) -> int:
        if not isinstance(block, cst.IndentedBlock):
            return len(self.indent)
        return len(block.indent if block.indent is not None else self.indent)

    def on_visit(self, node: cst.CSTNode) -> bool:
        # Plans change the statements, blocks and bodies of planned classes, never an expression: only the planned
        # classes, the statements around them, and no simple statement's expressions are walked (walking and
        # rebuilding every node is most of the cost of a libcst transform).
        if id(node) in self.plans:
            self.in_plans += 1
        elif not self.in_plans and id(node) not in self.around_plans:
            return False
        descend = super().on_visit(node) and not isinstance(node, cst.SimpleStatementLine)
        if descend and isinstance(node, cst.IndentedBlock):
            self.blocks.append((id(node), self._block_width(node)))
        return descend

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        if id(original_node) in self.plans:
            self.in_plans -= 1
        if self.blocks and self.blocks[-1][0] == id(original_node):
            self.blocks.pop()
        result = super().on_leave(original_node, updated_node)
        codes = self.insertions.get(id(original_node))
        if not codes or isinstance(result, cst.RemovalSentinel):
            return result
        following = list(result.nodes) if isinstance(result, cst.FlattenSentinel) else [result]
        inserted = [self._statement(code, self._column()) for code in codes]
        head = following[0]
        # The new statement takes the place (and the comments above) of the one it precedes.
        inserted[0] = inserted[0].with_changes(leading_lines=head.leading_lines)
        following[0] = head.with_changes(leading_lines=[])
        if self.dispatches.get(id(head)) is head:
            self.dispatches[id(following[0])] = following[0]
        if self.removed.get(id(head)) is head:  # keep the placeholder's identity for leave_IndentedBlock
            following[0] = head
            inserted[0] = inserted[0].with_changes(leading_lines=[])
        return cst.FlattenSentinel([*inserted, *following])

    # -- statements -------------------------------------------------------------------------------------------
    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        codes = self.replacements.get(id(original_node))
        if codes is None:
            return updated_node
        if not codes:  # removed in leave_IndentedBlock, which moves its comments to the next statement
            placeholder = cst.SimpleStatementLine([cst.Pass()], leading_lines=original_node.leading_lines)
            self.removed[id(placeholder)] = placeholder
            return placeholder
        trailing = original_node.trailing_whitespace
        comment = len(trailing.whitespace.value) + len(trailing.comment.value) if trailing.comment else 0
        statements = [self._statement(code, self._column(), comment if not index else 0)
                      for index, code in enumerate(codes)]
        first = statements[0]
        if isinstance(first, cst.SimpleStatementLine):
            first = first.with_changes(
                leading_lines=original_node.leading_lines, trailing_whitespace=original_node.trailing_whitespace
            )
        else:
            first = first.with_changes(leading_lines=original_node.leading_lines)
        statements[0] = first
        if id(original_node) in self.dispatch_keys and isinstance(first, cst.If):
            self.dispatches[id(first)] = first
        return cst.FlattenSentinel(statements)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        updated_node = self._merge_dispatches(updated_node)
        if not any(self.removed.get(id(statement)) is statement for statement in updated_node.body):
            return updated_node
        body: list[cst.BaseStatement] = []
        carried: list[cst.EmptyLine] = []
        # Every statement is one of these two kinds; only they have leading_lines.
        for statement in cast("Sequence[cst.SimpleStatementLine | cst.BaseCompoundStatement]", updated_node.body):
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

    def _merge_dispatches(self, block: cst.IndentedBlock) -> cst.IndentedBlock:
        """Neighbouring generated ``if stage == "train": ... elif ...`` chains with the same conditions: one chain."""
        if not any(self.dispatches.get(id(s)) is s for s in block.body):
            return block
        body: list[cst.BaseStatement] = []
        for statement in block.body:
            previous = body[-1] if body else None
            if (
                previous is not None
                and self.dispatches.get(id(previous)) is previous
                and self.dispatches.get(id(statement)) is statement
                and not any(line.comment for line in statement.leading_lines)
                and self._conditions(previous) == self._conditions(statement)
            ):
                assert isinstance(previous, cst.If) and isinstance(statement, cst.If)
                merged = _merge_chains(previous, statement)
                self.dispatches[id(merged)] = merged
                body[-1] = merged
            else:
                body.append(statement)
        return block.with_changes(body=body)

    def _conditions(self, node: cst.If | None) -> list[str]:
        found: list[str] = []
        current: object = node
        while isinstance(current, cst.If):
            found.append(self.module.code_for_node(current.test))
            current = current.orelse
        if isinstance(current, cst.Else):
            found.append("else")
        return found

    # -- classes ----------------------------------------------------------------------------------------------
    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        plan = self.plans.get(id(original_node))
        if plan is None:
            if id(original_node) in self.roots_given_mixin.values():
                return self._mixin_first(updated_node)
            return updated_node
        cls = plan.analysis.cls
        self.class_column = self._column() + self._block_width(original_node.body)  # its body's blocks are left
        node = self._add_mixin(updated_node, cls)
        # A planned class has methods, so an indented body: a list of statements.
        body = cast("list[cst.BaseStatement]", list(node.body.body))
        self.derived = cls.inherited is not None
        if plan.init_statements:
            body = self._with_init(body, plan.init_statements, plan.init_signature)
        for hook, codes in plan.hook_additions.items():
            if hook in plan.super_calls and not any(
                isinstance(s, cst.FunctionDef) and s.name.value == hook for s in body
            ):
                args = "" if cls.kind == "module" else "trainer, pl_module"
                codes = [f"super().{hook}({args})", *codes]
            body = self._with_hook(body, hook, codes, plan.hook_anchors.get(hook), cls.kind)
        return node.with_changes(body=node.body.with_changes(body=body))

    def _add_mixin(self, node: cst.ClassDef, cls) -> cst.ClassDef:
        if any(isinstance(b.value, cst.Name) and b.value.value == "PutMixin" for b in node.bases):
            return node
        if cls.inherited is not None:
            if id(node) in self.roots_given_mixin.values() or self._inherits_mixin(cls):
                return node
            # Its project root is in another file: PutMixin goes last, the one place that keeps the method
            # resolution order valid once that root gets PutMixin (first) in this run or a later one; before a
            # later base that the root's order lists after PutMixin (``mixin_position``).
            bases = list(node.bases)
            positional = [i for i, b in enumerate(bases) if b.keyword is None and not b.star]
            written = [_dotted_base(bases[i].value, cls.inherited.bases) for i in positional]
            last = positional[mixin_position(cls.inherited.chain, written) - 1]
            comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            bases[last] = bases[last].with_changes(comma=comma)
            mixin = cst.Arg(cst.Name("PutMixin"), comma=bases[last + 1 :] and comma or cst.MaybeSentinel.DEFAULT)
            bases.insert(last + 1, mixin)
            self.added_mixin = True
            return node.with_changes(bases=bases)
        return self._mixin_first(node)

    def _mixin_first(self, node: cst.ClassDef) -> cst.ClassDef:
        mixin = cst.Arg(cst.Name("PutMixin"), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        self.added_mixin = True
        return node.with_changes(bases=[mixin, *node.bases])

    def _inherits_mixin(self, cls) -> bool:
        """An ancestor has PutMixin already, or gets it in this file (migrated here, or a root given it)."""
        migrated_here = {p.analysis.cls.name for p in self.plans.values()}
        return cls.inherited.put_mixin or bool(cls.inherited.same_file & (migrated_here | set(self.roots_given_mixin)))

    def _method(self, name: str, codes: list[str], kind: str) -> cst.FunctionDef:
        params = "self" if kind == "module" else "self, trainer, pl_module"
        body = "\n".join(indent_code(code, self.indent) for code in codes)
        method = self._statement(f"def {name}({params}):\n{body}", self.class_column)
        assert isinstance(method, cst.FunctionDef)
        return method.with_changes(leading_lines=[cst.EmptyLine(indent=False)])

    def _with_init(
        self, body: list[cst.BaseStatement], codes: list[str], signature: tuple[str, str] | None
    ) -> list[cst.BaseStatement]:
        statements = [self._statement(code, self.class_column + len(self.indent)) for code in codes]
        for index, statement in enumerate(body):
            if isinstance(statement, cst.FunctionDef) and statement.name.value == "__init__":
                if isinstance(statement.body, cst.SimpleStatementSuite):  # one line: one statement per line
                    lines = [cst.SimpleStatementLine([small.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)])
                             for small in statement.body.body]
                    statement = statement.with_changes(body=cst.IndentedBlock(body=lines))
                at = super_init_index(statement)
                assert at is not None
                inner = list(statement.body.body)
                inner[at + 1 : at + 1] = statements
                body[index] = statement.with_changes(body=statement.body.with_changes(body=inner))
                return body
        # A derived class repeats the signature of the base __init__ it reaches, else passes everything on.
        parameters, arguments = (signature or ("*args, **kwargs", "*args, **kwargs")) if self.derived else ("", "")
        init = self._statement(
            f"def __init__(self{', ' if parameters else ''}{parameters}):\n"
            + "\n".join(indent_code(c, self.indent) for c in [f"super().__init__({arguments})", *codes]),
            self.class_column,
        )
        assert isinstance(init, cst.FunctionDef)
        first = next((i for i, s in enumerate(body) if isinstance(s, cst.FunctionDef)), len(body))
        init = init.with_changes(leading_lines=[cst.EmptyLine(indent=False)] if first > 0 else [])
        if first < len(body):
            following = body[first]
            assert isinstance(following, cst.FunctionDef)
            if not any(line.comment is None for line in following.leading_lines[:1]):
                body[first] = following.with_changes(leading_lines=[cst.EmptyLine(indent=False), *following.leading_lines])
        body.insert(first, init)
        return body

    def _with_hook(
        self, body: list[cst.BaseStatement], hook: str, codes: list[str], anchor: str | None, kind: str
    ) -> list[cst.BaseStatement]:
        statements = [self._statement(code, self.class_column + len(self.indent)) for code in codes]
        for index, statement in enumerate(body):
            if isinstance(statement, cst.FunctionDef) and statement.name.value == hook:
                body[index] = self._appended(statement, statements)
                return body
        method = self._method(hook, codes, kind)
        at = len(body)
        for index, statement in enumerate(body):
            if isinstance(statement, cst.FunctionDef) and statement.name.value == anchor:
                at = index + 1
        # One blank line on either side, as between the user's methods: none more where the statement before
        # ends with a blank line of its own (a line of spaces at the end of a method is its block's), and one
        # before the statement after where it had none (that line of spaces was all that set it apart).
        if at and _ends_with_blank_line(body[at - 1]):
            method = method.with_changes(leading_lines=[])
        if at < len(body):
            following = cast("cst.SimpleStatementLine | cst.BaseCompoundStatement", body[at])
            if not any(line.comment is None for line in following.leading_lines[:1]):
                body[at] = following.with_changes(leading_lines=[cst.EmptyLine(indent=False), *following.leading_lines])
        body.insert(at, method)
        return body

    def _appended(self, function: cst.FunctionDef, statements: list[cst.BaseStatement]) -> cst.FunctionDef:
        block = cast("cst.IndentedBlock | cst.SimpleStatementSuite", function.body)  # libcst's two suites
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


def _ends_with_blank_line(statement: cst.BaseStatement) -> bool:
    """The last line of ``statement`` is a blank one of its own: a block's footer (the lines after its last
    statement indented deeper than the next statement, a line of spaces included) that ends without a comment."""
    blocks = sub_blocks(statement) if isinstance(statement, cst.BaseCompoundStatement) else []
    while blocks:
        block = blocks[-1]
        if block.footer:
            return block.footer[-1].comment is None
        last = block.body[-1] if block.body else None
        blocks = sub_blocks(last) if isinstance(last, cst.BaseCompoundStatement) else []
    return False


def _dotted_base(node: cst.BaseExpression, resolved: tuple[str, ...]) -> str:
    """A base as written, as the dotted name the index resolved it to (the one of the class's bases that ends
    with its name), else as written."""
    written = dotted_name(node) or ""
    tail = written.rsplit(".", 1)[-1]
    found = [d for d in resolved if d == written or d.rsplit(".", 1)[-1] == tail]
    return found[0] if len(found) == 1 else written


def _roots_given_mixin(module: cst.Module, classes: list) -> dict[str, int]:
    """The project roots (classes whose own bases name a Lightning class) of this file that get ``PutMixin`` first
    so that the migrated classes derived from them need none: PutMixin first on a derived class makes its method
    resolution order inconsistent as soon as an ancestor has PutMixin too (docs/design/generated-code.md,
    decision 14). Name -> id of the class statement; a root that is migrated itself gets it anyway."""
    planned = {cls.name for cls in classes}
    top = {s.name.value: s for s in module.body if isinstance(s, cst.ClassDef)}
    chosen: dict[str, int] = {}
    for cls in classes:
        inherited = cls.inherited
        if inherited is None or inherited.put_mixin or inherited.same_file & (planned | chosen.keys()):
            continue
        for ancestor in inherited.chain:
            name = ancestor.key.rsplit(".", 1)[1]
            if name in inherited.same_file and name in top and any(b in BASES for b in ancestor.bases):
                chosen[name] = id(top[name])
                break
    return chosen


def _merge_chains(first: cst.If, second: cst.If) -> cst.If:
    def joined(a: cst.BaseSuite, b: cst.BaseSuite) -> cst.BaseSuite:
        assert isinstance(a, cst.IndentedBlock) and isinstance(b, cst.IndentedBlock)
        statements = [s for s in [*a.body, *b.body] if not _is_pass(s)] or [a.body[0]]
        return a.with_changes(body=statements)

    orelse = first.orelse
    if isinstance(orelse, cst.If):
        assert isinstance(second.orelse, cst.If)
        orelse = _merge_chains(orelse, second.orelse)
    elif isinstance(orelse, cst.Else):
        assert isinstance(second.orelse, cst.Else)
        orelse = orelse.with_changes(body=joined(orelse.body, second.orelse.body))
    return first.with_changes(body=joined(first.body, second.body), orelse=orelse)


def _enclosing(module: cst.Module, targets: set[int]) -> set[int]:
    """ids of the nodes that enclose one of ``targets`` (ids of class statements), the module included."""
    found: set[int] = set()
    path: list[cst.CSTNode] = []

    class Enclosing(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if id(node) in targets:
                found.update(id(n) for n in path)
            path.append(node)
            return not isinstance(node, (cst.SimpleStatementLine, cst.BaseExpression))  # no class in there

        def on_leave(self, original_node: cst.CSTNode) -> None:
            path.pop()

    visit(module, Enclosing())
    return found


def _is_pass(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Pass)
    )


def render(
    module: cst.Module,
    plans: Sequence[MigrationPlan],
    context: CodemodContext | None = None,
    path: str | None = None,
) -> cst.Module:
    """The module with every plan applied; new imports are placed as the project's isort/ruff configuration (found
    upward from ``path``) places them."""
    if not any(plan.changes for plan in plans):
        return module
    style = import_style(path)
    renderer = PlanRenderer(plans, module, style.line_length)
    new = module.visit(renderer)
    imports = sorted({imp for plan in plans if plan.changes for imp in plan.imports})
    if not renderer.added_mixin:  # every migrated class inherits PutMixin already
        imports = [imp for imp in imports if imp != ("shim", "PutMixin")]
    if context is not None:  # a libcst codemod command's context: its later passes see the imports too
        from libcst.codemod.visitors import AddImportsVisitor

        for module_name, obj in imports:
            AddImportsVisitor.add_needed_import(context, module_name, obj or None)  # "" -> ``import module``
    return add_imports(new, imports, style)
