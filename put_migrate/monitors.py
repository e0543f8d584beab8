"""Monitored names: every ``monitor`` string of the tree, and whether some code puts that name to callbacks.

ModelCheckpoint, EarlyStopping and a scheduler dict (``{"scheduler": ..., "monitor": "val_loss"}``) read
``trainer.callback_metrics[monitor]``; a name nothing puts there makes them fail or do nothing. Monitors are found in
Python (``monitor="..."`` keyword arguments in modules that import Lightning or to Lightning's callbacks by name,
``"monitor": "..."`` dict entries) and in YAML and JSON configuration
files (Hydra, LightningCLI: ``monitor: val_loss``). YAML is read with PyYAML where it can be imported (its node
positions give the lines), else by a line scan of ``monitor:`` keys; JSON by a scan of ``"monitor": "..."`` pairs.

Names put to callbacks: the rewritten calls' put names (``Finding.names``, the plan's data, so a check-only run sees
the migrated code), the ``put`` calls already in the code (literal name, literal destinations holding
``"callbacks"``), and the ``log``/``log_dict`` calls with literal names still in the code (Lightning puts every logged
name to callbacks: the name, and ``_step``/``_epoch`` when it forks). ``put_dict``, and names built at run time, are
counted as run-time names: they may put a monitored name that nothing else puts.
"""

from __future__ import annotations

import ast
import bisect
import importlib.util
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from put_migrate.discover import MATHS_RECEIVERS, calls_log_off_maths
from put_migrate.rules import MONITOR_NOT_PUT, Finding, make_finding
from put_migrate.screen import python_tree

CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
MAX_CONFIG_BYTES = 2_000_000  # larger files are data, not configuration
# Names Lightning itself gives ModelCheckpoint (it monitors "epoch" and "step" without anything putting them).
ALWAYS_AVAILABLE = frozenset({"epoch", "step"})
_DATALOADER_SUFFIX = re.compile(r"/dataloader_idx_\d+\Z")
_YAML_MONITOR = re.compile(
    r"""^\s*(?:-\s+)?["']?monitor["']?\s*:\s*(?P<q>["']?)(?P<value>[^"'#\s][^"'#]*?)(?P=q)\s*(?:#.*)?$"""
)
_JSON_MONITOR = re.compile(r'"monitor"\s*:\s*"(?P<value>(?:[^"\\]|\\.)*)"')
# What a module that names a monitor in Python holds: a keyword ``monitor=`` or a dict key ``"monitor":`` followed
# by a string literal (after spaces, line breaks, comments or opening parentheses; a string prefix allowed). The
# scan counts string constants only, so ``monitor=self.monitor`` or ``monitor: str`` needs no parse. The pattern
# starts with a literal, so that ``re`` skips ahead to it (with ``\b`` first it tries every position).
_PYTHON_MONITOR = re.compile(r"""monitor["']?\s*[=:](?:[\s(\\]|#[^\n]*)*[rRuUbBfF]{0,2}["']""")
_PYTHON_MONITOR_BYTES = re.compile(_PYTHON_MONITOR.pattern.encode())  # the same, in the bytes of a source file
# What a module that puts a name must hold (``self.put(...)``, ``pl_module.put_dict(...)``).
_PUT_CALL = re.compile(r"\.\s*put(?:_dict)?\s*\(")
# A file that may put a name holds ``.log`` or ``.put`` (one ``re`` search: faster than two ``in`` tests).
_LOG_OR_PUT_BYTES = re.compile(rb"\.(?:log|put)")
_IMPORTS_LIGHTNING = re.compile(r"^\s*(?:from|import)\s+(?:lightning|pytorch_lightning)\b", re.MULTILINE)
_LIGHTNING_MONITORING = ("ModelCheckpoint", "EarlyStopping")
# What the scan looks for is written on the lines of these (``_PythonScan`` visits only the nodes spanning them).
_OF_INTEREST = re.compile(r"monitor|\.\s*(?:put|log)")


@dataclass(frozen=True)
class Monitor:
    """A monitored name where it is written."""

    name: str
    file: str
    line: int
    source: str  # "python", "yaml" or "json"
    context: str = ""  # the callable it is given to (``ModelCheckpoint``), or the enclosing key of a config


@dataclass(frozen=True)
class Put:
    """A name put to callbacks, and where."""

    name: str
    file: str
    line: int
    how: str  # "put" (migrated, or already in the code), "log" (a log call still in the code)
    hook: str = ""
    per_dataloader: bool = False


@dataclass
class Check:
    """Every monitor with the puts of its name; the monitors nothing puts are ``findings``."""

    monitors: list[tuple[Monitor, list[Put]]] = field(default_factory=list)
    yaml_reader: str = "none"  # "pyyaml", "line-scan", or "none" (no YAML file)
    runtime_names: int = 0  # puts and log calls whose names are known only at run time (0 without a monitor)
    findings: list[Finding] = field(default_factory=list)


# --- finding monitors -------------------------------------------------------------------------------------------


def _callee(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _receiver(node: ast.Call) -> str | None:
    value = node.func.value if isinstance(node.func, ast.Attribute) else None
    return value.id if isinstance(value, ast.Name) else None


def _string(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _PythonScan(ast.NodeVisitor):
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.monitors: list[Monitor] = []
        self.puts: list[Put] = []
        self.runtime_names = 0
        self.hooks: list[str] = []
        self.lines = _lines_of_interest(text)
        self.imports_lightning = bool(_IMPORTS_LIGHTNING.search(text))

    def generic_visit(self, node: ast.AST) -> None:
        # Only the nodes whose lines hold a ``monitor`` or a ``.put``/``.log`` attribute: what the scan looks for is
        # written there, and in a large module most statements hold neither.
        for child in ast.iter_child_nodes(node):
            end = getattr(child, "end_lineno", None)
            if end is None or self._of_interest(child, end):
                self.visit(child)

    def _of_interest(self, node: ast.AST, end: int) -> bool:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])  # type: ignore[attr-defined]
        at = bisect.bisect_left(self.lines, start)
        return at < len(self.lines) and self.lines[at] <= end

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.hooks.append(node.name)
        self.generic_visit(node)
        self.hooks.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _hook(self) -> str:
        return self.hooks[-1] if self.hooks else ""

    def visit_Call(self, node: ast.Call) -> None:
        for keyword in node.keywords:
            value = _string(keyword.value)
            callee = _callee(node.func)
            # In a module that never imports Lightning, ``monitor=`` goes to some other library's callback (gluonts'
            # own ``Checkpoint``), unless the callee is named as Lightning's monitoring callbacks are.
            lightning = self.imports_lightning or callee.endswith(_LIGHTNING_MONITORING)
            if keyword.arg == "monitor" and value is not None and lightning:
                self.monitors.append(Monitor(value, self.path, node.lineno, "python", callee))
        method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if method == "put":
            self._put(node)
        elif method == "put_dict":
            self.runtime_names += 1
        elif method in ("log", "log_dict") and _receiver(node) not in MATHS_RECEIVERS:  # ``torch.log(x)`` puts nothing
            self._log(node, method)
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values):
            name = _string(value)
            if key is not None and _string(key) == "monitor" and name is not None:
                self.monitors.append(Monitor(name, self.path, value.lineno, "python", "dict"))
        self.generic_visit(node)

    def _put(self, node: ast.Call) -> None:
        alias = next((k.value for k in node.keywords if k.arg == "callback_alias"), None)
        if alias is not None:  # a forked value's plain name: put to callbacks whatever the destinations
            self._put_name(alias, node)
        destinations = node.args[2] if len(node.args) > 2 else next(
            (k.value for k in node.keywords if k.arg == "destinations"), None
        )
        if not isinstance(destinations, (ast.List, ast.Tuple)):
            return
        if "callbacks" not in {_string(d) for d in destinations.elts}:
            return
        if node.args:
            self._put_name(node.args[0], node)

    def _put_name(self, expression: ast.expr, node: ast.Call) -> None:
        name = _string(expression)
        if name is None:
            self.runtime_names += 1  # an f-string (a dataloader suffix, a log_dict key) or a variable
            return
        self.puts.append(Put(name, self.path, node.lineno, "put", self._hook()))

    def _log(self, node: ast.Call, method: str) -> None:
        if not node.args:
            return
        if method == "log":
            names = [_string(node.args[0])]
        elif isinstance(node.args[0], ast.Dict):
            names = [_string(k) if k is not None else None for k in node.args[0].keys]
        else:
            names = [None]
        for name in names:
            if name is None:
                self.runtime_names += 1
                continue
            # Whether it forks depends on the hook and the options: the names it may put.
            for candidate in (name, f"{name}_step", f"{name}_epoch"):
                self.puts.append(Put(candidate, self.path, node.lineno, "log", self._hook(), per_dataloader=True))


# What ``scan_python`` finds in a module: its monitors, its puts to callbacks and its count of run-time names.
Scan = tuple[Sequence[Monitor], Sequence[Put], int]


def scan_python(text: str, path: str) -> tuple[list[Monitor], list[Put], int]:
    """Monitors, puts to callbacks and the count of run-time names of one module (nothing if it does not parse)."""
    if not (_PYTHON_MONITOR.search(text) or _may_put(text)):
        return [], [], 0
    tree = python_tree(text)  # a worker's syntax screen may have parsed this text just before
    if tree is None:
        return [], [], 0
    scan = _PythonScan(path, text)
    scan.visit(tree)
    return scan.monitors, scan.puts, scan.runtime_names


def _lines_of_interest(text: str) -> list[int]:
    """The lines (as ``ast`` numbers them) on which a match of ``_OF_INTEREST`` starts or ends, in order."""
    lines: list[int] = []
    line, position = 1, 0
    for match in _OF_INTEREST.finditer(text):
        for offset in match.span():
            line += _count_line_ends(text, position, offset)
            position = offset
            if not lines or lines[-1] != line:
                lines.append(line)
    return lines


def _count_line_ends(text: str, start: int, end: int) -> int:
    # ``ast`` ends a line at "\n", "\r\n" and a lone "\r".
    chunk = text[start:end]
    return chunk.count("\n") + chunk.count("\r") - chunk.count("\r\n")


def _yaml_monitors(text: str, path: str) -> list[Monitor] | None:
    """Through PyYAML's node tree (None where PyYAML cannot be imported or the file is not YAML it reads)."""
    try:
        import yaml
    except ImportError:
        return None
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    found: list[Monitor] = []

    def walk(node, context: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if (isinstance(key, yaml.ScalarNode) and key.value == "monitor" and isinstance(value, yaml.ScalarNode)
                        and value.tag.endswith(":str") and value.value):
                    found.append(Monitor(value.value, path, value.start_mark.line + 1, "yaml", context))
                walk(value, key.value if isinstance(key, yaml.ScalarNode) else context)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item, context)

    for document in documents:
        walk(document, "")
    return found


def _yaml_line_scan(text: str, path: str) -> list[Monitor]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _YAML_MONITOR.match(line)
        if match:
            found.append(Monitor(match.group("value").strip(), path, number, "yaml"))
    return found


def scan_config(text: str, path: str) -> tuple[list[Monitor], str]:
    """Monitors of a YAML or JSON file, and how the file was read ("pyyaml", "line-scan" or "json")."""
    if path.endswith(".json"):
        found = []
        for match in _JSON_MONITOR.finditer(text):
            try:
                name = json.loads(f'"{match.group("value")}"')
            except ValueError:
                continue
            found.append(Monitor(name, path, text.count("\n", 0, match.start()) + 1, "json"))
        return found, "json"
    parsed = _yaml_monitors(text, path)
    if parsed is not None:
        return parsed, "pyyaml"
    return _yaml_line_scan(text, path), "line-scan"


def marks(data: bytes) -> tuple[bool, bool]:
    """Whether a Python file's bytes name a monitor, and whether they may put a name to callbacks (they hold
    ``.put`` or ``.log``; ``check`` looks closer where some monitor is named): the files ``check`` reads. The
    workers of a run mark the files they read anyway, at the cost of a few byte searches for most files."""
    return _PYTHON_MONITOR_BYTES.search(data) is not None, _LOG_OR_PUT_BYTES.search(data) is not None


def scan_file(data: bytes, path: str) -> Scan:
    """``scan_python`` of a file's bytes, read as ``check`` reads a file: the run's workers scan the files that
    name a monitor as they go, so that ``check`` (after the run, in one process) need not read them again."""
    text = _text(data)
    return scan_python(text, path) if text is not None else ([], [], 0)


def _may_put(text: str) -> bool:
    """The module may put a name to callbacks: it calls ``put``/``put_dict``, or ``log``/``log_dict`` on something
    other than a maths library."""
    return bool(_PUT_CALL.search(text)) or calls_log_off_maths(text)


def _interpolated(name: str) -> bool:
    """A Hydra/OmegaConf interpolation (``${model.monitor}``) or OmegaConf's missing-value mark (``???``, given on
    the command line or by another config): its value is not in the file."""
    return "${" in name or name == "???"


# --- the check --------------------------------------------------------------------------------------------------


def _rewritten_puts(findings: Iterable[Finding]) -> list[Put]:
    puts = []
    for finding in findings:
        for named in finding.names:
            if "callbacks" in named.destinations:
                puts.append(Put(named.name, finding.path, finding.line, "put", named.hook, named.per_dataloader))
    return puts


def _matches(monitor: str, put: Put) -> bool:
    if put.name == monitor:
        return True
    return put.per_dataloader and _DATALOADER_SUFFIX.sub("", monitor) == put.name


def check(
    python_files: Sequence[str], config_files: Sequence[str], findings: Iterable[Finding] = (),
    marked: Mapping[str, tuple[bool, bool]] | None = None, scanned: Mapping[str, Scan] | None = None,
) -> Check:
    """Monitors of the files, each with the puts of its name. ``findings``: the run's findings, whose rewritten
    calls carry their put names (a put the rewrite wrote, found again in the file, is listed once). ``marked``:
    ``marks`` of the Python files, where the run has them (a file marked neither way is not read); ``scanned``:
    ``scan_file`` of those that name a monitor, where the run has it (they are not read again)."""
    result = Check()
    findings = list(findings)
    monitors: list[Monitor] = []
    puts = _rewritten_puts(findings)
    # The modules that name a monitor first; the others are parsed for their puts only where some monitor needs
    # them, and only where the text may hold a put or a Lightning log call.
    rest = []
    runtime_names = 0
    for path in python_files:
        names_monitor, may_put = marked.get(path, (True, True)) if marked is not None else (True, True)
        if not names_monitor:
            if may_put:
                rest.append(path)
            continue
        scan = scanned.get(path) if scanned is not None else None
        if scan is not None:
            monitors += scan[0]
            puts += scan[1]
            runtime_names += scan[2]
            continue
        text = _read(path)
        if text is None:
            continue
        if not _PYTHON_MONITOR.search(text):
            rest.append(path)
            continue
        found, file_puts, runtime = scan_python(text, path)
        monitors += found
        puts += file_puts
        runtime_names += runtime
    readers = set()
    for path in config_files:
        text = _read(path)
        if text is None or "monitor" not in text:
            continue
        found, reader = scan_config(text, path)
        monitors += found
        if reader != "json":
            readers.add(reader)
    result.yaml_reader = "pyyaml" if "pyyaml" in readers else "line-scan" if readers else "none"
    if result.yaml_reader == "none" and any(p.endswith((".yaml", ".yml")) for p in config_files):
        result.yaml_reader = _yaml_reader_available()
    if monitors:
        result.runtime_names = runtime_names
        for path in rest:
            text = _read(path)
            if text is None or not _may_put(text):
                continue
            _, file_puts, runtime = scan_python(text, path)
            puts += file_puts
            result.runtime_names += runtime
    for monitor in monitors:
        if _interpolated(monitor.name):
            continue
        matching = list({(p.name, p.file, p.hook, p.how): p for p in reversed(puts) if _matches(monitor.name, p)}
                        .values())
        result.monitors.append((monitor, sorted(matching, key=lambda p: (p.file, p.line, p.name))))
        if not matching and monitor.name not in ALWAYS_AVAILABLE:
            detail = f"{monitor.name!r}"
            if monitor.context:
                detail += f" ({monitor.context})"
            if result.runtime_names:
                detail += f"; {result.runtime_names} put or log calls with names built at run time may put it"
            result.findings.append(make_finding(monitor.file, monitor.line, 0, MONITOR_NOT_PUT, detail))
    result.findings.sort()
    return result


def _yaml_reader_available() -> str:
    """The reader a YAML file would get (found, not imported: no file needs it)."""
    return "pyyaml" if importlib.util.find_spec("yaml") is not None else "line-scan"


def _read(path: str) -> str | None:
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    return _text(data)


def _text(data: bytes) -> str | None:
    if len(data) > MAX_CONFIG_BYTES or b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")
