"""The organization page, making a new organization, and a person without any space."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coffer.tenancy.models import Membership, Tenant
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_organization_page_lists_members_with_their_roles(org):
    page = org.client("viewer").get(org.url("organization/")).content.decode()

    for role in ("owner", "admin", "member", "viewer"):
        assert org.people[role].email in page
    assert org.people["outsider"].email not in page


def test_the_organization_page_runs_the_same_bounded_number_of_queries_for_5_or_70_members(org, django_assert_max_num_queries):
    client = org.client("owner")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            client.get(org.url("organization/"))
        return len(ctx.captured_queries)

    few = count()
    for _ in range(66):
        Membership.objects.create(tenant=org.tenant, user=factories.user(), role="viewer")
    with django_assert_max_num_queries(8):
        response = client.get(org.url("organization/"))
    assert count() == few
    assert len(response.context["members"]) == 50 and response.context["more_members"]


def test_a_person_creates_an_organization_and_lands_on_its_dashboard_as_owner(org):
    client = org.client("member")

    response = client.post("/organizations/new/", {"name": "Side Project", "base_currency": "chf"}, follow=True)

    tenant = Tenant.objects.get(name="Side Project")
    assert tenant.base_currency == "CHF"
    assert Membership.objects.get(tenant=tenant, user=org.people["member"]).role == "owner"
    assert response.redirect_chain[-1][0] == f"/t/{tenant.slug}/"
    assert 'data-testid="current-tenant">Side Project<' in response.content.decode()


def test_a_bad_base_currency_is_shown_next_to_its_field(org):
    response = org.client("member").post("/organizations/new/", {"name": "Nope", "base_currency": "ZZZ"})

    assert response.status_code == 422
    assert response.context["form"].errors == {"base_currency": ["Use an ISO 4217 code such as EUR or USD."]}
    assert not Tenant.objects.filter(name="Nope").exists()


def test_a_person_in_no_space_is_offered_to_create_one(client):
    person = factories.user()
    Membership.objects.filter(user=person).delete()
    client.force_login(person)

    response = client.get("/")

    assert response.status_code == 200
    assert b"You are not in any space yet" in response.content
    assert b'action="/organizations/new/"' in response.content
