"""`make loadtest`: seed a production-like PostgreSQL database, serve Coffer in production mode with
its Celery worker on 127.0.0.1, run locust headless against it and write a report.

    .venv/bin/python loadtest/run.py                 # the whole run (settings below, from the environment)
    .venv/bin/python loadtest/run.py seed ...        # the seeding step alone (run.py calls it)

| variable | default | |
| --- | --- | --- |
| LOADTEST_TENANTS | 50 | organizations |
| LOADTEST_TRANSACTIONS | 1000000 | ledger rows, spread over the tenants |
| LOADTEST_USERS | 1000 | concurrent simulated people (each a seeded person of one tenant) |
| LOADTEST_SPAWN_RATE | 10 | people starting per second |
| LOADTEST_DURATION | 300 | seconds of measured load (the steady state), once everyone has signed in and settled |
| LOADTEST_SETTLE | 10 | seconds after the last sign-in before the measured window opens |
| LOADTEST_WEB_WORKERS | 2 | uvicorn worker processes (`coffer serve --workers`) |
| LOADTEST_CELERY_CONCURRENCY | 1 | Celery worker processes |
| LOADTEST_PORT | 8765 | port on 127.0.0.1 |
| LOADTEST_DATABASE_URL | postgres://postgres@127.0.0.1:5432/coffer_loadtest | dropped and re-created (name must contain "loadtest") |
| LOADTEST_REDIS_URL | redis://127.0.0.1:6379/8 | a Redis database for the run alone: emptied at start |
| LOADTEST_REUSE | 0 | 1: keep the database seeded by an earlier run with the same sizes |
| LOADTEST_OUT | var/loadtest/<UTC time> | where the report goes (var/loadtest/latest points at the last one) |

Everything started here is stopped at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import platform
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PASSWORD = "loadtest-Password-2026"  # every seeded person's; the database is thrown away
SIGN_IN_ALLOWANCE = 600  # seconds the sign-ins may lag behind the ramp before the run is cut
GOALS = {"p95_ms": 50, "p99_ms": 150, "errors": 0, "web_worker_rss_mb": 200}


def setting(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def config() -> dict:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return {
        "tenants": int(setting("LOADTEST_TENANTS", "50")),
        "transactions": int(setting("LOADTEST_TRANSACTIONS", "1000000")),
        "users": int(setting("LOADTEST_USERS", "1000")),
        "spawn_rate": float(setting("LOADTEST_SPAWN_RATE", "10")),
        "duration": int(setting("LOADTEST_DURATION", "300")),
        "settle": int(setting("LOADTEST_SETTLE", "10")),
        "web_workers": int(setting("LOADTEST_WEB_WORKERS", "2")),
        "celery_concurrency": int(setting("LOADTEST_CELERY_CONCURRENCY", "1")),
        "port": int(setting("LOADTEST_PORT", "8765")),
        "database_url": setting("LOADTEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coffer_loadtest"),
        "redis_url": setting("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/8"),
        "reuse": setting("LOADTEST_REUSE", "0") == "1",
        "out": Path(setting("LOADTEST_OUT", str(ROOT / "var" / "loadtest" / stamp))),
    }


def log(message: str) -> None:
    print(f"[loadtest {dt.datetime.now():%H:%M:%S}] {message}", flush=True)


# --- processes -----------------------------------------------------------------------


class Processes:
    """Children started in their own process groups; `stop_all` ends each group (TERM, then KILL)."""

    def __init__(self) -> None:
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], *, env: dict, log_path: Path) -> subprocess.Popen:
        handle = log_path.open("ab")
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        handle.close()
        self.started.append((name, process))
        return process

    def stop_all(self) -> None:
        for name, process in reversed(self.started):
            if process.poll() is not None:
                continue
            log(f"stopping {name} (pid {process.pid})")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def children(pid: int) -> list[int]:
    found = []
    for path in Path("/proc").glob(f"{pid}/task/*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in path.read_text().split()]
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class MemorySampler(threading.Thread):
    """Every `interval` s: the RSS of the web server's workers (its children) and of the Celery processes."""

    def __init__(self, *, web_pid: int, celery_pid: int, interval: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.web_pid, self.celery_pid, self.interval = web_pid, celery_pid, interval
        self.samples: list[dict] = []  # {"t", "pid", "role", "rss_mb"}
        self.halt = threading.Event()

    def roles(self) -> dict[int, str]:
        roles = {self.web_pid: "web supervisor"}
        for pid in children(self.web_pid):
            # uvicorn's workers are multiprocessing children; so is multiprocessing's own resource tracker
            roles[pid] = "multiprocessing helper" if "resource_tracker" in cmdline(pid) else "web worker"
        roles[self.celery_pid] = "celery main"
        for pid in children(self.celery_pid):
            roles[pid] = "celery child"
        return roles

    def run(self) -> None:
        while not self.halt.is_set():
            moment = round(time.time(), 1)  # wall clock, to line up with locust's history
            for pid, role in self.roles().items():
                value = rss_mb(pid)
                if value is not None:
                    self.samples.append({"t": moment, "pid": pid, "role": role, "rss_mb": round(value, 1)})
            self.halt.wait(self.interval)

    def summary(self, *, steady_since: float | None = None) -> list[dict]:
        """Per process; `steady_max_mb` is the peak from `steady_since` (unix time) on, after the sign-ins."""
        by_pid: dict[int, list[dict]] = {}
        for sample in self.samples:
            by_pid.setdefault(sample["pid"], []).append(sample)
        return [{
            "pid": pid, "role": rows[0]["role"], "samples": len(rows),
            "first_mb": rows[0]["rss_mb"], "last_mb": rows[-1]["rss_mb"], "max_mb": max(r["rss_mb"] for r in rows),
            "mean_mb": round(sum(r["rss_mb"] for r in rows) / len(rows), 1),
            "steady_max_mb": max((r["rss_mb"] for r in rows if steady_since and r["t"] >= steady_since), default=None),
        } for pid, rows in sorted(by_pid.items(), key=lambda item: (item[1][0]["role"], item[0]))]


# --- steps ---------------------------------------------------------------------------


def coffer_env(cfg: dict, *, metrics_token: str) -> dict:
    """Production settings, on loopback: no TLS proxy in front, so cookies are not HTTPS-only."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("COFFER_", "DJANGO_"))}
    rate = "1000000/minute"  # every simulated person comes from 127.0.0.1
    env.update({
        "COFFER_ENV": "production", "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_COOKIES": "0",
        "DATABASE_URL": cfg["database_url"], "REDIS_URL": cfg["redis_url"], "CELERY_BROKER_URL": cfg["redis_url"],
        "COFFER_VAR_DIR": str(cfg["out"] / "var"), "METRICS_TOKEN": metrics_token,
        "RATE_LIMIT_ANON": rate, "RATE_LIMIT_API": rate, "PROMETHEUS_MULTIPROC_DIR": str(cfg["out"] / "var" / "prometheus"),
        "DJANGO_SETTINGS_MODULE": "coffer.settings",
    })
    for knob in ("DB_POOL_MAX_SIZE", "LOG_LEVEL", "SLOW_SQL_MS"):  # passed through when set for the run
        if os.environ.get(f"LOADTEST_{knob}"):
            env[knob] = os.environ[f"LOADTEST_{knob}"]
    return env


def database_name(url: str) -> str:
    name = urllib.parse.urlparse(url).path.lstrip("/")
    if "loadtest" not in name:
        raise SystemExit(f"LOADTEST_DATABASE_URL names the database {name!r}: it is dropped, so its name must "
                         "contain 'loadtest'")
    return name


def recreate_database(url: str) -> None:
    import psycopg

    name = database_name(url)
    admin = urllib.parse.urlparse(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def run_checked(argv: list[str], *, env: dict, log_path: Path) -> str:
    result = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
    with log_path.open("a") as handle:
        handle.write(f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        raise SystemExit(f"{argv[1:3]} failed (exit {result.returncode}); see {log_path}")
    return result.stdout


def seed_database(cfg: dict, env: dict, *, logins: Path, log_path: Path) -> dict:
    """Migrate and seed, or reuse a database seeded earlier with the same sizes."""
    marker = cfg["out"].parent / "seeded.json"
    sizes = {k: cfg[k] for k in ("tenants", "transactions", "users", "database_url")}
    if cfg["reuse"] and marker.exists():
        previous = json.loads(marker.read_text())
        if previous.get("sizes") == sizes and _still_seeded(cfg, Path(previous.get("logins", ""))):
            log(f"reusing the database seeded at {previous['at']}")
            logins.write_text(Path(previous["logins"]).read_text())
            run_checked([str(BIN / "coffer"), "migrate", "--noinput"], env=env, log_path=log_path)
            return {**previous["result"], "reused": True}
    recreate_database(cfg["database_url"])
    started = time.perf_counter()
    run_checked([str(BIN / "coffer"), "migrate", "--noinput"], env=env, log_path=log_path)
    migrate_seconds = time.perf_counter() - started
    log(f"migrated in {migrate_seconds:.0f} s; seeding {cfg['tenants']} tenants, {cfg['transactions']:,} transactions, "
        f"{cfg['users']} people")
    output = run_checked([sys.executable, str(Path(__file__)), "seed", "--tenants", str(cfg["tenants"]),
                          "--transactions", str(cfg["transactions"]), "--users", str(cfg["users"]),
                          "--logins", str(logins)], env=env, log_path=log_path)
    result = {**json.loads(output.strip().splitlines()[-1]), "migrate_seconds": round(migrate_seconds, 1)}
    keep = cfg["out"].parent / "seeded-logins.json"
    keep.write_text(logins.read_text())
    marker.write_text(json.dumps({"sizes": sizes, "logins": str(keep), "result": result,
                                  "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}))
    return {**result, "reused": False}


def _still_seeded(cfg: dict, logins: Path) -> bool:
    """The database still holds what the marker says (another run with other sizes may have replaced it)."""
    import hashlib

    import psycopg

    if not logins.exists():
        return False
    first = json.loads(logins.read_text())["logins"][0]
    try:
        with psycopg.connect(cfg["database_url"]) as conn:
            tenants = conn.execute("SELECT count(*) FROM tenancy_tenant WHERE slug LIKE 'lt-%'").fetchone()[0]
            token = conn.execute("SELECT count(*) FROM api_apitoken WHERE token_hash = %s",
                                 [hashlib.sha256(first["token"].encode()).hexdigest()]).fetchone()[0]
    except psycopg.Error:
        return False
    return tenants == cfg["tenants"] and token == 1


def wait_ready(base: str, process: subprocess.Popen, *, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server stopped (exit {process.returncode}) before it was ready")
        with contextlib.suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(base + "/readyz", timeout=5) as response:
                if response.status == 200:
                    return
        time.sleep(1)
    raise SystemExit(f"{base}/readyz did not answer 200 within {timeout:.0f} s")


def wait_worker(process: subprocess.Popen, *, timeout: float = 60) -> None:
    """Until the Celery worker has forked its pool (it takes jobs from then on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the Celery worker stopped (exit {process.returncode}) before it was ready")
        if children(process.pid):
            return
        time.sleep(0.5)
    raise SystemExit(f"the Celery worker did not start its pool within {timeout:.0f} s")


def scrape(base: str, token: str) -> dict[str, float]:
    """The per-tenant cache's reads by result, summed over selectors, from /metrics."""
    request = urllib.request.Request(base + "/metrics", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    results: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("coffer_tenant_cache_requests_total{"):
            labels, value = line.rsplit(" ", 1)
            result = labels.split('result="', 1)[1].split('"', 1)[0]
            results[result] = results.get(result, 0.0) + float(value)
    return results


def machine() -> dict:
    info = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    with contextlib.suppress(OSError):
        model = [l for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")]
        info["cpu_model"] = model[0].split(":", 1)[1].strip() if model else ""
        total = [l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")]
        info["memory_gib"] = round(int(total[0].split()[1]) / 1024 / 1024, 1)
    return info


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- report --------------------------------------------------------------------------


def read_stats(prefix: Path) -> tuple[list[dict], dict]:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    shaped = [{
        "type": row["Type"], "name": row["Name"], "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]), "rps": round(float(row["Requests/s"]), 2),
        "p50_ms": _ms(row["50%"]), "p95_ms": _ms(row["95%"]), "p99_ms": _ms(row["99%"]),
        "max_ms": _ms(row["Max Response Time"]), "avg_ms": round(float(row["Average Response Time"]), 1),
    } for row in rows]
    total = next(row for row in shaped if row["name"] == "Aggregated")
    return [row for row in shaped if row["name"] != "Aggregated"], total


def _ms(value: str) -> float | None:
    return None if value in ("", "N/A") else round(float(value), 1)


def read_failures(prefix: Path) -> list[dict]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [{"method": r["Method"], "name": r["Name"], "error": r["Error"], "occurrences": int(r["Occurrences"])}
                for r in csv.DictReader(handle)]


def server_side(log_path: Path, *, since: float | None) -> list[dict]:
    """From the server's access log (one JSON line per request): time inside the process and SQL per route, from
    `since` (unix time) on. Beside locust's figures it tells queueing and the machine apart from the code."""
    by_route: dict[tuple[str, str], list[dict]] = {}
    with log_path.open(errors="replace") as handle:
        for line in handle:
            if '"coffer.access"' not in line:
                continue
            with contextlib.suppress(ValueError, KeyError):
                entry = json.loads(line)
                if since and dt.datetime.fromisoformat(entry["time"]).timestamp() < since:
                    continue
                by_route.setdefault((entry["method"], entry["route"]), []).append(entry)
    rows = []
    for (method, route), entries in by_route.items():
        durations = sorted(e["duration_ms"] for e in entries)
        rows.append({
            "method": method, "route": route, "requests": len(entries),
            "p50_ms": durations[len(durations) // 2], "p95_ms": durations[min(len(durations) - 1, int(0.95 * len(durations)))],
            "sql_statements": round(sum(e["sql_statements"] for e in entries) / len(entries), 1),
            "sql_ms": round(sum(e["sql_ms"] for e in entries) / len(entries), 1),
        })
    return sorted(rows, key=lambda r: -r["requests"])


def chart(prefix: Path, memory: list[dict], target: Path, *, steady_since: float | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(f"{prefix}_stats_history.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Name"] == "Aggregated"]
    if not rows:
        return
    start = int(rows[0]["Timestamp"])
    t = [int(r["Timestamp"]) - start for r in rows]
    series = lambda key: [float(r[key]) if r[key] not in ("", "N/A") else float("nan") for r in rows]  # noqa: E731
    figure, (latency, load, rss) = plt.subplots(3, 1, figsize=(11, 10), sharex=False,
                                                gridspec_kw={"height_ratios": [3, 2, 2]})
    for key, colour in (("50%", "tab:green"), ("95%", "tab:orange"), ("99%", "tab:red")):
        latency.plot(t, series(key), label=f"p{key.rstrip('%')}", color=colour)
    latency.axhline(GOALS["p95_ms"], color="tab:orange", linestyle=":", label="goal p95")
    latency.axhline(GOALS["p99_ms"], color="tab:red", linestyle=":", label="goal p99")
    if steady_since:
        for axis in (latency, load):
            axis.axvspan(steady_since - start, t[-1], color="tab:green", alpha=0.07)
        latency.text(steady_since - start, latency.get_ylim()[0], " measured window", color="tab:green", va="bottom")
    latency.set_yscale("log")
    latency.set_ylabel("latency, ms (log)")
    latency.set_title("Coffer load test: all requests, latency over time (locust, 10 s rolling window)")
    latency.legend(loc="upper left")
    latency.grid(alpha=0.3)
    load.plot(t, series("Requests/s"), label="requests/s", color="tab:blue")
    load.plot(t, series("Failures/s"), label="failures/s", color="tab:red")
    load.set_ylabel("per second")
    users = load.twinx()
    users.plot(t, series("User Count"), label="users", color="tab:gray", linestyle="--")
    users.set_ylabel("users")
    load.legend(loc="upper left")
    users.legend(loc="upper right")
    load.grid(alpha=0.3)
    by_pid: dict[int, list[dict]] = {}
    for sample in memory:
        by_pid.setdefault(sample["pid"], []).append(sample)
    for pid, samples in by_pid.items():
        rss.plot([s["t"] - start for s in samples], [s["rss_mb"] for s in samples],
                 label=f"{samples[0]['role']} {pid}")
    rss.axhline(GOALS["web_worker_rss_mb"], color="tab:red", linestyle=":", label="goal per web worker")
    rss.set_ylabel("RSS, MB")
    rss.set_xlabel("seconds since locust started")
    rss.legend(loc="upper left", fontsize="small")
    rss.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)


def verdicts(total: dict, failures: int, memory: list[dict]) -> dict:
    web = [row["max_mb"] for row in memory if row["role"] == "web worker"]
    peak = max(web) if web else None
    return {
        "p95": {"goal_ms": GOALS["p95_ms"], "measured_ms": total["p95_ms"],
                "met": total["p95_ms"] is not None and total["p95_ms"] <= GOALS["p95_ms"]},
        "p99": {"goal_ms": GOALS["p99_ms"], "measured_ms": total["p99_ms"],
                "met": total["p99_ms"] is not None and total["p99_ms"] <= GOALS["p99_ms"]},
        "errors": {"goal": 0, "measured": failures, "met": failures == 0},
        "web_worker_rss": {"goal_mb": GOALS["web_worker_rss_mb"], "measured_max_mb": peak,
                           "met": peak is not None and peak < GOALS["web_worker_rss_mb"]},
    }


def markdown(report: dict) -> str:
    cfg, total, steady = report["config"], report["total"], report.get("steady")
    v = report["verdicts"]
    lines = [
        f"# Coffer load test, {report['started']}",
        "",
        f"{cfg['users']} users (spawn {cfg['spawn_rate']}/s), {cfg['duration']} s of measured load once all had signed in, "
        f"{cfg['tenants']} tenants, {report['seed'].get('transactions', 0):,} seeded transactions; "
        f"{cfg['web_workers']} web workers, {cfg['celery_concurrency']} Celery process(es); PostgreSQL, Redis and "
        "locust on the same machine.",
        "",
        f"Machine: {report['machine'].get('cpus')} CPUs ({report['machine'].get('cpu_model', '?')}), "
        f"{report['machine'].get('memory_gib')} GiB; load average (1, 5, 15 min) before {report['load_before']}, "
        f"after {report['load_after']}.",
        "",
        "## Goals",
        "",
        "Latency is judged on the steady state (from the last sign-in on: the sign-in storm and ramp-up left out); "
        "errors on the whole run.",
        "",
        "| goal | measured | met |",
        "| --- | --- | --- |",
        f"| p95 <= {v['p95']['goal_ms']} ms | {v['p95']['measured_ms']} ms | {'yes' if v['p95']['met'] else 'NO'} |",
        f"| p99 <= {v['p99']['goal_ms']} ms | {v['p99']['measured_ms']} ms | {'yes' if v['p99']['met'] else 'NO'} |",
        f"| no errors | {v['errors']['measured']} failed requests | {'yes' if v['errors']['met'] else 'NO'} |",
        f"| < {v['web_worker_rss']['goal_mb']} MB per web worker | max {v['web_worker_rss']['measured_max_mb']} MB "
        f"| {'yes' if v['web_worker_rss']['met'] else 'NO'} |",
        "",
        f"Cache (per-tenant selector cache, from /metrics, over the run): {report['cache']}",
        "",
    ]
    if steady:
        s_total = steady["total"]
        lines += [
            f"## Steady state ({steady['seconds']} s measured, from {cfg['settle']} s after the last sign-in)", "",
            f"{s_total['requests']:,} requests, {s_total['rps']} requests/s, {s_total['failures']} failures; "
            f"p50 {s_total['p50_ms']} ms, p95 {s_total['p95_ms']} ms, p99 {s_total['p99_ms']} ms, "
            f"max {s_total['max_ms']} ms.", "",
            *_endpoint_table(steady["endpoints"]), "",
        ]
    lines += [
        "## Whole run (sign-ins and ramp-up included)", "",
        f"{total['requests']:,} requests, {total['rps']} requests/s, {total['failures']} failures; "
        f"p50 {total['p50_ms']} ms, p95 {total['p95_ms']} ms, p99 {total['p99_ms']} ms, max {total['max_ms']} ms.", "",
        *_endpoint_table(report["endpoints"]),
        "", "## Inside the server (access log, steady state)", "",
        "Time inside the web process from the request's arrival at the outermost middleware to its response "
        "(waits for a thread, the GIL and a core included), and SQL per request (means). The gap to locust's "
        "figures is time outside the process: the socket backlog and locust itself.", "",
        "| route | requests | p50 ms | p95 ms | SQL statements | SQL ms |", "| --- | ---: | ---: | ---: | ---: | ---: |",
        *[f"| {r['method']} {r['route']} | {r['requests']} | {r['p50_ms']} | {r['p95_ms']} | {r['sql_statements']} | "
          f"{r['sql_ms']} |" for r in report.get("server", [])],
        "", "## Memory (RSS, sampled every 2 s)", "",
        "| process | pid | first MB | mean MB | max MB | max in steady state MB | last MB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["memory"]:
        lines.append(f"| {row['role']} | {row['pid']} | {row['first_mb']} | {row['mean_mb']} | {row['max_mb']} | "
                     f"{row['steady_max_mb']} | {row['last_mb']} |")
    if report["failures"]:
        lines += ["", "## Failures", "", "| request | error | count |", "| --- | --- | ---: |"]
        lines += [f"| {f['method']} {f['name']} | {f['error'][:160]} | {f['occurrences']} |" for f in report["failures"]]
    if report["locust_warnings"]:
        lines += ["", "## Load generator warnings", ""] + [f"- {w}" for w in report["locust_warnings"]]
    lines += ["", "![latency over time](latency.png)", ""]
    return "\n".join(lines)


def _endpoint_table(rows: list[dict]) -> list[str]:
    lines = ["| endpoint | requests | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in sorted(rows, key=lambda r: -r["requests"]):
        lines.append(f"| {row['type']} {row['name']} | {row['requests']} | {row['failures']} | {row['rps']} | "
                     f"{row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | {row['max_ms']} |")
    return lines


# --- the run -------------------------------------------------------------------------


def main() -> int:
    cfg = config()
    out = cfg["out"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "var").mkdir(exist_ok=True)
    metrics_token = secrets.token_urlsafe(24)
    env = coffer_env(cfg, metrics_token=metrics_token)
    base = f"http://127.0.0.1:{cfg['port']}"
    logins = out / "logins.json"
    processes = Processes()
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report: dict = {"started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
                    "load_before": load_average(),
                    "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in cfg.items()}}
    try:
        log(f"report in {out}")
        flush_redis(cfg["redis_url"])
        report["seed"] = seed_database(cfg, env, logins=logins, log_path=out / "setup.log")
        log(f"seed: {report['seed']}")
        run_checked([str(BIN / "coffer"), "collectstatic", "--noinput"], env=env, log_path=out / "setup.log")

        # The server first: `coffer serve` empties the metrics directory that the worker shares with it.
        web = processes.start("web server", [
            str(BIN / "coffer"), "serve", "--host", "127.0.0.1", "--port", str(cfg["port"]),
            "--workers", str(cfg["web_workers"]),
        ], env=env, log_path=out / "server.log")
        wait_ready(base, web)
        celery = processes.start("celery worker", [
            str(BIN / "celery"), "-A", "coffer.celery", "worker", "--loglevel", "WARNING",
            "--concurrency", str(cfg["celery_concurrency"]), "--without-mingle",
            "--without-gossip",
        ], env=env, log_path=out / "celery.log")
        wait_worker(celery)
        log(f"serving on {base}")
        cache_before = scrape(base, metrics_token)
        sampler = MemorySampler(web_pid=web.pid, celery_pid=celery.pid)
        sampler.start()

        locust_env = {**os.environ, "LOADTEST_LOGINS": str(logins), "LOADTEST_STEADY": str(out / "steady.json"),
                      "LOADTEST_SETTLE": str(cfg["settle"]), "LOADTEST_MEASURE": str(cfg["duration"])}
        ramp = cfg["users"] / cfg["spawn_rate"]
        # The locustfile stops the run once the window after the last sign-in has lasted the duration; this is a cap.
        run_time = int(ramp + cfg["settle"] + cfg["duration"] + SIGN_IN_ALLOWANCE)
        log(f"locust: {cfg['users']} users, ramp {ramp:.0f} s, then {cfg['settle']} s after the last sign-in, "
            f"{cfg['duration']} s measured (at most {run_time} s in all)")
        prefix = out / "locust"
        locust = processes.start("locust", [
            str(BIN / "locust"), "-f", str(ROOT / "loadtest" / "locustfile.py"), "--headless", "--host", base,
            "--users", str(cfg["users"]), "--spawn-rate", str(cfg["spawn_rate"]), "--run-time", f"{run_time}s",
            "--stop-timeout", "30", "--csv", str(prefix), "--csv-full-history", "--only-summary",
            "--loglevel", "WARNING", "--exit-code-on-error", "0",
        ], env=locust_env, log_path=out / "locust.log")
        locust.wait(timeout=run_time + 180)
        sampler.halt.set()
        sampler.join(timeout=10)
        report["cache"] = cache_report(cache_before, scrape(base, metrics_token))
        report["load_after"] = load_average()
        if not Path(f"{prefix}_stats.csv").exists():
            raise SystemExit(f"locust wrote no statistics (exit {locust.returncode}); see {out / 'locust.log'}")
        endpoints, total = read_stats(prefix)
        steady_path = out / "steady.json"
        report["steady"] = json.loads(steady_path.read_text()) if steady_path.exists() else None
        report.update(endpoints=endpoints, total=total, failures=read_failures(prefix),
                      memory=sampler.summary(steady_since=(report["steady"] or {}).get("since")))
        report["locust_warnings"] = sorted({line.split("] ", 1)[-1].strip() for line in
                                            (out / "locust.log").read_text(errors="replace").splitlines()
                                            if "CPU usage" in line})
        # The goals are about the load once everyone is in; the whole run's figures (sign-ins, ramp) stay beside them.
        judged = report["steady"]["total"] if report["steady"] and report["steady"]["total"]["requests"] else total
        report["verdicts"] = verdicts(judged, total["failures"], report["memory"])
        report["server"] = server_side(out / "server.log", since=(report["steady"] or {}).get("since"))
        (out / "memory.json").write_text(json.dumps(sampler.samples))
        chart(prefix, sampler.samples, out / "latency.png", steady_since=(report["steady"] or {}).get("since"))
        (out / "report.json").write_text(json.dumps(report, indent=2))
        (out / "report.md").write_text(markdown(report))
        latest = out.parent / "latest"
        if latest.is_symlink() or not latest.exists():
            latest.unlink(missing_ok=True)
            latest.symlink_to(out.name)
        print(markdown(report))
        log(f"report: {out / 'report.md'}")
        return 0
    finally:
        processes.stop_all()
        signal.signal(signal.SIGTERM, previous_handler)


def cache_report(before: dict[str, float], after: dict[str, float]) -> dict:
    delta = {key: int(after.get(key, 0) - before.get(key, 0)) for key in sorted(set(before) | set(after))}
    looked_up = delta.get("hit", 0) + delta.get("miss", 0)
    return {**delta, "hit_rate": round(delta.get("hit", 0) / looked_up, 3) if looked_up else None}


def seed_command(argv: list[str]) -> None:
    """`run.py seed --tenants N --transactions N --users N --logins FILE`: seed the migrated, empty database that
    DATABASE_URL names and write the sign-ins (password and tokens: test data only) as JSON."""
    import argparse

    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffer.settings")
    parser = argparse.ArgumentParser(prog="run.py seed")
    parser.add_argument("--tenants", type=int, required=True)
    parser.add_argument("--transactions", type=int, required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--logins", type=Path, required=True)
    args = parser.parse_args(argv)

    import dataclasses

    import django

    django.setup()
    from loadtest import seed

    started = time.perf_counter()
    result = seed.seed(tenants=args.tenants, transactions=args.transactions, users=args.users, password=PASSWORD)
    seconds = time.perf_counter() - started
    args.logins.write_text(json.dumps({"password": PASSWORD,
                                       "logins": [dataclasses.asdict(login) for login in result.logins]}))
    print(json.dumps({"tenants": result.tenants, "transactions": result.transactions, "users": len(result.logins),
                      "seed_seconds": round(seconds, 1),
                      "rows_per_second": round(result.transactions / seconds) if seconds else None}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["seed"]:
        seed_command(sys.argv[2:])
    else:
        sys.exit(main())
