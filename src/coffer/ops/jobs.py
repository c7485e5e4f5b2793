"""Import jobs observed: duration, outcome, rows per second, and a log context with the tenant.

`@import_job("stage")` wraps `staging.run`, `@import_job("commit")` wraps
`services.import_commit_run`; both take `batch_id=`. A call that finds nothing to do (a
redelivered or repeated job) is not counted. The outcome is read back from the batch, so the
pipeline's code needs no other line for its metrics.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from coffer.ops import context
from coffer.ops import metrics

F = TypeVar("F", bound=Callable[..., Any])


@dataclasses.dataclass(frozen=True)
class _Kind:
    runs_from: frozenset[str]  # batch statuses in which a call of the job does work
    ok: str  # the status the batch reaches when the job succeeded
    rows_field: str


KINDS = {
    "stage": _Kind(frozenset({"queued", "reading", "validating"}), ok="review", rows_field="rows_written"),
    "commit": _Kind(frozenset({"committing"}), ok="committed", rows_field="rows_committed"),
}


def _batch(batch_id: Any, *fields: str) -> dict[str, Any] | None:
    from coffer.imports.models import ImportBatch

    return ImportBatch.objects.filter(pk=batch_id).values("tenant_id", "status", *fields).first()


def import_job(kind: str) -> Callable[[F], F]:
    spec = KINDS[kind]

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, batch_id: Any, **kwargs: Any) -> Any:
            before = _batch(batch_id)
            if before is None or before["status"] not in spec.runs_from:
                return func(*args, batch_id=batch_id, **kwargs)
            outer = context.current()
            job_context = context.RequestContext(
                request_id=outer.request_id if outer is not None else None, tenant=str(before["tenant_id"])
            )
            started = time.perf_counter()
            ok, after = False, None
            try:
                with context.scope(job_context):
                    result = func(*args, batch_id=batch_id, **kwargs)
                after = _batch(batch_id, spec.rows_field)
                ok = after is not None and after["status"] == spec.ok
                return result
            finally:
                seconds = time.perf_counter() - started
                rows = (after[spec.rows_field] or 0) if ok and after is not None else 0
                metrics.observe_import_job(kind=kind, seconds=seconds, rows=rows, ok=ok)

        return wrapper  # type: ignore[return-value]

    return decorate
