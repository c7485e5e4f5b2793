"""Compression of responses (Brotli, gzip, none) and pre-compressed, long-cached static files."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import brotli
import pytest
from django.core.management import call_command
from django.test import RequestFactory, override_settings
from fastapi.testclient import TestClient
from whitenoise.middleware import WhiteNoiseMiddleware

from coffer.ops import compression


def raw_get(client, url: str, accept_encoding: str):
    """The response and its body exactly as sent on the wire (httpx would decode it)."""
    with client.stream("GET", url, headers={"Accept-Encoding": accept_encoding}) as response:
        return response, b"".join(response.iter_raw())


@pytest.fixture
def openapi(client_api):
    """The plain body of a large response, to compare the compressed ones with."""
    response, body = raw_get(client_api, "/api/openapi.json", "identity")
    assert len(body) > 10_000
    return json.loads(body)


def test_brotli_is_sent_when_the_client_accepts_it(client_api, openapi):
    response, body = raw_get(client_api, "/api/openapi.json", "gzip, deflate, br")
    assert response.headers["content-encoding"] == "br"
    assert "accept-encoding" in response.headers["vary"].lower()
    assert int(response.headers["content-length"]) == len(body)
    assert json.loads(brotli.decompress(body)) == openapi


def test_gzip_is_sent_to_a_client_without_brotli(client_api, openapi):
    response, body = raw_get(client_api, "/api/openapi.json", "gzip, deflate")
    assert response.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(body)) == openapi


def test_brotli_refused_with_a_zero_weight_falls_back_to_gzip(client_api, openapi):
    response, body = raw_get(client_api, "/api/openapi.json", "br;q=0, gzip")
    assert response.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(body)) == openapi


def test_nothing_is_compressed_for_a_client_that_accepts_no_encoding(client_api, openapi):
    response, body = raw_get(client_api, "/api/openapi.json", "identity")
    assert "content-encoding" not in response.headers
    assert int(response.headers["content-length"]) == len(body)


def test_a_web_page_is_sent_in_brotli_with_one_content_length(client_api):
    response, body = raw_get(client_api, "/accounts/login/", "br")
    assert response.headers["content-encoding"] == "br"
    assert len(response.headers.get_list("content-length")) == 1
    assert b"<form" in brotli.decompress(body)


@pytest.mark.parametrize("accept", ["br", "gzip", "gzip, br"])
def test_small_bodies_are_left_as_they_are(client_api, accept):
    response, body = raw_get(client_api, "/healthz", accept)
    assert "content-encoding" not in response.headers
    assert json.loads(body) == {"status": "ok"}


@pytest.mark.parametrize(("header", "accepted"), [
    ("br", True), ("gzip, deflate, br, zstd", True), ("BR;q=0.5", True), (" br ; q=1.0", True),
    ("br;q=0", False), ("br;q=0.0", False), ("br;q=nonsense", False), ("gzip", False), ("", False),
    ("brotli", False), ("*", False),
])
def test_accept_encoding_is_read_token_by_token(header, accepted):
    assert compression.accepts_brotli(header) is accepted


def _streaming_app(chunks: list[bytes], content_type: bytes = b"text/csv", extra_headers=()):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", content_type), *extra_headers]})
        for index, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": index < len(chunks) - 1})

    return app


def test_a_streamed_body_is_compressed_chunk_by_chunk_and_decodes_whole():
    chunks = [f"{n},row number {n},-12.50\n".encode() * 50 for n in range(20)]
    client = TestClient(compression.CompressionMiddleware(_streaming_app(chunks)))
    response, body = raw_get(client, "/", "br")
    assert response.headers["content-encoding"] == "br"
    assert "content-length" not in response.headers
    assert brotli.decompress(body) == b"".join(chunks)
    assert len(body) < len(b"".join(chunks)) / 5


def test_an_already_encoded_or_precompressed_media_body_passes_through():
    payload = brotli.compress(b"x" * 5000)
    encoded = _streaming_app([payload], content_type=b"text/css", extra_headers=[(b"content-encoding", b"br")])
    response, body = raw_get(TestClient(compression.CompressionMiddleware(encoded)), "/", "br")
    assert response.headers["content-encoding"] == "br"
    assert body == payload  # not compressed twice

    png = _streaming_app([b"\x89PNG" + b"\0" * 5000], content_type=b"image/png")
    response, body = raw_get(TestClient(compression.CompressionMiddleware(png)), "/", "br")
    assert "content-encoding" not in response.headers
    assert len(body) == 5004


# --- static files: hashed, pre-compressed, cached for good ------------------------------------------------


@pytest.fixture
def collected(tmp_path):
    """The production static setup: collectstatic into a fresh STATIC_ROOT, served from there (no finders)."""
    with override_settings(
        DEBUG=False, STATIC_ROOT=tmp_path / "static", WHITENOISE_USE_FINDERS=False, WHITENOISE_AUTOREFRESH=False,
        STORAGES={"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                  "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}},
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
        from django.contrib.staticfiles.storage import staticfiles_storage

        yield tmp_path / "static", staticfiles_storage, WhiteNoiseMiddleware(get_response=lambda request: None)


def test_production_settings_use_the_compressed_manifest_storage(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env.update(COFFER_ENV="production", SECRET_KEY="k3Jx9-production-secret-of-more-than-32-chars",
               COFFER_VAR_DIR=str(tmp_path / "var"))
    result = subprocess.run(
        [sys.executable, "-c", "from coffer import settings as s; print(s.STORAGES['staticfiles']['BACKEND'])"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_collectstatic_writes_brotli_and_gzip_copies_of_hashed_files(collected):
    root, storage, _ = collected
    hashed = storage.stored_name("web/app.css")
    assert hashed != "web/app.css"
    original = (root / hashed).read_bytes()
    assert brotli.decompress((root / f"{hashed}.br").read_bytes()) == original
    assert gzip.decompress((root / f"{hashed}.gz").read_bytes()) == original


def test_a_hashed_static_file_is_served_precompressed_with_a_far_future_cache(collected):
    root, storage, whitenoise = collected
    url = storage.url("web/app.css")
    response = whitenoise(RequestFactory().get(url, HTTP_ACCEPT_ENCODING="gzip, br"))
    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    cache_control = response["Cache-Control"]
    assert "immutable" in cache_control
    assert "max-age=315360000" in cache_control
    body = b"".join(response.streaming_content)
    response.close()
    assert brotli.decompress(body) == (root / storage.stored_name("web/app.css")).read_bytes()


def test_an_unhashed_static_name_is_cached_briefly(collected):
    _, _, whitenoise = collected
    response = whitenoise(RequestFactory().get("/static/web/app.css"))
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]
    assert "max-age=60" in response["Cache-Control"]
    response.close()
