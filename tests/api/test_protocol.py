"""Protocol-level behaviour of the API process: body limits, compression, error shape."""

from tests import factories


def test_a_10_mb_body_is_refused_with_413_before_anything_is_created(client_api, alice):
    tenant = factories.organization(alice, slug="big-body")
    body = b'{"name": "' + b"x" * (10 * 1024 * 1024) + b'", "currency": "EUR"}'
    response = client_api.post(
        f"/api/v1/tenants/{tenant.slug}/accounts",
        content=body,
        headers={**factories.auth_headers(alice), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "larger than the limit" in response.json()["detail"]
    assert tenant.accounts.count() == 0


def test_a_body_streamed_without_content_length_is_cut_off_at_the_limit(client_api, alice):
    tenant = factories.organization(alice, slug="chunked-body")

    def chunks():
        yield b'{"name": "'
        for _ in range(11):
            yield b"y" * (1024 * 1024)
        yield b'", "currency": "EUR"}'

    response = client_api.post(
        f"/api/v1/tenants/{tenant.slug}/accounts",
        content=chunks(),
        headers={**factories.auth_headers(alice), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert tenant.accounts.count() == 0


def test_responses_over_1_kb_are_gzipped_when_the_client_accepts_it(client_api):
    response = client_api.get("/api/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    # httpx decodes transparently; the raw size on the wire is what shrank.
    assert int(response.headers["content-length"]) < len(response.content)


def test_small_responses_are_not_compressed(client_api):
    response = client_api.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers
    assert response.json() == {"status": "ok"}


def test_malformed_json_is_a_422_problem(client_api, alice):
    tenant = factories.organization(alice, slug="bad-json")
    response = client_api.post(
        f"/api/v1/tenants/{tenant.slug}/accounts",
        content=b'{"name": ',
        headers={**factories.auth_headers(alice), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert tenant.accounts.count() == 0
