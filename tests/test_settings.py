"""Settings read from the environment, each case in a fresh interpreter (settings load once per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

GOOD_SECRET = "k3Jx9-production-secret-of-more-than-32-chars"
# Every variable that settings.py reads and these tests set; the parent's values must not leak in.
_CONTROLLED = (
    "COFFER_ENV", "SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS",
    "DB_POOL_MIN_SIZE", "DB_POOL_MAX_SIZE", "DB_POOL_TIMEOUT", "CACHE_KEY_PREFIX", "DJANGO_SETTINGS_MODULE",
    "CELERY_BROKER_URL", "MEMCACHED_URL",
)

REPORT = """
import json
from coffer import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG, "PRODUCTION": s.PRODUCTION, "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "DATABASE": {k: s.DATABASES["default"].get(k) for k in ("ENGINE", "NAME", "USER", "HOST", "PORT", "OPTIONS")},
    "CACHE": s.CACHES["default"],
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
}, default=str))
"""


def load_settings(tmp_path, **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in _CONTROLLED}
    clean.update(COFFER_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run(
        [sys.executable, "-c", REPORT], env=clean, capture_output=True, text=True, timeout=60, check=False
    )


def loaded(tmp_path, **env: str) -> dict:
    result = load_settings(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = load_settings(tmp_path, COFFER_ENV="production")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_production_refuses_a_short_secret_key(tmp_path):
    result = load_settings(tmp_path, COFFER_ENV="production", SECRET_KEY="too-short")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_the_development_secret_key(tmp_path):
    result = load_settings(
        tmp_path, COFFER_ENV="production", SECRET_KEY="coffer-development-secret-key-not-for-production"
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_debug_on(tmp_path):
    result = load_settings(tmp_path, COFFER_ENV="production", SECRET_KEY=GOOD_SECRET, DEBUG="1")
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_production_with_a_good_key_starts_with_debug_off_and_secure_cookies(tmp_path):
    report = loaded(tmp_path, COFFER_ENV="production", SECRET_KEY=GOOD_SECRET, ALLOWED_HOSTS="coffer.example.com")
    assert report["PRODUCTION"] is True
    assert report["DEBUG"] is False
    assert report["SESSION_COOKIE_SECURE"] is True
    assert report["ALLOWED_HOSTS"] == ["coffer.example.com"]


def test_development_defaults_to_debug_and_sqlite_under_the_var_dir(tmp_path):
    report = loaded(tmp_path)
    assert report["DEBUG"] is True
    assert report["DATABASE"]["ENGINE"] == "django.db.backends.sqlite3"
    assert report["DATABASE"]["NAME"] == str(tmp_path / "var" / "coffer.sqlite3")
    assert report["CACHE"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_unknown_coffer_env_is_refused(tmp_path):
    result = load_settings(tmp_path, COFFER_ENV="staging")
    assert result.returncode != 0
    assert "COFFER_ENV" in result.stderr


def test_sqlite_database_url_selects_sqlite_with_that_file(tmp_path):
    report = loaded(tmp_path, DATABASE_URL="sqlite:///x")
    assert report["DATABASE"]["ENGINE"] == "django.db.backends.sqlite3"
    assert report["DATABASE"]["NAME"] == "x"
    assert report["DATABASE"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgres_database_url_selects_postgresql_with_a_pool(tmp_path):
    report = loaded(tmp_path, DATABASE_URL="postgres://u@h:5432/db", DB_POOL_MAX_SIZE="7")
    database = report["DATABASE"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["HOST"], database["PORT"]) == ("db", "u", "h", 5432)
    assert database["OPTIONS"]["pool"]["max_size"] == 7


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/3", "redis://cache.internal:6380/0"])
def test_redis_url_switches_the_cache_to_redis(tmp_path, url):
    report = loaded(tmp_path, REDIS_URL=url)
    assert report["CACHE"]["BACKEND"] == "coffer.ops.cache.SharedPoolRedisCache"
    assert report["CACHE"]["LOCATION"] == url


def test_memcached_url_switches_the_cache_to_memcached_servers(tmp_path):
    report = loaded(tmp_path, MEMCACHED_URL="memcached://10.0.0.5:11211, 10.0.0.6:11211")
    assert report["CACHE"]["BACKEND"] == "coffer.ops.cache.SharedPoolMemcachedCache"
    assert report["CACHE"]["LOCATION"] == ["10.0.0.5:11211", "10.0.0.6:11211"]
    assert report["CACHE"]["OPTIONS"]["use_pooling"] is True


def test_redis_and_memcached_together_are_refused(tmp_path):
    result = load_settings(tmp_path, REDIS_URL="redis://127.0.0.1:6379/3", MEMCACHED_URL="127.0.0.1:11211")
    assert result.returncode != 0 and "Set REDIS_URL or MEMCACHED_URL for the cache, not both" in result.stderr


def test_a_celery_broker_without_a_shared_cache_is_refused(tmp_path):
    result = load_settings(tmp_path, CELERY_BROKER_URL="amqp://guest@127.0.0.1:5672//")
    assert result.returncode != 0
    assert "CELERY_BROKER_URL needs REDIS_URL (or MEMCACHED_URL) too" in result.stderr
    with_cache = loaded(tmp_path, CELERY_BROKER_URL="amqp://guest@127.0.0.1:5672//", REDIS_URL="redis://127.0.0.1:6379/3")
    assert with_cache["CACHE"]["LOCATION"] == "redis://127.0.0.1:6379/3"
    with_memcached = loaded(tmp_path, CELERY_BROKER_URL="amqp://guest@127.0.0.1:5672//", MEMCACHED_URL="127.0.0.1:11211")
    assert with_memcached["CACHE"]["LOCATION"] == ["127.0.0.1:11211"]


def test_readme_documents_every_environment_variable_that_settings_reads():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    source = (root / "src" / "coffer" / "settings.py").read_text()
    read = set(re.findall(r'(?:environ\.get|env_bool|env_int|env_list)\(\s*"([A-Z][A-Z0-9_]*)"', source))
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "COFFER_VAR_DIR"} <= read  # the pattern still finds them
    readme = (root / "README.md").read_text()
    missing = sorted(name for name in read if f"`{name}`" not in readme)
    assert not missing, f"README.md's configuration table lacks {missing}"
