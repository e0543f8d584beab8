"""The rule catalogue: each code a named constant, every live code reached by a fixture and documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from put_migrate import rules
from put_migrate.rules import RETIRED_CODES, RULES, Rule, Severity, make_finding

ROOT = Path(__file__).resolve().parent.parent
_EXPECT = re.compile(r"# expect: (PM\d{3})")


def _expected_codes() -> set[str]:
    return {code for path in (ROOT / "fixtures").rglob("*.py") for code in _EXPECT.findall(path.read_text())}


# A fixture's `# expect:` declares a call left for a human (tests/test_codemod_fixtures.py), so the codes a fixture
# can name are the MANUAL ones; rewrites (PM1xx), skip comments (PM001) and file errors (PM3xx) have their own tests.
LIVE_MANUAL = sorted(r.code for r in RULES.values() if r.severity is Severity.MANUAL and not r.retired)


@pytest.mark.parametrize("code", LIVE_MANUAL)
def test_every_live_code_has_a_fixture_and_a_doc_entry(code: str) -> None:
    assert code in _expected_codes(), f"no fixture under fixtures/ declares `# expect: {code}`"
    assert f"\n## {code} " in (ROOT / "docs" / "rules.md").read_text(), f"docs/rules.md has no `## {code}` entry"


def test_every_rule_is_a_named_constant() -> None:
    constants = {value.code for value in vars(rules).values() if isinstance(value, Rule)}
    assert constants == set(RULES)
    assert all(RULES[code].code == code for code in RULES)


def test_retired_codes_are_flagged_rules() -> None:
    assert RETIRED_CODES == {"PM221"}
    assert RETIRED_CODES.isdisjoint(LIVE_MANUAL)


def test_a_rule_is_defined_once() -> None:
    with pytest.raises(ValueError, match="PM205"):
        rules._rule("PM205", "again", "no advice")


def test_make_finding_takes_a_rule_or_its_code() -> None:
    by_rule = make_finding("m.py", 3, 4, rules.NOT_A_HOOK, "`_helper`")
    assert by_rule == make_finding("m.py", 3, 4, "PM205", "`_helper`")
    assert by_rule.code == "PM205" and by_rule.severity is Severity.MANUAL
    assert by_rule.message.startswith("log call in a method that is not a Lightning hook: `_helper`. Lightning takes")


def test_problem_is_a_code_and_a_detail() -> None:
    problem = rules.VALUE_REJECTED.problem("a string")
    assert problem == ("PM216", "a string") and problem.code == "PM216" and problem.detail == "a string"
