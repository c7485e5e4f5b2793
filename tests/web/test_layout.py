"""The layout every tenant page shares: tenant, switcher, nav, person, assets, no inline script."""

from __future__ import annotations

import re

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def test_every_tenant_page_shows_the_tenant_the_switcher_the_nav_and_the_person(org):
    other = factories.organization(org.people["member"], name="Side Project")
    page = org.client("member").get(org.url()).content.decode()

    assert '<span class="switcher-name" data-testid="current-tenant">Acme</span>' in page
    for href in (org.url(), f"/t/{other.slug}/"):
        assert f'href="{href}"' in page  # the switcher lists every space the person is in
    for label in ("Dashboard", "Accounts", "Transactions", "Organization"):
        assert f">{label}</a>" in page
    assert "Member" in page and org.people["member"].email in page
    assert 'action="/accounts/logout/"' in page


def test_pages_load_htmx_and_the_stylesheet_from_the_app_itself_and_have_no_inline_script(org):
    response = org.client("owner").get(org.url("transactions/"))
    page = response.content.decode()

    sources = re.findall(r'<script src="([^"]+)"', page)
    assert any("django_htmx/htmx-2" in src for src in sources)
    assert all(src.startswith("/static/") for src in sources)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline <script> found"
    assert not re.search(r"\sstyle=", page), "inline style attribute found"
    assert not re.search(r"\son[a-z]+=", page), "inline event handler found"
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/static/web/app.css", "/static/web/app.js", "/static/django_htmx/htmx-2.min.js"])
def test_static_assets_are_served_by_the_app(client, path):
    response = client.get(path)

    assert response.status_code == 200
    b"".join(response.streaming_content if response.streaming else [response.content])


def test_sign_in_page_is_styled_and_links_to_sign_up_and_reset(client):
    page = client.get("/accounts/login/").content.decode()

    assert "/static/web/app.css" in page
    assert 'href="/accounts/signup/"' in page and 'href="/accounts/password_reset/"' in page


def test_a_gzipped_django_page_has_one_content_length_through_the_asgi_process(client_api):
    """Starlette's GZip used to add a second Content-Length next to Django's, which browsers refuse."""
    response = client_api.get("/accounts/login/", headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.headers.get_list("content-length")) == 1


def test_a_web_post_larger_than_a_form_is_refused_before_django_reads_it(client_api):
    from coffer import asgi

    body = b"x" * (asgi.WEB_MAX_BODY_BYTES + 1)
    response = client_api.post("/accounts/login/", content=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert "larger than the limit" in response.json()["detail"]


def test_the_web_upload_may_carry_several_statement_files(settings):
    from coffer import asgi
    from coffer.web.forms_imports import MAX_FILES

    upload = {"method": "POST", "path": "/t/acme/imports/new/"}
    assert asgi._web_body_limit(upload) > MAX_FILES * settings.IMPORT_MAX_FILE_BYTES
    assert asgi._web_body_limit({"method": "POST", "path": "/t/acme/imports/"}) is None
    assert asgi._web_body_limit({"method": "GET", "path": "/t/acme/imports/new/"}) is None
