"""Coffer under load: people of the seeded tenants using the web app and the API at once.

Each simulated user takes the next sign-in from LOADTEST_LOGINS (the JSON that `loadtest/run.py seed`
writes: email, tenant slug, personal access token, account ids), signs in through the web form
(CSRF and all), then, with 1-3 s to think between steps:

- browses and filters transactions, in the web app and through the API (and pages on once);
- opens the dashboard, reads an account (page and API), reads a report;
- creates transactions and edits them, through the API with its token and through the web form;
- now and then uploads a five-row CSV statement through the import API, polls it until it is
  ready for review, commits it and polls until it is committed (the Celery worker does the work).

Requests are grouped by route (`name=`), so the statistics are per endpoint, not per URL. Besides
locust's CSVs, the response times from the last sign-in on (the steady state) go to LOADTEST_STEADY,
and the run ends LOADTEST_MEASURE s after that window opened.
Run by `make loadtest` (loadtest/run.py); alone:
    LOADTEST_LOGINS=var/loadtest/logins.json locust -f loadtest/locustfile.py --host http://127.0.0.1:8000
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import re
import time
import uuid

import gevent
from locust import FastHttpUser, between, events, task

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
WORDS = ["Groceries", "Uber", "Hotel", "Invoice", "Software", "Lidl", "Rail", "fees", "Dell", "Studio"]
SIGN_IN = {"web: sign-in form", "web: sign in"}
IMPORT_POLL_SECONDS = 1.0
IMPORT_POLL_LIMIT = 60  # polls before an import counts as stuck
_logins: list[dict] = []
_password = ""
_next_login = itertools.count()
_environment = None


@events.init.add_listener
def _load_logins(environment, **_kwargs) -> None:
    global _password, _environment
    _environment = environment
    path = os.environ.get("LOADTEST_LOGINS", "")
    if not path:
        return  # imported without a run (e.g. `locust --list`)
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    _password = data["password"]
    _logins[:] = data["logins"]


class SteadyState:
    """Response times once every user has signed in, plus LOADTEST_SETTLE s (default 10), per request name,
    written as JSON to LOADTEST_STEADY at the end: the figures the goals are about (a thousand sign-ins at
    once are a storm of password hashing, not the steady load). locust's own CSVs keep the whole run."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.spawned: int | None = None
        self.ready = 0
        self.times: dict[tuple[str, str], list[float]] = {}
        self.failures: dict[tuple[str, str], int] = {}

    def started(self, user_count: int = 0, **_kwargs) -> None:
        self.spawned = user_count
        self._maybe_open()

    def user_ready(self) -> None:
        self.ready += 1
        self._maybe_open()

    def _maybe_open(self) -> None:
        if self.since is None and self.spawned is not None and self.ready >= self.spawned:
            settle = float(os.environ.get("LOADTEST_SETTLE", "10"))
            self.since = time.time() + settle
            measure = os.environ.get("LOADTEST_MEASURE", "")
            if measure and _environment is not None and _environment.runner is not None:
                # The run ends when the window has lasted LOADTEST_MEASURE s, however long the sign-ins took.
                gevent.spawn_later(settle + float(measure), _environment.runner.quit)

    def record(self, request_type, name, response_time, exception=None, **_kwargs) -> None:
        if self.since is None or time.time() < self.since or name in SIGN_IN:
            return
        key = (request_type, name)
        self.times.setdefault(key, []).append(response_time)
        if exception is not None:
            self.failures[key] = self.failures.get(key, 0) + 1

    def summary(self) -> dict:
        seconds = max(0.0, time.time() - self.since) if self.since else 0.0
        everything = [t for times in self.times.values() for t in times]
        rows = [self._row(kind, name, times, self.failures.get((kind, name), 0), seconds)
                for (kind, name), times in sorted(self.times.items(), key=lambda item: -len(item[1]))]
        return {"since": self.since, "seconds": round(seconds, 1), "endpoints": rows,
                "total": self._row("", "Aggregated", everything, sum(self.failures.values()), seconds)}

    @staticmethod
    def _row(kind: str, name: str, times: list[float], failures: int, seconds: float) -> dict:
        ordered = sorted(times)

        def pick(share: float) -> float | None:
            return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1) if ordered else None

        return {"type": kind, "name": name, "requests": len(ordered), "failures": failures,
                "rps": round(len(ordered) / seconds, 2) if seconds else None, "p50_ms": pick(0.50),
                "p95_ms": pick(0.95), "p99_ms": pick(0.99), "max_ms": round(ordered[-1], 1) if ordered else None,
                "avg_ms": round(sum(ordered) / len(ordered), 1) if ordered else None}

    def write(self, **_kwargs) -> None:
        target = os.environ.get("LOADTEST_STEADY", "")
        if target:
            with open(target, "w", encoding="utf-8") as handle:
                json.dump(self.summary(), handle)


steady = SteadyState()
events.spawning_complete.add_listener(steady.started)
events.request.add_listener(steady.record)
events.quitting.add_listener(steady.write)


class CofferUser(FastHttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        if not _logins:
            raise RuntimeError("No sign-ins: set LOADTEST_LOGINS to the file `loadtest/run.py seed` wrote")
        login = _logins[next(_next_login) % len(_logins)]
        self.email, self.slug, self.token = login["email"], login["tenant"], login["token"]
        self.accounts = login["accounts"]
        self.api = f"/api/v1/tenants/{self.slug}"
        self.web = f"/t/{self.slug}"
        self.api_headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        self.mine: list[dict] = []  # transactions this user created (API JSON), to edit later
        self.today = dt.date.today()
        self.signed_in = False
        self._sign_in()
        steady.user_ready()

    # --- helpers -------------------------------------------------------------------

    def _sign_in(self) -> None:
        token = self._csrf("/accounts/login/", name="web: sign-in form")
        with self.client.post("/accounts/login/", data={
            "username": self.email, "password": _password, "csrfmiddlewaretoken": token, "next": f"{self.web}/",
        }, headers={"Referer": self.host + "/accounts/login/"}, allow_redirects=False, name="web: sign in",
                catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"sign-in answered {response.status_code}, not a redirect")
                return
        self.signed_in = True

    def _page(self, path: str, *, name: str, params: dict | None = None) -> None:
        """A web page, signed in (again, after a failed sign-in, as a person would); a redirect is a failure here
        (to the sign-in page: the session was lost)."""
        if not self.signed_in:
            self._sign_in()
            if not self.signed_in:
                return
        with self.client.get(path, params=params, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"page answered {response.status_code}")

    def _csrf(self, path: str, *, name: str) -> str:
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as response:
            found = CSRF.search(response.text or "")
            if response.status_code != 200 or not found:
                response.failure(f"{response.status_code}, no CSRF token in the form")
                return ""
            return found.group(1)

    def _post_form(self, path: str, data: dict, *, name: str, token: str) -> None:
        with self.client.post(path, data={**data, "csrfmiddlewaretoken": token}, allow_redirects=False,
                              headers={"Referer": self.host + path}, name=name, catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"form answered {response.status_code}, not a redirect")

    def _filters(self) -> tuple[dict, str]:
        """A filter a person would use, and a label for the statistics."""
        choice = random.randrange(6)
        if choice == 0:
            return {}, "none"
        if choice == 1:
            return {"q": random.choice(WORDS)}, "text"
        if choice == 2:
            return {"account": random.choice(self.accounts)}, "account"
        if choice == 3:
            start = self.today - dt.timedelta(days=random.randint(30, 900))
            return {"booked_from": start.isoformat(), "booked_to": (start + dt.timedelta(days=30)).isoformat()}, "month"
        if choice == 4:
            return {"amount_max": "-500", "sort": "amount"}, "amount"
        return {"category": "uncategorized"}, "uncategorized"

    def _transaction_in(self) -> dict:
        return {
            "account_id": random.choice(self.accounts),
            "booked_on": (self.today - dt.timedelta(days=random.randint(0, 60))).isoformat(),
            "amount": f"-{random.randint(100, 20000) / 100:.2f}",
            "description": f"Load test purchase {random.choice(WORDS)}",
            "counterparty": random.choice(["Lidl", "Uber", "Staples", "Bistro 21"]),
        }

    # --- reading ---------------------------------------------------------------------

    @task(6)
    def web_transactions(self) -> None:
        params, label = self._filters()
        self._page(f"{self.web}/transactions/", params=params, name=f"web: transactions ({label})")

    @task(6)
    def api_transactions(self) -> None:
        params, label = self._filters()
        with self.client.get(f"{self.api}/transactions", params={**params, "limit": 50}, headers=self.api_headers,
                             name=f"api: transactions ({label})", catch_response=True) as response:
            following = response.json().get("next") if response.status_code == 200 else None
        if following and random.random() < 0.3:
            self.client.get(f"{self.api}/transactions", params={**params, "limit": 50, "cursor": following},
                            headers=self.api_headers, name="api: transactions (next page)")

    @task(4)
    def web_dashboard(self) -> None:
        self._page(f"{self.web}/", name="web: dashboard")

    @task(2)
    def web_account(self) -> None:
        self._page(f"{self.web}/accounts/{random.choice(self.accounts)}/", name="web: account")

    @task(2)
    def api_account(self) -> None:
        self.client.get(f"{self.api}/accounts/{random.choice(self.accounts)}", headers=self.api_headers,
                        name="api: account")

    @task(1)
    def api_cashflow(self) -> None:
        self.client.get(f"{self.api}/reports/cashflow", headers=self.api_headers, name="api: cash flow report")

    # --- writing ---------------------------------------------------------------------

    @task(2)
    def api_create_and_edit(self) -> None:
        with self.client.post(f"{self.api}/transactions", json=self._transaction_in(), headers=self.api_headers,
                              name="api: create transaction", catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"create answered {response.status_code}")
                return
            created = response.json()
        self.mine = [created, *self.mine[:19]]
        self.client.patch(f"{self.api}/transactions/{created['id']}", json={"note": "checked"},
                          headers=self.api_headers, name="api: edit transaction")

    @task(1)
    def web_create(self) -> None:
        if not self.signed_in:
            return
        token = self._csrf(f"{self.web}/transactions/new/", name="web: new transaction form")
        if not token:
            return
        row = self._transaction_in()
        self._post_form(f"{self.web}/transactions/new/", {
            "booked_on": row["booked_on"], "amount": row["amount"], "account": row["account_id"],
            "description": row["description"], "counterparty": row["counterparty"],
        }, name="web: create transaction", token=token)

    @task(1)
    def web_edit(self) -> None:
        if not self.mine or not self.signed_in:
            return
        row = random.choice(self.mine)
        path = f"{self.web}/transactions/{row['id']}/edit/"
        token = self._csrf(path, name="web: edit transaction form")
        if not token:
            return
        self._post_form(path, {
            "booked_on": row["booked_on"], "amount": row["amount"], "account": row["account_id"],
            "description": row["description"], "counterparty": row["counterparty"], "reference": "",
            "note": f"edited {time.time():.0f}", "category": "", "tags": "",
        }, name="web: edit transaction", token=token)

    @task(1)
    def api_import(self) -> None:
        """Upload a small statement, wait for review, commit, wait for the commit: what a script would do."""
        statement = self._statement()
        with self.client.post(f"{self.api}/imports", data={"account_id": self.accounts[0]},
                              files={"file": ("statement.csv", statement, "text/csv")}, headers=self.api_headers,
                              name="api: upload statement", catch_response=True) as response:
            if response.status_code != 202:
                response.failure(f"upload answered {response.status_code}")
                return
            import_id = response.json()["id"]
        if self._poll_import(import_id, until={"review"}) != "review":
            return
        with self.client.post(f"{self.api}/imports/{import_id}/commit", headers=self.api_headers,
                              name="api: commit import", catch_response=True) as response:
            if response.status_code not in (200, 202):
                response.failure(f"commit answered {response.status_code}")
                return
        self._poll_import(import_id, until={"committed"})

    def _statement(self) -> bytes:
        tag = uuid.uuid4().hex[:10]  # a new bank reference every time: no duplicates of earlier uploads
        lines = ["Booking date,Description,Reference,Amount"]
        for n in range(5):
            day = self.today - dt.timedelta(days=n)
            lines.append(f"{day.isoformat()},Card purchase Bookshop {n},{tag}-{n},-{random.randint(100, 9000) / 100:.2f}")
        return ("\n".join(lines) + "\n").encode()

    def _poll_import(self, import_id: str, *, until: set[str]) -> str | None:
        for _ in range(IMPORT_POLL_LIMIT):
            time.sleep(IMPORT_POLL_SECONDS)
            with self.client.get(f"{self.api}/imports/{import_id}", headers=self.api_headers,
                                 name="api: import status", catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"status answered {response.status_code}")
                    return None
                status = response.json()["status"]
            if status in until:
                return status
            if status == "failed":
                events.request.fire(request_type="IMPORT", name="import job failed", response_time=0,
                                    response_length=0, exception=RuntimeError(f"import {import_id} failed"))
                return status
        events.request.fire(request_type="IMPORT", name="import job stuck", response_time=0, response_length=0,
                            exception=RuntimeError(f"import {import_id} not {sorted(until)} after {IMPORT_POLL_LIMIT} polls"))
        return None
