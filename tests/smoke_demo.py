"""Smoke test of a served Coffer with the demo data (CI runs it after `make run`).

    python tests/smoke_demo.py http://127.0.0.1:8000

Standard library only, so it runs with any Python. Not collected by pytest (no test_ prefix).
Exits 0 when every check passes, 1 with a message naming the failed check otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

DEMO_EMAIL = "demo@coffer.local"
TIMEOUT_SECONDS = 30


class SmokeFailure(Exception):
    pass


def request(base: str, method: str, path: str, *, body: Any = None, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (URL given by the caller)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raise SmokeFailure(f"{method} {path}: cannot reach {base} ({exc})") from None


def expect_json(base: str, method: str, path: str, *, statuses: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
    code, raw = request(base, method, path, **kwargs)
    if code not in statuses:
        expected = " or ".join(map(str, statuses))
        raise SmokeFailure(f"{method} {path}: expected {expected}, got {code}: {raw[:500].decode(errors='replace')}")
    try:
        return json.loads(raw)
    except ValueError:
        raise SmokeFailure(f"{method} {path}: the answer is not JSON: {raw[:200]!r}") from None


def run(base: str) -> list[str]:
    done = []
    code, _ = request(base, "GET", "/healthz")
    if code != 200:
        raise SmokeFailure(f"GET /healthz: expected 200, got {code}")
    done.append("healthz 200")

    code, raw = request(base, "GET", "/api/docs")
    if code != 200:
        raise SmokeFailure(f"GET /api/docs: expected 200, got {code}")
    done.append("API docs 200")

    password = os.environ.get("DEMO_PASSWORD") or "coffer-demo"
    tokens = expect_json(base, "POST", "/api/v1/auth/token", body={"email": DEMO_EMAIL, "password": password},
                         statuses=(200, 201))
    token = tokens.get("access_token") if isinstance(tokens, dict) else None
    if not token:
        raise SmokeFailure(f"POST /api/v1/auth/token: no access_token in the answer: {tokens}")
    done.append(f"signed in as {DEMO_EMAIL}")

    accounts = expect_json(base, "GET", "/api/v1/tenants/acme/accounts", token=token)
    items = accounts.get("items") if isinstance(accounts, dict) else None
    if not isinstance(items, list) or len(items) != 4:
        raise SmokeFailure(f"GET /api/v1/tenants/acme/accounts: expected 4 accounts, got {accounts}")
    currencies = {item.get("currency") for item in items}
    if len(currencies) != 2:
        raise SmokeFailure(f"GET /api/v1/tenants/acme/accounts: expected two currencies, got {sorted(map(str, currencies))}")
    done.append(f"acme has 4 accounts in {', '.join(sorted(currencies))}")

    page = expect_json(base, "GET", "/api/v1/tenants/acme/transactions?limit=100", token=token)
    items = page.get("items") if isinstance(page, dict) else None
    if not isinstance(items, list) or len(items) != 100:
        raise SmokeFailure(f"GET /api/v1/tenants/acme/transactions?limit=100: expected 100 items, got {len(items or [])}")
    if not page.get("next"):
        raise SmokeFailure("GET /api/v1/tenants/acme/transactions?limit=100: expected a next cursor, got none")
    if any(not isinstance(item.get("amount"), str) for item in items):
        raise SmokeFailure("GET /api/v1/tenants/acme/transactions: amounts must be decimal strings")
    done.append("acme transactions: a page of 100 with a next cursor")
    return done


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].startswith(("http://", "https://")):
        print("usage: python tests/smoke_demo.py http://127.0.0.1:8000", file=sys.stderr)
        return 2
    base = argv[1].rstrip("/")
    try:
        done = run(base)
    except SmokeFailure as exc:
        print(f"SMOKE FAILED: {exc}", file=sys.stderr)
        return 1
    for line in done:
        print(f"ok  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
