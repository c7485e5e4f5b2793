"""Category suggestions learned from a tenant's own categorized transactions.

A `Learner` is built from the tenant's most recent HISTORY_LIMIT categorized transactions (one
query) and suggests, for an uncategorized one, the category that transactions like it got:

1. the same counterparty (normalized: case, digits and punctuation gone, noise words such as
   "card" or "pos" dropped), or the same normalized description;
2. else a counterparty close to one seen before (rapidfuzz WRatio >= FUZZY_CUTOFF);
3. else the words of the description and counterparty, each voting for the categories it was
   seen with.

Money in and money out are learned apart (a shop's refund is not its purchase). The confidence
is in [0, 1]: the top category's share of what was seen, shrunk when little was seen
(c / (n + 1)), times the similarity for fuzzy matches, and at most WORDS_CEILING for word votes.
Below MIN_CONFIDENCE there is no suggestion.
"""

from __future__ import annotations

import collections
import dataclasses
import re
import unicodedata
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.db import models
from rapidfuzz import fuzz, process

from coffer.ledger.models import Transaction
from coffer.tenancy.models import Tenant

HISTORY_LIMIT = 5000
FUZZY_CUTOFF = 85.0
FUZZY_CHOICES = 3000  # most frequent counterparties compared by similarity, per sign
WORDS_CEILING = 0.8
MIN_CONFIDENCE = 0.2

_NOISE = frozenset({
    "pos", "card", "visa", "mastercard", "maestro", "debit", "credit", "payment", "purchase", "sepa", "ref",
    "nr", "no", "txn", "trx", "online", "www", "com", "the", "and", "for", "from", "to", "via", "eur", "usd",
    "gbp", "contactless", "terminal", "transaction", "direct", "dd", "so", "bp", "fp",
})
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclasses.dataclass(frozen=True)
class Suggestion:
    category_id: uuid.UUID
    confidence: float
    basis: str  # "counterparty" | "description" | "similar_counterparty" | "words"
    seen: int  # how many categorized transactions back it


def normalize(text: str) -> str:
    """Lower-case words of two letters or more, without digits, punctuation and noise words."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return " ".join(word for word in _WORD.findall(folded) if word not in _NOISE)


def _words(text: str) -> set[str]:
    return {word for word in normalize(text).split() if len(word) >= 3}


def _sign(amount: Decimal) -> str:
    return "+" if amount > 0 else "-"


def _share(counts: collections.Counter) -> tuple[uuid.UUID, float, int]:
    (category_id, top), total = counts.most_common(1)[0], sum(counts.values())
    return category_id, top / (total + 1), total


class Learner:
    def __init__(self, history: Iterable[tuple[str, str, Decimal, uuid.UUID]]):
        self.by_counterparty: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
        self.by_description: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
        self.by_word: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
        for counterparty, description, amount, category_id in history:
            sign = _sign(amount)
            if key := normalize(counterparty):
                self.by_counterparty[sign, key][category_id] += 1
            if key := normalize(description):
                self.by_description[sign, key][category_id] += 1
            for word in _words(f"{counterparty} {description}"):
                self.by_word[sign, word][category_id] += 1
        self._choices: dict[str, list[str]] = {}

    def _fuzzy_choices(self, sign: str) -> list[str]:
        if sign not in self._choices:
            keys = [(sum(counts.values()), key) for (s, key), counts in self.by_counterparty.items() if s == sign]
            keys.sort(reverse=True)
            self._choices[sign] = [key for _, key in keys[:FUZZY_CHOICES]]
        return self._choices[sign]

    def suggest(self, *, counterparty: str, description: str, amount: Decimal) -> Suggestion | None:
        sign = _sign(amount)
        found: list[Suggestion] = []
        counterparty_key, description_key = normalize(counterparty), normalize(description)
        if counterparty_key and (sign, counterparty_key) in self.by_counterparty:
            found.append(self._exact(self.by_counterparty[sign, counterparty_key], "counterparty"))
        if description_key and (sign, description_key) in self.by_description:
            found.append(self._exact(self.by_description[sign, description_key], "description"))
        if not found and counterparty_key:
            match = process.extractOne(
                counterparty_key, self._fuzzy_choices(sign), scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF
            )
            if match is not None:
                category_id, share, seen = _share(self.by_counterparty[sign, match[0]])
                found.append(Suggestion(category_id, share * match[1] / 100, "similar_counterparty", seen))
        if not found:
            words = _words(f"{counterparty} {description}")
            votes: collections.Counter = collections.Counter()
            seen = 0
            for word in words:
                counts = self.by_word.get((sign, word))
                if counts:
                    total = sum(counts.values())
                    seen += total
                    for category_id, count in counts.items():
                        votes[category_id] += count / (total + 1)
            if votes:
                category_id, vote = votes.most_common(1)[0]
                found.append(Suggestion(category_id, WORDS_CEILING * vote / len(words), "words", seen))
        if not found:
            return None
        best = max(found, key=lambda suggestion: suggestion.confidence)
        confidence = round(min(max(best.confidence, 0.0), 1.0), 3)
        return dataclasses.replace(best, confidence=confidence) if confidence >= MIN_CONFIDENCE else None

    @staticmethod
    def _exact(counts: collections.Counter, basis: str) -> Suggestion:
        category_id, share, seen = _share(counts)
        return Suggestion(category_id, share, basis, seen)


def learner_for(tenant: Tenant) -> Learner:
    """Learn from the tenant's most recent categorized transactions whose category is in use (one query)."""
    history = (
        Transaction.objects.filter(tenant=tenant, category__isnull=False, category__archived_at__isnull=True)
        .filter(models.Q(category__parent__isnull=True) | models.Q(category__parent__archived_at__isnull=True))
        .order_by("-booked_on", "-id")
        .values_list("counterparty", "description", "amount", "category_id")[:HISTORY_LIMIT]
    )
    return Learner(history)
