"""The safe regex dialect of rules: what is accepted, what is refused and why, and that both databases agree."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from coffer import errors
from coffer.ledger import rule_regex


def refusal(pattern: str) -> str:
    with pytest.raises(errors.ValidationError) as caught:
        rule_regex.check(pattern, field="conditions.description.value")
    assert caught.value.field_errors == {"conditions.description.value": caught.value.message}
    return caught.value.message


@pytest.mark.parametrize("pattern", [
    r"^amzn mktp", r"uber\s*eats", r"card \d{4}", r"(netflix|spotify|disney\+)", r"^pos \d+ .*tesco",
    r"\bATM\b", r"[a-z]+\d+", r"[^,]*,[^,]*,", r"(amazon|amzn)( mktp)?", r"^(\d{2}\.){2}\d{4}$", r"(ab)+c",
    r"^[a-z ]{1,50}$", r".*foo", r"foo.*", r"(?:x|y)z", r"a\.b\-c\/d", r"[\d\-]+", r"^$",
])
def test_everyday_patterns_are_accepted(pattern):
    assert rule_regex.check(pattern, field="value") == pattern


@pytest.mark.parametrize(("pattern", "words"), [
    (r"(a+)+$", "repeated group contains a quantifier"),
    (r"(a|ab)*c", "repeated group contains an alternation"),
    (r"(x\w*)*y", "repeated group contains a quantifier"),
    (r"\w*\w*\w*x", "catastrophic backtracking"),
    (r"^\d*\d*\d*x", "catastrophic backtracking"),
    (r"a.*b.*c.*d", "catastrophic backtracking"),
    ("(a|a)" * 12 + "x", "catastrophic backtracking"),
    (r"(?=x)y", "no lookarounds"),
    (r"(?<name>x)", "no lookarounds, flags or named groups"),
    (r"(?i)x", "always case-insensitive"),
    (r"(a)\1", "backreferences"),
    (r"\p{L}", "escape \\p is not supported"),
    (r"a{,3}", "{m}, {m,} or {m,n}"),
    (r"a{3,1}", "backwards"),
    (r"a{500}", "up to 100"),
    (r"x**", "cannot follow another"),
    (r"*x", "nothing to repeat"),
    (r"a|", "alternative is empty"),
    (r"()", "group is empty"),
    (r"(ab", "not closed"),
    (r"ab)", "closes no group"),
    (r"[abc", "not closed"),
    (r"[[:alpha:]]", "written '\\['"),
    (r"a}", "written '\\}'"),
    ("x" * 201, "longer than 200"),
    ("a\tb", "control characters"),
    ("", "empty"),
])
def test_unsafe_or_unportable_patterns_are_refused_with_the_reason(pattern, words):
    message = refusal(pattern)
    assert message.startswith("The regular expression is refused: ")
    assert words in message


def test_a_pathological_pattern_names_the_problem_a_person_can_fix():
    message = refusal(r"(\w+\s?)+$")
    assert "exponential time" in message and "(a+)+" in message


def test_postgresql_gets_its_word_boundaries_and_sqlite_dot_all():
    assert rule_regex.for_database(r"\bATM\B", "postgresql") == r"\yATM\Y"
    assert rule_regex.for_database(r"\bATM\b", "sqlite") == r"(?s)\bATM\b"
    assert rule_regex.for_database(r".*tesco", "postgresql") == "tesco"  # a leading .* adds only work


CASES = [
    (r"^netflix", "NETFLIX.COM 1234", True),
    (r"^netflix", "PAYPAL *NETFLIX", False),
    (r"\bATM\b", "atm withdrawal", True),
    (r"\bATM\b", "batman", False),
    (r"card \d{4}", "Card 1234 purchase", True),
    (r"card \d{4}", "card 12x4", False),
    (r"(uber|lyft) ?eats", "UberEats order", True),
    (r"tesco$", "TESCO", True),
    (r"[^,]+, berlin", "Rewe, Berlin", True),
    (r"b.c", "ab\ncd", True),
    (r"straße", "STRASSE", False),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("pattern", "text", "expected"), CASES)
def test_the_database_matches_as_python_does_case_insensitively(pattern, text, expected):
    rule_regex.check(pattern, field="value")
    assert bool(re.search(pattern, text, re.IGNORECASE | re.DOTALL)) is expected
    placeholder = "%s"
    operator = "~*" if connection.vendor == "postgresql" else "REGEXP '(?i)' ||"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {placeholder} {operator} {placeholder}",
                       [text, rule_regex.for_database(pattern, connection.vendor)])
        assert bool(cursor.fetchone()[0]) is expected
