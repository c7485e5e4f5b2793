"""Running an LLM review: the background job, the model calls with their retries, cost and cache.

    review_run(review_id=...)   the job behind services.review_start (a Review row, a tenant)
    review_direct(...)          the same question without a tenant (`coffer validate --ai`)

A question is the sheet's profile, its deterministic findings and a stratified sample, masked
(prompt.py, sample.py, masking.py). `ask` makes one model call per attempt; 429, 5xx, timeouts
and lost connections are retried up to TRANSIENT_RETRIES times with exponential backoff
(LLM_RETRY_BASE_SECONDS, or the server's Retry-After, at most MAX_BACKOFF). An answer that is
not JSON, breaks the schema, names rows that were not sent or was cut off at the output limit
is asked again once with the error; a second bad answer fails the review. Tokens of every call
are counted and paid for, failed or not. A validated answer is cached by (file content, sheet,
prompt version, provider, model) and never paid again.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from coffer.quality import rowstore
from coffer.quality.models import Finding, Review, ReviewCache, SheetAnalysis
from coffer.quality.review import prompt, providers, sample, schema

logger = logging.getLogger(__name__)

TRANSIENT_RETRIES = 2
MAX_BACKOFF = 30.0
ANALYSIS_WAIT_SECONDS = 15 * 60
_PLACES = Decimal("0.000001")
_MILLION = Decimal(1_000_000)


class ReviewFailed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclasses.dataclass
class Question:
    system: str
    user: str
    rows: set[int]
    columns: int


@dataclasses.dataclass
class Outcome:
    answer: dict[str, Any] | None = None
    error: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0


# --- money ---------------------------------------------------------------------------------


def _price(name: str) -> Decimal:
    return Decimal(str(getattr(settings, name) or "0"))


def cost(input_tokens: int, output_tokens: int) -> Decimal:
    total = (Decimal(input_tokens) * _price("LLM_PRICE_INPUT_PER_MTOK")
             + Decimal(output_tokens) * _price("LLM_PRICE_OUTPUT_PER_MTOK")) / _MILLION
    return total.quantize(_PLACES, rounding=ROUND_HALF_UP)


def worst_case_cost() -> Decimal:
    """The most one review can cost: two full answers to the largest prompt (2 characters a token, pessimistic)."""
    return cost(2 * prompt.MAX_PROMPT_CHARS // 2, 2 * settings.LLM_MAX_OUTPUT_TOKENS)


# --- the question and the asking -----------------------------------------------------------


def build_question(*, store: rowstore.Store, profile: dict[str, Any], counts: dict[str, dict[str, int]],
                   findings: list[dict[str, Any]], seed: str) -> Question:
    extra = sample.finding_rows((item["row"], item["code"]) for item in findings)
    rows = sample.draw(store, header_row=profile.get("header_row"), data_rows=profile.get("data_rows") or 0,
                       seed=seed, extra_rows=extra)
    body = prompt.payload(profile=profile, findings=findings, counts=counts, rows=rows)
    user = prompt.user_message(body)
    return Question(system=prompt.SYSTEM, user=user, rows=prompt.sent_rows(body),
                    columns=max(1, len(profile.get("columns", []))))


def _backoff(attempt: int, retry_after: float | None) -> float:
    base = float(settings.LLM_RETRY_BASE_SECONDS) * (2 ** attempt)
    return min(MAX_BACKOFF, max(base, retry_after or 0.0))


def _call(provider: providers.Provider, *, system: str, user: str, outcome: Outcome,
          on_call: Callable[[int], None] | None) -> providers.Completion:
    for attempt in range(TRANSIENT_RETRIES + 1):
        outcome.calls += 1
        if on_call is not None:
            on_call(outcome.calls)
        try:
            return provider.complete(system=system, user=user, schema=schema.ANSWER,
                                     max_tokens=settings.LLM_MAX_OUTPUT_TOKENS)
        except providers.Transient as exc:
            if attempt == TRANSIENT_RETRIES:
                raise ReviewFailed(f"{exc.message}; gave up after {attempt + 1} tries") from None
            time.sleep(_backoff(attempt, exc.retry_after))
        except providers.Refused as exc:
            raise ReviewFailed(f"{exc.message}: the request was refused (check LLM_MODEL and LLM_API_KEY)") from None
    raise AssertionError("unreachable")


def ask(provider: providers.Provider, question: Question, *,
        on_call: Callable[[int], None] | None = None) -> Outcome:
    """The validated answer (first try, or the retry with the error), or the reason there is none."""
    outcome = Outcome()
    user = question.user
    for attempt in (1, 2):
        try:
            completion = _call(provider, system=question.system, user=user, outcome=outcome, on_call=on_call)
        except ReviewFailed as exc:
            outcome.error = exc.message
            return outcome
        outcome.input_tokens += completion.input_tokens
        outcome.output_tokens += completion.output_tokens
        try:
            if completion.truncated:
                raise schema.InvalidAnswer(
                    f"The answer was cut off at {settings.LLM_MAX_OUTPUT_TOKENS} tokens before it was complete"
                )
            outcome.answer = schema.parse(completion.text, rows=question.rows, columns=question.columns)
            outcome.error = ""
            return outcome
        except schema.InvalidAnswer as exc:
            outcome.error = exc.message
            if attempt == 1:
                user = prompt.retry_message(question.user, exc.message)
    outcome.error = f"The model's answer was not usable twice: {outcome.error}"
    return outcome


# --- cache ------------------------------------------------------------------------------------


def cache_get(*, sha256: str, sheet: str, provider: str, model: str) -> ReviewCache | None:
    return ReviewCache.objects.filter(sha256=sha256, sheet=sheet, prompt_version=prompt.PROMPT_VERSION,
                                      provider=provider, model=model).first()


def cache_put(*, sha256: str, sheet: str, provider: str, model: str, answer: dict[str, Any],
              outcome: Outcome, paid: Decimal) -> None:
    try:
        with transaction.atomic():
            ReviewCache.objects.get_or_create(
                sha256=sha256, sheet=sheet, prompt_version=prompt.PROMPT_VERSION, provider=provider, model=model,
                defaults={"result": answer, "input_tokens": outcome.input_tokens,
                          "output_tokens": outcome.output_tokens, "cost": paid},
            )
    except IntegrityError:
        pass  # a concurrent review cached the same question first


# --- the job ------------------------------------------------------------------------------------


def _claim(review_id: Any) -> Review | None:
    with transaction.atomic():
        review = Review.objects.select_for_update().filter(pk=review_id).first()
        if review is None or review.status != Review.Status.QUEUED:
            return None
        review.status = Review.Status.RUNNING
        review.started_at = timezone.now()
        review.progress, review.stage = 5, "Starting"
        review.save(update_fields=["status", "started_at", "progress", "stage", "updated_at"])
        return review


def _progress(review: Review, percent: int, stage: str) -> None:
    Review.objects.filter(pk=review.pk).update(progress=percent, stage=stage[:80], updated_at=timezone.now())


def _finish(review: Review, *, status: str, error: str = "", result: dict | None = None, outcome: Outcome | None = None,
            paid: Decimal = Decimal("0"), cached: bool = False) -> None:
    outcome = outcome or Outcome()
    Review.objects.filter(pk=review.pk).update(
        status=status, error=error[:2000], result=result, cached=cached, attempts=outcome.calls,
        input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens, cost=paid, reserved=Decimal("0"),
        progress=100, stage="Done" if status == Review.Status.SUCCEEDED else "Failed",
        finished_at=timezone.now(), updated_at=timezone.now(),
    )


def _analysis_ready(review: Review) -> SheetAnalysis:
    from coffer.quality import analysis as sheet_analysis
    from coffer.quality import services

    deadline = time.monotonic() + ANALYSIS_WAIT_SECONDS
    while True:
        found = SheetAnalysis.objects.filter(sha256=review.sha256, sheet=review.sheet,
                                             version=sheet_analysis.VERSION).first()
        if found is None:
            raise ReviewFailed("The sheet has not been analysed; open its profile first")
        if found.status == SheetAnalysis.Status.READY:
            return found
        if found.status == SheetAnalysis.Status.FAILED:
            raise ReviewFailed(found.error or "The sheet could not be analysed")
        if found.status == SheetAnalysis.Status.QUEUED:
            services.analysis_run(analysis_id=found.pk)  # run it here rather than wait for it
            continue
        if time.monotonic() > deadline:
            raise ReviewFailed("The sheet's analysis did not finish in time")
        time.sleep(1.0)


def findings_for_prompt(analysis: SheetAnalysis) -> list[dict[str, Any]]:
    """Every family's findings, whatever a tenant switched off: the question depends on the file only."""
    return list(
        Finding.objects.filter(analysis=analysis).order_by("id")
        .values("row", "column", "code", "message", "value")[: 20 * prompt.MAX_FINDINGS]
    )


def review_run(*, review_id: Any) -> None:
    """The job: idempotent (a review that is not queued is left alone)."""
    review = _claim(review_id)
    if review is None:
        return
    try:
        config = providers.Config.from_settings()
        problem = config.problem()
        if problem:
            raise ReviewFailed(problem)
        if (config.provider, config.model) != (review.provider, review.model):
            raise ReviewFailed("The LLM configuration changed since this review was started; start it again")
        _progress(review, 10, "Waiting for the sheet's analysis")
        analysis = _analysis_ready(review)
        hit = cache_get(sha256=review.sha256, sheet=review.sheet, provider=review.provider, model=review.model)
        if hit is not None:
            _finish(review, status=Review.Status.SUCCEEDED, result=hit.result, cached=True)
            return
        _progress(review, 20, "Choosing a sample of rows")
        store = rowstore.Store.open(rowstore.directory(settings.MEDIA_ROOT, review.sha256), review.sheet or None)
        if store is None:
            raise ReviewFailed("The sheet's rows are not available; open the sheet again and retry")
        findings = findings_for_prompt(analysis)
        question = build_question(store=store, profile=analysis.profile, counts=analysis.counts, findings=findings,
                                  seed=f"{review.sha256}:{review.sheet}")
        provider = providers.create(config)

        def on_call(calls: int) -> None:
            _progress(review, min(90, 30 + 10 * calls), f"Asking the model (call {calls})")

        outcome = ask(provider, question, on_call=on_call)
        paid = cost(outcome.input_tokens, outcome.output_tokens)
        if outcome.answer is None:
            _finish(review, status=Review.Status.FAILED, error=outcome.error, outcome=outcome, paid=paid)
            return
        cache_put(sha256=review.sha256, sheet=review.sheet, provider=review.provider, model=review.model,
                  answer=outcome.answer, outcome=outcome, paid=paid)
        _finish(review, status=Review.Status.SUCCEEDED, result=outcome.answer, outcome=outcome, paid=paid)
    except ReviewFailed as exc:
        _finish(review, status=Review.Status.FAILED, error=exc.message)
    except Exception:
        logger.exception("review %s failed", review.pk)
        _finish(review, status=Review.Status.FAILED, error="The review stopped on an unexpected error; it has been logged")


# --- without a tenant (the CLI) ----------------------------------------------------------------


def review_direct(*, sha256: str, sheet: str | None, store: rowstore.Store, profile: dict[str, Any],
                  counts: dict[str, dict[str, int]], findings: list[dict[str, Any]]) -> dict[str, Any]:
    """Review with the server's LLM settings and no tenant (no spend cap); cached like any review."""
    config = providers.Config.from_settings()
    problem = config.problem()
    if problem:
        raise ReviewFailed(problem)
    hit = cache_get(sha256=sha256, sheet=sheet or "", provider=config.provider, model=config.model)
    if hit is not None:
        return _direct_out(config, status="succeeded", answer=hit.result, outcome=Outcome(), paid=Decimal("0"),
                           cached=True)
    question = build_question(store=store, profile=profile, counts=counts, findings=findings,
                              seed=f"{sha256}:{sheet or ''}")
    outcome = ask(providers.create(config), question)
    paid = cost(outcome.input_tokens, outcome.output_tokens)
    if outcome.answer is not None:
        cache_put(sha256=sha256, sheet=sheet or "", provider=config.provider, model=config.model,
                  answer=outcome.answer, outcome=outcome, paid=paid)
    return _direct_out(config, status="succeeded" if outcome.answer is not None else "failed",
                       answer=outcome.answer, outcome=outcome, paid=paid, cached=False)


def _direct_out(config: providers.Config, *, status: str, answer: dict | None, outcome: Outcome, paid: Decimal,
                cached: bool) -> dict[str, Any]:
    return {
        "status": status, "provider": config.provider, "model": config.model,
        "prompt_version": prompt.PROMPT_VERSION, "cached": cached, "calls": outcome.calls,
        "input_tokens": outcome.input_tokens, "output_tokens": outcome.output_tokens, "cost": f"{paid:f}",
        "summary": answer["summary"] if answer else None,
        "issues": model_issues(answer) if answer else [],
        "error": outcome.error or None,
    }


def model_issues(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The model's findings as issue records (code AI_<CATEGORY>), labelled as coming from the model."""
    return [
        {"row": item["row"], "column": item["column"], "code": f"AI_{item['category'].upper()}",
         "severity": item["severity"], "message": item["message"], "value": None, "source": "model"}
        for item in answer.get("findings", [])
    ]


def findings_out(review: Review) -> list[dict[str, Any]]:
    return model_issues(review.result or {})
