"""X-Request-ID: taken when sane, made otherwise, returned by the API and the web pages alike."""

from __future__ import annotations

import uuid

import pytest

from tests import factories


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


@pytest.mark.parametrize("path", ["/api/v1/me", "/healthz", "/accounts/login/", "/no-such-page", "/api/v1/nowhere"])
def test_every_response_carries_a_fresh_request_id(client_api, path):
    first = client_api.get(path)
    second = client_api.get(path)
    ids = [first.headers.get("x-request-id"), second.headers.get("x-request-id")]
    assert all(ids) and all(_is_uuid(value) for value in ids)
    assert ids[0] != ids[1]
    assert len(first.headers.get_list("x-request-id")) == 1


@pytest.mark.parametrize("path", ["/api/v1/me", "/accounts/login/", "/readyz"])
@pytest.mark.parametrize("incoming", ["abc-123", "01HZX7Q9.trace:span_1", "f" * 128])
def test_a_sane_incoming_request_id_is_returned_as_is(client_api, path, incoming):
    response = client_api.get(path, headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] == incoming
    assert len(response.headers.get_list("x-request-id")) == 1


@pytest.mark.parametrize("incoming", ["", "has space", "f" * 129, "semi;colon", "-leading-dash", "quote\"d", "é"])
def test_an_unusable_incoming_request_id_is_replaced_by_a_uuid(client_api, incoming):
    response = client_api.get("/api/v1/me", headers={"X-Request-ID": incoming.encode("utf-8")})
    assert response.headers["x-request-id"] != incoming
    assert _is_uuid(response.headers["x-request-id"])


def test_the_request_id_survives_gzip_and_a_signed_in_tenant_page(client_api, transactional_db):
    person = factories.user()
    tenant = factories.organization(person, slug="gz-org")
    for n in range(30):
        factories.account(tenant, name=f"Account number {n:02d} with a long enough name to pass one kilobyte")
    response = client_api.get(
        f"/api/v1/tenants/{tenant.slug}/accounts",
        headers={**factories.auth_headers(person), "Accept-Encoding": "gzip", "X-Request-ID": "trace-gz"},
    )
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == "gzip"
    assert response.headers["x-request-id"] == "trace-gz"
