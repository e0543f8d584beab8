"""Which names a class defined in a function reads from it as one literal (``analyze.closure_literals``)."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from put_migrate.analyze.closure_literals import closure_literals


def _literals(source: str):
    """The closure literals of the class ``M`` of ``source``, whose functions nest down to it."""
    module = cst.parse_module(textwrap.dedent(source))
    chain: list[cst.FunctionDef] = []
    found: list = []

    class Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            chain.append(node)

        def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
            chain.pop()

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            if node.name.value == "M":
                found.append((node, tuple(chain)))
            return False

    module.visit(Finder())
    (node, enclosing), = found
    return closure_literals(node, enclosing)


def _strings(source: str) -> dict[str, str]:
    return dict(_literals(source).strings)


def test_a_string_bound_once_before_the_class_is_read():
    assert _strings('''
        def f():
            name = "val_loss"
            class M:
                def validation_step(self, batch, batch_idx):
                    self.log(name, 1.0)
    ''') == {"name": "val_loss"}


@pytest.mark.parametrize("binding", [
    '    name = "val_loss"\n    name = "other"',  # twice
    '    if flag:\n        name = "val_loss"',  # not a statement of the body itself
    '    name: str = "val_loss"',  # annotated: not the plain form
    '    name = "val_loss"\n    for name in ():\n        pass',  # a loop rebinds it
    '    name = "val_loss"\n    def g():\n        nonlocal name\n        name = "x"',  # a nested function does
    '    name = "val_loss"\n    del name',
])
def test_a_name_bound_otherwise_is_not(binding):
    source = f'def f(flag):\n{binding}\n    class M:\n        def validation_step(self, batch, batch_idx):\n' \
             '            self.log(name, 1.0)\n'
    assert _strings(source) == {}


def test_a_name_bound_after_the_class_or_a_parameter_is_not():
    assert _strings('''
        def f(title):
            class M:
                def validation_step(self, batch, batch_idx):
                    self.log(name, 1.0)
                    self.log(title, 1.0)
            name = "val_loss"
    ''') == {}


def test_a_method_parameter_of_the_name_shadows_it():
    assert _strings('''
        def f():
            name = "val_loss"
            class M:
                def helper(self, name):
                    self.log(name, 1.0)
    ''') == {}


def test_the_innermost_function_that_binds_the_name_decides():
    assert _strings('''
        def outer():
            name = "val_outer"
            def inner(flag):
                name = "a" if flag else "b"
                class M:
                    def validation_step(self, batch, batch_idx):
                        self.log(name, 1.0)
                return M
            return inner
    ''') == {}
    assert _strings('''
        def outer():
            name = "val_outer"
            def inner():
                class M:
                    def validation_step(self, batch, batch_idx):
                        self.log(name, 1.0)
                return M
            return inner
    ''') == {"name": "val_outer"}


def test_a_dict_only_given_to_log_dict_is_read_as_its_items():
    literals = _literals('''
        def f():
            first = {"a": 1.0, "b": torch.tensor(2.0)}
            rest = {"c": 3.0}
            class M:
                def validation_step(self, batch, batch_idx, dataloader_idx):
                    self.log_dict(first if dataloader_idx == 0 else rest)
                    self.log_dict(dictionary=first)
    ''')
    assert sorted(literals.mappings) == ["first", "rest"]
    assert [(k, cst.Module([]).code_for_node(v)) for k, v in literals.mappings["first"]] == [
        ("a", "1.0"), ("b", 'first["b"]')
    ]
    assert literals.keys(cst.parse_expression("first if c else rest")) == ("a", "b", "c")


@pytest.mark.parametrize("use", [
    'first["z"] = 1.0',  # changed
    "first.update(z=1.0)",
    "keep(first)",  # handed to code that may change it
    "alias = first",
    "trainer.logger.log_dict(first)",  # another object's method
])
def test_a_dict_used_otherwise_is_not(use):
    literals = _literals(f'''
def f():
    first = {{"a": 1.0}}
    class M:
        def validation_step(self, batch, batch_idx):
            self.log_dict(first)
    {use}
''')
    assert literals.mappings == {}


def test_a_dict_with_a_repeated_or_computed_key_is_not():
    literals = _literals('''
        def f(k):
            twice = {"a": 1.0, "a": 2.0}
            computed = {k: 1.0}
            class M:
                def validation_step(self, batch, batch_idx):
                    self.log_dict(twice)
                    self.log_dict(computed)
    ''')
    assert literals.mappings == {}
