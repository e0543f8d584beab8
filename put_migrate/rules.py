"""Finding records and the catalogue of rule codes.

Codes are stable: PM1xx are rewrites that were applied (informational), PM2xx are calls left untouched for a human,
PM3xx are file-level problems, PM4xx are names the code or its configuration depend on (monitors). A code is never
reused for another meaning. Each rule is a named constant (``NOT_A_HOOK`` is PM205); defining one registers it in
``RULES``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple


class Severity(str, Enum):
    REWRITTEN = "rewritten"  # the call was migrated
    MANUAL = "manual"  # the call was left as it was and needs a human
    ERROR = "error"  # the file could not be processed
    SKIPPED = "skipped"  # left as it was because the user asked (`# put-migrate: skip`); never fails a run


@dataclass(frozen=True, order=True)
class PutName:
    """One name a rewritten call puts, where to, and what computes it (the plan's own data, for the reports)."""

    logged: str  # the name the call logged (a ``log_dict`` key; ``<d>`` for a mapping whose keys are run-time)
    name: str  # the name put (``/dataloader_idx_N`` appended at run time where ``per_dataloader``)
    destinations: tuple[str, ...]
    hook: str  # the hook that computes and puts the value
    aggregator: str = ""  # Mean/Sum/Max/Min, Keyed(...), Metric; "": the value as logged, no aggregation
    attribute: str = ""  # the aggregator's (or Metric's) attribute, ``self.val_loss_mean``
    per_dataloader: bool = False


@dataclass(frozen=True, order=True)
class Finding:
    """One call (or file) the codemod rewrote or left alone, with the reason; a rewritten call's put names."""

    path: str
    line: int
    column: int
    code: str
    message: str
    severity: Severity = Severity.MANUAL
    names: tuple[PutName, ...] = field(default=(), compare=False)

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.column + 1}: {self.code} {self.message}"


class Problem(NamedTuple):
    """Why a call is left for a human: its rule code and what exactly was found in the call."""

    code: str
    detail: str


@dataclass(frozen=True)
class Rule:
    """A stable rule code: what happened to a call, and what a human should do about it."""

    code: str
    title: str  # the finding's message, followed by the call's detail
    advice: str
    severity: Severity = Severity.MANUAL
    retired: bool = False  # kept in the catalogue so the code is never reused; no longer produced

    def problem(self, detail: str) -> Problem:
        """This rule's ``Problem`` for one call."""
        return Problem(self.code, detail)


# Every rule, by code, in the order they are defined below.
RULES: dict[str, Rule] = {}


def _rule(
    code: str, title: str, advice: str, severity: Severity = Severity.MANUAL, *, retired: bool = False
) -> Rule:
    if code in RULES:
        raise ValueError(f"rule code {code} is defined twice")
    rule = Rule(code, title, advice, severity, retired)
    RULES[code] = rule
    return rule


# PM0xx: the user's own decisions.
SKIPPED_BY_COMMENT = _rule(
    "PM001",
    "call skipped by a `# put-migrate: skip` comment",
    "Nothing to do: the call stays a self.log call, which keeps working beside put.",
    Severity.SKIPPED,
)
# PM1xx: rewritten (informational).
LOG_MIGRATED = _rule("PM101", "self.log call migrated to self.put", "Nothing to do.", Severity.REWRITTEN)
LOG_DICT_MIGRATED = _rule("PM102", "self.log_dict call migrated to self.put", "Nothing to do.", Severity.REWRITTEN)
CALLBACK_LOG_MIGRATED = _rule(
    "PM103", "Callback log call migrated to the callback's self.put", "Nothing to do.", Severity.REWRITTEN
)
# PM2xx: left as it was for a human.
STAR_ARGUMENTS = _rule("PM201", "call uses *args or **kwargs", "Write the arguments out, or migrate the call by hand.")
OPTION_NOT_LITERAL = _rule(
    "PM202",
    "an option value is not a literal",
    "Use a literal True/False (or string) for the option, or migrate the call by hand for each case.",
)
STEP_EPOCH_AT_RUN_TIME = _rule(
    "PM203",
    "on_step/on_epoch are computed at run time",
    "Split the call per case (an if/else with literal on_step/on_epoch), then run the codemod again.",
)
NAME_NOT_LITERAL = _rule(
    "PM204",
    "the metric name is not a literal string",
    "Use a literal name (ModelCheckpoint/EarlyStopping monitor strings depend on it), or migrate by hand.",
)
NOT_A_HOOK = _rule(
    "PM205",
    "log call in a method that is not a Lightning hook",
    "Lightning takes the defaults from the hook that calls this helper at run time; inline the call in the "
    "hook, or pass on_step/on_epoch explicitly and migrate by hand.",
)
LOGGING_FORBIDDEN = _rule(
    "PM206",
    "log call in a hook where Lightning forbids logging",
    "Lightning raises here; remove the call or move it to an allowed hook.",
)
LOG_OVERRIDDEN = _rule(
    "PM207", "the class overrides log or log_dict", "Migrate the class by hand; its log is not Lightning's."
)
METRIC_STEP_VALUE_UNKNOWN = _rule(
    "PM208",
    "Metric value whose step value cannot be found",
    "Call the metric (self.metric(...)) as a statement in the same hook, before the log call, at the same or "
    "an enclosing block level; or log the metric with on_step=False.",
)
UNKNOWN_REDUCTION = _rule(
    "PM209",
    "reduce_fx is not one of Lightning's reductions",
    "Lightning raises for it; use 'mean', 'sum', 'max' or 'min'.",
)
NOT_A_STATEMENT = _rule(
    "PM210",
    "log call is not a statement of its own",
    "Put the call on its own line (not inside an expression, a lambda or a line with ';').",
)
BATCH_SIZE_UNKNOWN = _rule(
    "PM211",
    "batch size cannot be found",
    "Under training_step(self, dataloader_iter) Lightning raises for a training-time self.log without "
    "batch_size=; pass batch_size= to the call, then run the codemod again.",
)
NO_SUPER_INIT = _rule(
    "PM212",
    "__init__ has no plain super().__init__() call",
    "Add super().__init__(...) as a statement of __init__, then run the codemod again.",
)
STEP_EPOCH_REJECTED = _rule(
    "PM213",
    "on_step/on_epoch combination Lightning rejects",
    "Lightning raises for it (both False, or on_step=True in an epoch-level hook); fix the call.",
)
NAME_AGGREGATED_TWICE = _rule(
    "PM214",
    "the same name is aggregated from several places",
    "Lightning averages or overwrites these values in ways a per-call rewrite cannot reproduce; give each "
    "call its own name, or migrate by hand.",
)
MAPPING_UNKNOWN = _rule(
    "PM215",
    "log_dict argument is not a literal dict or a known MetricCollection",
    "Use a dict literal with literal keys, or a MetricCollection built in the class (or cloned from one) "
    "with literal keys, prefix and postfix.",
)
VALUE_REJECTED = _rule(
    "PM216",
    "value type Lightning rejects",
    "Lightning raises for str, dict, list and similar values; fix the call.",
)
DATALOADER_IDX_UNSUPPORTED = _rule(
    "PM217",
    "dataloader_idx case not supported",
    "A Metric object logged from a hook that takes dataloader_idx is computed per dataloader as Lightning "
    "goes (without a reset in between), or the hook reassigns the *args that holds it; migrate by hand.",
)
NESTED_CALL = _rule(
    "PM218",
    "log call in a nested function, lambda or class",
    "Move the call into the hook itself (a def the hook only calls, or hands to opt.step(closure=...), is migrated).",
)
EPOCH_VALUE_IN_LOOP = _rule(
    "PM219",
    "epoch value logged in a loop of an epoch-level hook",
    "Lightning averages the values of one name over one call of the hook; the codemod collects them only in the hook, "
    "or in a helper each epoch-level hook calls once, outside loops, with nothing else logging there: log in the hook "
    "itself, or migrate by hand.",
)
ATTRIBUTE_OF_UNKNOWN_TYPE = _rule(
    "PM220",
    "value is an attribute of unknown type",
    "The value is `self.x` (never assigned in this class, or assigned a parameter, `self.x = x`, where the "
    "rewrite cannot tell a Metric from a value at run time) or `pl_module.x`: it may be a torchmetrics Metric "
    "defined elsewhere or passed in, which needs compute/reset code. Assign it in this class, annotate the "
    "parameter with its value type (`x: float`), log a tensor, or migrate by hand.",
)
# Retired (kept so the code is never reused): a derived class's new compute hook now always starts with
# super().on_*_epoch_compute() (PutMixin has no-op defaults), so base and subclass migrate in one run.
BASE_COMPUTE_HOOK = _rule(
    "PM221",
    "retired: a project base class may define the same compute hook",
    "No longer produced: derived classes' compute hooks always call super() first.",
    retired=True,
)
CLASS_NOT_RECOGNISED = _rule(
    "PM222",
    "class not recognised as a LightningModule or Callback",
    "A base of the class could not be resolved (an imported name the files given to put-migrate do not "
    "define, or another class defined inside a function), and the call sits in a method named like a "
    "Lightning hook. Run put-migrate on the folder that defines that base too (the base and its subclasses "
    "in one run), move a function-local base to module level, or migrate the call by hand.",
)
SAME_NAME_FROM_DATALOADERS = _rule(
    "PM223",
    "add_dataloader_idx=False in a hook that takes dataloader_idx",
    "Lightning raises (\"You called `self.log(name, ...)` twice in `<hook>` with different arguments\") "
    "when a second dataloader logs the same name without the suffix, at that call; the rewrite checks the name "
    "there, except for a Metric object, a synced value or a dict whose values are computed in the call. "
    "Log it only under `if dataloader_idx == N:`, log a value (or a dict of plain names) without sync_dist, "
    "or drop add_dataloader_idx=False; then run the codemod again.",
)
CALLBACK_METRIC = _rule(
    "PM224",
    "a Callback logs its own Metric",
    "Lightning raises (\"Could not find the `LightningModule` attribute for the `torchmetrics.Metric` logged\") "
    "when a Callback logs a Metric that is its own attribute, not the module's, unless metric_attribute= names "
    "it (then Lightning logs it as a Metric object, which the codemod does not migrate in a Callback); a put "
    "would run where the original fails, or put a Metric. Log `self.metric.compute()` (a value), or make the "
    "Metric an attribute of the LightningModule; then run the codemod again.",
)
METRIC_REACHED = _rule(
    "PM225",
    "value may be a Metric object reached through a container, a loop, a local or a parameter",
    "Lightning logs a torchmetrics Metric as a Metric object (its forward value on step, compute() at epoch end, "
    "its own reset) whatever expression reaches it; the rewrite follows a Metric only as `self.<metric>` assigned in "
    "the class, and a put or an aggregator fed a Metric object raises. Log the Metric as `self.<metric>` under a "
    "literal name, log a value (the tensor its forward returns), or migrate by hand.",
)
# PM4xx: names the code and its configuration depend on.
MONITOR_NOT_PUT = _rule(
    "PM401",
    "monitored name that no code puts to callbacks",
    "ModelCheckpoint, EarlyStopping and a scheduler's monitor read trainer.callback_metrics: they raise, or do "
    "nothing, for a name nothing logs or puts to callbacks. Fix the monitor string, or log (put) the name, "
    "with callbacks among its destinations.",
)
# PM3xx: file-level problems; the file is left byte for byte as it was.
SYNTAX_ERROR = _rule(
    "PM301", "the file does not parse", "Fix the syntax error at the reported line, then run again.", Severity.ERROR
)
UNREADABLE = _rule(
    "PM302",
    "the file cannot be read as Python text",
    "Binary, undecodable (check its coding cookie) or unreadable: check the file.",
    Severity.ERROR,
)
UNSAFE_TO_WRITE = _rule(
    "PM303",
    "the file would not survive a rewrite byte for byte",
    "Its parse does not round-trip exactly, or the rewrite did not re-parse: migrate it by hand, and report it.",
    Severity.ERROR,
)
DIRTY_FILE = _rule(
    "PM304",
    "the file has uncommitted changes",
    "Commit or stash them so the rewrite can be reviewed and reverted, or pass --allow-dirty.",
    Severity.ERROR,
)
INTERNAL_ERROR = _rule(
    "PM305", "the codemod failed on this file", "Run with --verbose and report the traceback.", Severity.ERROR
)
TOO_DEEP = _rule(
    "PM306",
    "the file is nested too deeply or has too long a line for the parser",
    "Migrate it by hand.",
    Severity.ERROR,
)

# Codes kept in the catalogue (never reused) that the codemod no longer produces.
RETIRED_CODES = frozenset(rule.code for rule in RULES.values() if rule.retired)


def make_finding(path: str, line: int, column: int, code: str | Rule, detail: str = "") -> Finding:
    """A ``Finding`` for rule ``code`` (a ``Rule`` or its code); ``detail`` says what exactly was found in this call."""
    rule = code if isinstance(code, Rule) else RULES[code]
    message = rule.title if not detail else f"{rule.title}: {detail}"
    if rule.severity is Severity.MANUAL:
        message = f"{message}. {rule.advice}"
    return Finding(path, line, column, rule.code, message, rule.severity)
