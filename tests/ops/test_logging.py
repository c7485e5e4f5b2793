"""Log lines: JSON (or text) with the request id, tenant and user; one access line per request; Sentry."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import re
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from coffer.ops import context, logconfig
from tests import factories


@pytest.fixture
def json_lines():
    """Everything logged while the test runs, as the production JSON handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logconfig.JsonFormatter())
    handler.addFilter(logconfig.ContextFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def signed_in_cookies(person) -> dict[str, str]:
    """A real web session (Django's test client writes it to the database) for the ASGI client."""
    from django.test import Client

    web = Client()
    web.force_login(person)
    return {name: morsel.value for name, morsel in web.cookies.items()}


def _access(lines, path):
    return [line for line in lines if line["logger"] == "coffer.access" and line["path"] == path]


def test_an_api_request_in_a_tenant_logs_one_json_access_line_with_its_context(client_api, json_lines, owner, tenant):
    response = client_api.get(f"/api/v1/tenants/{tenant.slug}/accounts", headers=factories.auth_headers(owner))
    assert response.status_code == 200
    [line] = _access(json_lines(), f"/api/v1/tenants/{tenant.slug}/accounts")
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["tenant"] == str(tenant.pk)
    assert line["user_id"] == str(owner.pk)
    assert line["method"] == "GET" and line["status"] == 200
    assert line["route"] == "/api/v1/tenants/{tenant}/accounts"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["sql_statements"] > 0
    assert line["level"] == "INFO"
    assert dt.datetime.fromisoformat(line["time"]).utcoffset() == dt.timedelta(0)  # ISO 8601, UTC


def test_a_signed_in_api_call_outside_a_tenant_still_names_the_user(client_api, json_lines, owner):
    response = client_api.get("/api/v1/me", headers=factories.auth_headers(owner))
    [line] = _access(json_lines(), "/api/v1/me")
    assert response.status_code == 200
    assert line["user_id"] == str(owner.pk) and line["tenant"] is None


def test_an_anonymous_refusal_is_logged_without_user_or_tenant(client_api, json_lines, tenant):
    response = client_api.get(f"/api/v1/tenants/{tenant.slug}/accounts", headers={"X-Request-ID": "anon-1"})
    assert response.status_code == 401
    [line] = _access(json_lines(), f"/api/v1/tenants/{tenant.slug}/accounts")
    assert (line["request_id"], line["user_id"], line["tenant"], line["status"]) == ("anon-1", None, None, 401)


def test_lines_logged_inside_a_web_tenant_page_carry_request_tenant_and_user(client_api, json_lines, owner, tenant):
    client_api.cookies.update(signed_in_cookies(owner))
    missing = "01900000-0000-7000-8000-000000000000"
    path = f"/t/{tenant.slug}/accounts/{missing}/"
    response = client_api.get(path, headers={"X-Request-ID": "web-404"})
    assert response.status_code == 404
    lines = [line for line in json_lines() if line.get("request_id") == "web-404"]
    django_line = next(line for line in lines if line["logger"] == "django.request")  # "Not Found: ..."
    access_line = next(line for line in lines if line["logger"] == "coffer.access")
    for line in (django_line, access_line):
        assert line["tenant"] == str(tenant.pk) and line["user_id"] == str(owner.pk)
    assert re.fullmatch(r"/t/<slug:tenant_slug>/accounts/<\w+:account_id>/", access_line["route"])
    assert tenant.slug not in access_line["route"]


def test_the_text_format_appends_only_what_is_known():
    formatter = logconfig.TextFormatter()
    record_filter = logconfig.ContextFilter()

    def render(message):
        record = logging.LogRecord("coffer.test", logging.INFO, __file__, 1, message, None, None)
        record_filter.filter(record)
        return formatter.format(record)

    assert render("outside").endswith("INFO coffer.test outside")
    with context.scope(context.RequestContext(request_id="r-1")):
        context.bind(tenant="t-1")
        assert render("inside").endswith("INFO coffer.test inside [request_id=r-1 tenant=t-1]")


def test_bind_outside_a_request_does_nothing_and_ignores_anonymous_users():
    from django.contrib.auth.models import AnonymousUser

    context.bind(tenant="t", user="u")  # no request in hand: no error, nothing kept
    assert context.current() is None
    with context.scope(context.RequestContext()) as ctx:
        context.bind(user=AnonymousUser())
        assert ctx.user_id is None


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        logconfig.logging_config(log_format="xml", level="INFO")


# --- each case in a fresh interpreter: settings and Sentry are set up once per process ---------

_CONTROLLED = ("COFFER_ENV", "SECRET_KEY", "LOG_FORMAT", "SENTRY_DSN", "DJANGO_SETTINGS_MODULE", "DEBUG")
GOOD_SECRET = "k3Jx9-production-secret-of-more-than-32-chars"

REPORT = """
import json, logging, django
django.setup()
import sentry_sdk
from django.conf import settings
client = sentry_sdk.get_client()
logging.getLogger("coffer.probe").warning("probe line")
print(json.dumps({
    "LOG_FORMAT": settings.LOG_FORMAT,
    "sentry_active": client.is_active(),
    "dsn": client.dsn,
    "environment": client.options.get("environment") if client.is_active() else None,
    "pii": client.options.get("send_default_pii") if client.is_active() else None,
    "before_send": getattr(client.options.get("before_send"), "__qualname__", None) if client.is_active() else None,
}))
"""


def _run(tmp_path, **env):
    clean = {key: value for key, value in os.environ.items() if key not in _CONTROLLED}
    clean.update(COFFER_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="coffer.settings", **env)
    result = subprocess.run([sys.executable, "-c", REPORT], env=clean, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def test_development_logs_plain_text_and_starts_no_sentry(tmp_path):
    report, stderr = _run(tmp_path)
    assert report["LOG_FORMAT"] == "text"
    assert report["sentry_active"] is False and report["dsn"] is None
    assert "WARNING coffer.probe probe line" in stderr


def test_production_logs_json_lines(tmp_path):
    report, stderr = _run(tmp_path, COFFER_ENV="production", SECRET_KEY=GOOD_SECRET)
    assert report["LOG_FORMAT"] == "json"
    [line] = [json.loads(text) for text in stderr.splitlines() if "probe line" in text]
    assert line["message"] == "probe line" and line["level"] == "WARNING" and line["logger"] == "coffer.probe"
    assert {"request_id", "tenant", "user_id"} <= line.keys()


def test_log_format_can_be_chosen_against_the_environment_default(tmp_path):
    report, stderr = _run(tmp_path, LOG_FORMAT="json")
    assert report["LOG_FORMAT"] == "json"
    assert json.loads(next(text for text in stderr.splitlines() if "probe line" in text))["message"] == "probe line"


def test_a_sentry_dsn_configures_the_sdk_without_personal_data(tmp_path):
    dsn = "http://publickey@127.0.0.1:9/42"  # nothing listens there; no event is sent in this test
    report, _ = _run(tmp_path, SENTRY_DSN=dsn)
    assert report["sentry_active"] is True and report["dsn"] == dsn
    assert report["environment"] == "development" and report["pii"] is False
    assert report["before_send"] == "sentry_before_send"


def test_sentry_events_are_tagged_with_the_request_id_tenant_and_user():
    assert logconfig.sentry_before_send({"message": "x"}, {}) == {"message": "x"}  # outside a request: untouched
    with context.scope(context.RequestContext(request_id="r-9", tenant="t-9", user_id="u-9")):
        event = logconfig.sentry_before_send({"message": "x", "tags": {"a": "b"}}, {})
    assert event["tags"] == {"a": "b", "request_id": "r-9", "tenant": "t-9"}
    assert event["user"] == {"id": "u-9"}
