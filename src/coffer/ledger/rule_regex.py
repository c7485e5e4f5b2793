"""Regular expressions in rules: a small, safe dialect that SQLite and PostgreSQL read alike.

Rules run inside the database: PostgreSQL's own regex engine (`~*`), and on SQLite Python's
`re`, which Django registers as REGEXP and which backtracks with no timeout. So a pattern is
checked before it is stored:

- the syntax is a common subset: literals, `.`, `[...]` classes (ranges, `^` negation,
  `\\d \\s \\w` inside), `\\d \\D \\s \\S \\w \\W`, word boundaries `\\b \\B`, anchors `^ $`,
  groups `(...)` and `(?:...)`, alternation `|`, quantifiers `* + ? {m} {m,} {m,n}` (greedy
  or lazy, bounds up to 100). Lookarounds, backreferences, flags, named groups and other
  escapes are refused with a message naming the construct. Punctuation is escaped with `\\`;
  `{`, `}` and `]` must always be escaped when meant literally;
- a repeated group may hold neither a quantifier nor an alternation (`(a+)+`, `(a|ab)*`:
  exponential backtracking);
- the worst-case backtracking of what is left is estimated (`_work`): a quantifier multiplies
  the work after it by how many lengths it may take, unless what follows it cannot start with
  a character it matches (`\\d+ ` or `[^,]*,`: then only one length can lead on). Patterns
  whose estimate, over every start position of a MATCHED_LENGTH-character text, is above
  MAX_STEPS (`.*.*x`, `\\w*\\w*x`, `(a|a)(a|a)...`) are refused; the database matches at most
  MATCHED_LENGTH characters of a field, so the work per transaction stays bounded (a few tens
  of milliseconds for the worst accepted pattern on the worst 500-character text).

Matching is always case-insensitive and `.` matches any character, on both databases; on
PostgreSQL `\\b`/`\\B` are written `\\y`/`\\Y` (see `for_database`).
"""

from __future__ import annotations

import dataclasses
import string

from coffer import errors

MAX_PATTERN_LENGTH = 200
MAX_REPEAT_BOUND = 100
# Text is matched against its first MATCHED_LENGTH characters (the longest field, description, holds 500).
MATCHED_LENGTH = 500
# Worst-case backtracking steps of one search over MATCHED_LENGTH characters (a few milliseconds).
MAX_STEPS = 1_000_000

_SHORTHANDS = "dDsSwW"
_PUNCTUATION = set(string.punctuation) | {" "}


class _Refused(Exception):
    pass


# --- character sets, for "can what follows start with what this quantifier matches?" ----------------


@dataclasses.dataclass(frozen=True)
class _Chars:
    """A set of characters: everything (`any`), or members (chars, ranges, shorthands), maybe negated."""

    any: bool = False
    negated: bool = False
    chars: frozenset[str] = frozenset()
    ranges: tuple[tuple[str, str], ...] = ()
    shorthands: frozenset[str] = frozenset()
    end: bool = False  # the end of the text (`$`, or nothing after the pattern)


_ANY = _Chars(any=True)
_END = _Chars(end=True)

# Pairs of shorthand classes with no character in common.
_DISJOINT_SHORTHANDS = {
    frozenset("dD"), frozenset("sS"), frozenset("wW"), frozenset("ds"), frozenset("dW"), frozenset("sw"),
}


def _folded(char: str) -> set[str]:
    return {char, char.lower(), char.upper()}


def _shorthand_has(shorthand: str, char: str) -> bool | None:
    """Whether `\\<shorthand>` matches `char`; None when unsure (outside ASCII)."""
    if not char.isascii():
        return None
    kind = shorthand.lower()
    if kind == "d":
        inside = char.isdigit()
    elif kind == "s":
        inside = char in string.whitespace
    else:
        inside = char.isalnum() or char == "_"
    return inside if shorthand.islower() else not inside


def _member_chars(chars: _Chars) -> set[str] | None:
    """Every character of a non-negated set without shorthands, when it is small enough to list."""
    if chars.any or chars.negated or chars.shorthands or chars.end:
        return None
    listed = set(chars.chars)
    for low, high in chars.ranges:
        if ord(high) - ord(low) > 512:
            return None
        listed.update(chr(code) for code in range(ord(low), ord(high) + 1))
    return {folded for char in listed for folded in _folded(char)}


def _has(chars: _Chars, char: str) -> bool | None:
    """Whether a (non-negated) set matches `char`, case-insensitively; None when unsure."""
    unsure = False
    for candidate in _folded(char):
        if candidate in chars.chars or any(low <= candidate <= high for low, high in chars.ranges):
            return True
        for shorthand in chars.shorthands:
            inside = _shorthand_has(shorthand, candidate)
            if inside is None:
                unsure = True
            elif inside:
                return True
    return None if unsure else False


def _disjoint(a: _Chars, b: _Chars) -> bool:
    """True only when no character can match both (False when unsure)."""
    if a.end or b.end:
        return not (a.end and b.end)
    if a.any or b.any:
        return False
    if a.negated and b.negated:
        return False
    if b.negated:
        a, b = b, a
    if a.negated:
        # [^X] and B share nothing when every character of B is in X.
        listed = _member_chars(b)
        if listed is None:
            return bool(b.shorthands) and not b.chars and not b.ranges and b.shorthands <= a.shorthands
        plain = dataclasses.replace(a, negated=False)
        return all(_has(plain, char) is True for char in listed)
    for shorthand in a.shorthands:
        for other in b.shorthands:
            if frozenset((shorthand, other)) not in _DISJOINT_SHORTHANDS:
                return False
    for first, second in ((a, b), (b, a)):
        listed = _member_chars(dataclasses.replace(first, shorthands=frozenset()))
        if listed is None:
            return False
        if any(_has(second, char) is not False for char in listed):
            return False
    return True


def _union(sets: list[_Chars]) -> _Chars:
    if not sets:
        return _ANY
    if any(s.any or s.negated or s.end for s in sets):
        return sets[0] if len(sets) == 1 else _ANY
    return _Chars(
        chars=frozenset().union(*(s.chars for s in sets)),
        ranges=tuple(r for s in sets for r in s.ranges),
        shorthands=frozenset().union(*(s.shorthands for s in sets)),
    )


# --- parsing --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Item:
    kind: str  # "chars" | "anchor_start" | "anchor_end" | "boundary" | "group"
    chars: _Chars | None = None
    alternatives: list[list[_Item]] | None = None
    min: int = 1
    max: int | None = 1  # None: unbounded

    @property
    def repeated(self) -> bool:
        return self.max is None or self.max > 1


class _Parser:
    def __init__(self, pattern: str):
        self.text = pattern
        self.at = 0

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.at += 1
        return char

    def refuse(self, message: str) -> None:
        raise _Refused(f"{message} (at character {self.at + 1})")

    def alternatives(self, depth: int = 0) -> list[list[_Item]]:
        if depth > 10:
            self.refuse("groups are nested too deeply")
        branches = [self.sequence(depth)]
        while self.peek() == "|":
            self.take()
            branches.append(self.sequence(depth))
        if len(branches) > 1 and any(not branch for branch in branches):
            self.refuse("an alternative is empty; write (x)? for something optional")
        return branches

    def sequence(self, depth: int) -> list[_Item]:
        items: list[_Item] = []
        while self.peek() not in ("", "|", ")"):
            item = self.atom(depth)
            self.quantifier(item)
            items.append(item)
        return items

    def atom(self, depth: int) -> _Item:
        char = self.take()
        if char == "(":
            if self.peek() == "?":
                if self.text[self.at: self.at + 2] != "?:":
                    self.refuse("only (...) and (?:...) groups are supported: no lookarounds, flags or named groups; "
                                "matching is always case-insensitive")
                self.at += 2
            alternatives = self.alternatives(depth + 1)
            if self.take() != ")":
                self.refuse("a group is not closed with ')'")
            if alternatives == [[]]:
                self.refuse("a group is empty")
            return _Item("group", alternatives=alternatives)
        if char == "[":
            return _Item("chars", chars=self.bracket())
        if char == ".":
            return _Item("chars", chars=_ANY)
        if char == "^":
            return _Item("anchor_start")
        if char == "$":
            return _Item("anchor_end")
        if char == "\\":
            return self.escape()
        if char in "*+?":
            self.at -= 1
            self.refuse(f"'{char}' has nothing to repeat")
        if char in "{}]":
            self.at -= 1
            self.refuse(f"a literal '{char}' is written '\\{char}'")
        return _Item("chars", chars=_Chars(chars=frozenset(char)))

    def escape(self) -> _Item:
        char = self.take()
        if char == "":
            self.refuse("the pattern ends with a lone '\\'")
        if char in _SHORTHANDS:
            return _Item("chars", chars=_Chars(shorthands=frozenset(char)))
        if char in "bB":
            return _Item("boundary")
        if char in _PUNCTUATION:
            return _Item("chars", chars=_Chars(chars=frozenset(char)))
        self.at -= 1
        if char.isdigit():
            self.refuse(f"backreferences such as \\{char} are not supported")
        self.refuse(f"the escape \\{char} is not supported; use \\d \\s \\w \\b or a backslash before punctuation")
        raise AssertionError  # unreachable

    def bracket(self) -> _Chars:
        negated = self.peek() == "^"
        if negated:
            self.take()
        chars: set[str] = set()
        ranges: list[tuple[str, str]] = []
        shorthands: set[str] = set()
        members = 0
        while True:
            char = self.take()
            if char == "":
                self.refuse("a class [...] is not closed with ']'")
            if char == "]":
                break
            if char == "[":
                self.at -= 1
                self.refuse("a literal '[' inside a class is written '\\['")
            if char == "\\":
                escaped = self.take()
                if escaped in "dsw":
                    shorthands.add(escaped)
                    members += 1
                    continue
                if escaped not in _PUNCTUATION:
                    self.at -= 1
                    self.refuse(f"inside a class only \\d \\s \\w and escaped punctuation are supported, not \\{escaped}")
                char = escaped
            elif char == "-" and members and self.peek() not in ("]", ""):
                self.refuse("a range needs a character before '-'")
            if self.peek() == "-" and self.text[self.at + 1: self.at + 2] not in ("]", ""):
                self.take()
                high = self.take()
                if high == "\\":
                    high = self.take()
                    if high not in _PUNCTUATION:
                        self.at -= 1
                        self.refuse("a range ends with a character, not a class")
                if high < char:
                    self.refuse(f"the range {char}-{high} is backwards")
                ranges.append((char, high))
            else:
                chars.add(char)
            members += 1
        if not members:
            self.refuse("a class [...] is empty")
        return _Chars(negated=negated, chars=frozenset(chars), ranges=tuple(ranges), shorthands=frozenset(shorthands))

    def quantifier(self, item: _Item) -> None:
        char = self.peek()
        if char not in ("*", "+", "?", "{"):
            return
        if item.kind != "chars" and item.kind != "group":
            self.refuse("an anchor or word boundary cannot be repeated")
        self.take()
        if char == "*":
            item.min, item.max = 0, None
        elif char == "+":
            item.min, item.max = 1, None
        elif char == "?":
            item.min, item.max = 0, 1
        else:
            close = self.text.find("}", self.at)
            body = self.text[self.at: close] if close != -1 else ""
            low, comma, high = body.partition(",")
            if close == -1 or not low.isdigit() or (high and not high.isdigit()):
                self.refuse("a repetition is written {m}, {m,} or {m,n}; a literal '{' is written '\\{'")
            self.at = close + 1
            item.min = int(low)
            item.max = (int(high) if high else None) if comma else item.min
            if item.min > MAX_REPEAT_BOUND or (item.max is not None and item.max > MAX_REPEAT_BOUND):
                self.refuse(f"repetition counts go up to {MAX_REPEAT_BOUND}")
            if item.max is not None and item.max < item.min:
                self.refuse(f"the repetition {{{body}}} is backwards")
            if item.max == 0:
                self.refuse("a repetition of zero times matches nothing")
        if self.peek() == "?":
            self.take()  # lazy: another order of trying, the same worst case
        if self.peek() in ("*", "+", "?", "{"):
            self.refuse("a quantifier cannot follow another (no possessive or stacked quantifiers)")


# --- the work estimate ----------------------------------------------------------------------------------


def _first(items: list[_Item], follow: _Chars) -> _Chars:
    """What the first character matched by `items` (then `follow`) can be."""
    if not items:
        return follow
    item = items[0]
    if item.kind == "anchor_end":
        return _END
    if item.kind in ("anchor_start", "boundary"):
        return _first(items[1:], follow)  # zero-width: the next character is the next item's
    if item.kind == "chars":
        head = item.chars
    else:
        head = _union([_first(branch, _ANY) for branch in item.alternatives])
    if item.min == 0:
        return _union([head, _first(items[1:], follow)])
    return head


def _width(items: list[_Item]) -> int:
    """Characters a plain sequence (no quantifiers but fixed counts, no alternation) consumes."""
    total = 0
    for item in items:
        if item.kind == "chars":
            total += item.min
        elif item.kind == "group":
            total += item.min * _width(item.alternatives[0])
    return total


def _repeatable(group: _Item) -> None:
    """A repeated group holds one plain sequence of a fixed, non-zero width."""
    if len(group.alternatives) > 1:
        raise _Refused("a repeated group contains an alternation, which can take exponential time (like (a|ab)*); "
                       "repeat single characters or classes, or plain groups such as (ab)+")
    for inner in group.alternatives[0]:
        if inner.min != inner.max:
            raise _Refused("a repeated group contains a quantifier, which can take exponential time (like (a+)+); "
                           "repeat single characters or classes, or plain groups such as (ab)+")
        if inner.kind == "group":
            _repeatable(inner)
    if _width(group.alternatives[0]) == 0:
        raise _Refused("a repeated group must match at least one character")


def _work(items: list[_Item], follow: _Chars, after: int) -> int:
    """Worst-case steps to match `items` from one position, backtracking through every way they can match,
    when what follows them starts with `follow` and costs `after` steps.

    A quantifier that may take r lengths multiplies the work after it by r, unless what follows cannot start
    with a character it matches (then every length but the longest fails at once: r more steps, no more).
    Alternatives add up, unless they start with different characters (then only one goes further).
    """
    if not items:
        return after
    item, rest = items[0], items[1:]
    rest_first = _first(rest, follow)
    rest_work = _work(rest, follow, after)
    if rest_work > MAX_STEPS:
        return rest_work
    if item.kind in ("anchor_start", "anchor_end", "boundary"):
        return 1 + rest_work
    if item.kind == "group" and not item.repeated:
        branch_first = [_first(branch, rest_first) for branch in item.alternatives]
        branch_work = [_work(branch, rest_first, rest_work) for branch in item.alternatives]
        disjoint = all(
            _disjoint(branch_first[i], branch_first[j])
            for i in range(len(branch_first)) for j in range(i + 1, len(branch_first))
        )
        work = max(branch_work) + len(branch_work) if disjoint else sum(branch_work)
        if item.min == 0:  # (...)? : the group, or straight on
            head = _union(branch_first)
            work = max(work, rest_work) + 1 if _disjoint(head, rest_first) else work + rest_work
        return work
    if item.kind == "group":
        _repeatable(item)
        head, width = _first(item.alternatives[0], _ANY), _width(item.alternatives[0])
    else:
        head, width = item.chars, 1
    longest = MATCHED_LENGTH // width
    most = min(item.max if item.max is not None else longest, longest)
    lengths = max(most - item.min + 1, 1)
    steps = most * width
    if item.min == item.max or _disjoint(head, rest_first):
        return steps + rest_work
    return steps + lengths * rest_work


def _search_form(pattern: str) -> str:
    """`.*x` finds what `x` finds (a search tries every position): a leading .* only adds work, so it goes."""
    for prefix in (".*?", ".*"):
        rest = pattern[len(prefix):]
        if pattern.startswith(prefix) and rest and rest[0] not in "*+?{|":
            try:
                if len(_Parser(rest).alternatives()) == 1:
                    return rest
            except _Refused:
                return pattern
    return pattern


# --- public ---------------------------------------------------------------------------------------------


def check(pattern: str, *, field: str) -> str:
    """The pattern when it is in the safe dialect; a ValidationError on `field` naming what is wrong otherwise."""

    def refused(reason: str) -> errors.ValidationError:
        message = f"The regular expression is refused: {reason}"
        return errors.ValidationError(message, field_errors={field: message})

    if not isinstance(pattern, str) or not pattern:
        raise refused("it is empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise refused(f"it is longer than {MAX_PATTERN_LENGTH} characters")
    if any(not char.isprintable() for char in pattern):
        raise refused("it contains control characters")
    parser = _Parser(pattern)
    try:
        alternatives = parser.alternatives()
        if parser.peek() == ")":
            parser.refuse("')' closes no group; a literal ')' is written '\\)'")
        searched = _search_form(pattern)
        if searched != pattern:
            alternatives = _Parser(searched).alternatives()
        anchored = all(branch and branch[0].kind == "anchor_start" for branch in alternatives)
        starts = 1 if anchored else MATCHED_LENGTH  # a search tries every position
        if starts * _work([_Item("group", alternatives=alternatives)], _END, 1) > MAX_STEPS:
            raise _Refused(
                "it could take too long on a long description (catastrophic backtracking): its parts can match "
                "the same text in too many ways, like .*.*x where quantifiers such as .* or \\w+ follow each other "
                "over the same characters; use fewer of them, or put something they cannot match between them"
            )
    except _Refused as exc:
        raise refused(str(exc)) from None
    return pattern


def for_database(pattern: str, vendor: str) -> str:
    """A checked pattern written for the database's case-insensitive regex operator."""
    pattern = _search_form(pattern)
    if vendor == "postgresql":
        out, index = [], 0
        while index < len(pattern):
            char = pattern[index]
            if char == "\\" and index + 1 < len(pattern):
                pair = pattern[index: index + 2]
                out.append({"\\b": "\\y", "\\B": "\\Y"}.get(pair, pair))
                index += 2
                continue
            out.append(char)
            index += 1
        return "".join(out)  # in a class [...] the dialect has no \b, so every \b is a word boundary
    return "(?s)" + pattern
