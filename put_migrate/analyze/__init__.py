"""Turn every ``self.log``/``self.log_dict``/``pl_module.log`` call of a Lightning class into a plain ``LogCall``.

Nothing here decides the rewrite: a ``LogCall`` says where the call is (hook, stage), what Lightning resolves its
arguments to (on_step/on_epoch defaults from the hook, SELF_LOG_SEMANTICS.md §1; reduce_fx spellings, §3.2), and,
when the call cannot be read with certainty, the rule code of the problem. One module per job: ``model`` (the
records), ``metrics`` (metric discovery), ``calls`` (call finding), ``context`` (which hooks run a statement),
``arguments`` (argument binding), ``options``, ``items`` and ``hook_arguments`` (one function per option concern),
``read`` (one call) and ``classes`` (one class).
"""

from put_migrate.analyze.arguments import LOG_DICT_PARAMS, LOG_PARAMS
from put_migrate.analyze.classes import analyze_class
from put_migrate.analyze.literals import code_of
from put_migrate.analyze.model import ClassAnalysis, LogCall, LogItem, MetricInfo
from put_migrate.rules import Problem

_code = code_of  # the name put_migrate.plan imports

__all__ = [
    "LOG_DICT_PARAMS",
    "LOG_PARAMS",
    "ClassAnalysis",
    "LogCall",
    "LogItem",
    "MetricInfo",
    "Problem",
    "analyze_class",
    "code_of",
]
