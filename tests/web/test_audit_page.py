"""The audit trail page (admins and owners: filters, keyset "load more", readable before/after) and the
organization's settings (rename for admins, delete for owners)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from coffer.audit import services as audit_services
from coffer.audit.models import AuditEntry
from coffer.tenancy import services as tenancy_services
from coffer.tenancy.models import Membership, Tenant
from tests import factories
from tests.querycount import count_queries

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "member", "viewer"]
MANAGERS = {"owner", "admin"}


def _entry(org, *, action="demo.touch", actor=None, at=None, changes=None, object_type="thing"):
    extra = {"created_at": at} if at is not None else {}
    return AuditEntry.objects.create(tenant=org.tenant, actor=actor or org.people["owner"], action=action,
                                     object_type=object_type, object_id="x", changes=changes or {}, **extra)


@pytest.mark.parametrize("role", ROLES)
def test_the_audit_trail_is_for_admins_and_owners(org, role):
    client = org.client(role)

    assert client.get(org.url("audit/")).status_code == (200 if role in MANAGERS else 403)
    assert (org.url("audit/") in client.get(org.url("organization/")).content.decode()) == (role in MANAGERS)


def test_an_outsider_gets_404_and_another_tenants_entries_never_show(org):
    elsewhere = factories.organization(org.people["outsider"], name="Elsewhere")
    audit_services.audit_record(tenant=elsewhere, actor=org.people["outsider"], action="secret.thing",
                                object_type="thing", object_id="1")

    assert org.client("outsider").get(org.url("audit/")).status_code == 404
    page = org.client("owner").get(org.url("audit/")).content.decode()
    assert "secret.thing" not in page and "tenant.create" in page


def test_a_role_change_reads_as_who_changed_which_field_from_what_to_what(org):
    member = Membership.objects.get(tenant=org.tenant, user=org.people["member"])
    tenancy_services.membership_update(tenant=org.tenant, actor=org.people["admin"], membership_id=member.pk, role="viewer")

    page = org.client("owner").get(org.url("audit/?action=membership.update")).content.decode()

    assert "<code>membership.update</code>" in page
    assert "Admin" in page  # the actor's name
    assert "<dt>role</dt><dd><del>member</del>" in page and "<ins>viewer</ins>" in page


def test_dates_in_changes_are_shown_in_the_persons_zone_and_format(org):
    owner = org.people["owner"]
    tenancy_services.user_update(user=owner, changes={"time_zone": "Asia/Tokyo", "date_format": "dmy"})
    _entry(org, changes={"revoked_at": [None, "2024-03-01T20:30:00+00:00"], "booked_on": ["2024-02-29", "2024-03-01"]})

    page = org.client("owner").get(org.url("audit/?action=demo.touch")).content.decode()

    assert "<ins>02/03/2024 05:30</ins>" in page  # 20:30 UTC is the next morning in Tokyo
    assert "<del>29/02/2024</del>" in page


def test_filters_by_action_actor_object_type_and_date_range(org):
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    tenancy_services.user_update(user=org.people["owner"], changes={"time_zone": "Asia/Tokyo"})
    _entry(org, action="a.one", actor=org.people["admin"], at=dt.datetime(2024, 3, 1, 12, tzinfo=tokyo))
    _entry(org, action="a.two", actor=org.people["owner"], at=dt.datetime(2024, 3, 2, 0, 30, tzinfo=tokyo),
           object_type="widget")
    _entry(org, action="a.three", actor=org.people["admin"], at=dt.datetime(2024, 3, 3, 23, 59, tzinfo=tokyo))
    client = org.client("owner")

    def actions(query: str) -> set[str]:
        response = client.get(org.url("audit/") + query)
        assert response.status_code == 200
        return {entry.action for entry, _changes in response.context["entries"] if entry.action.startswith("a.")}

    assert actions("?action=a.two") == {"a.two"}
    assert actions(f"?actor={org.people['admin'].pk}") == {"a.one", "a.three"}
    assert actions("?object_type=widget") == {"a.two"}
    # Whole days in the person's zone: 2 March in Tokyo starts at 00:00 there.
    assert actions("?date_from=2024-03-02&date_to=2024-03-02") == {"a.two"}
    assert actions("?date_from=2024-03-02") == {"a.two", "a.three"}
    assert actions("?date_to=2024-03-01") == {"a.one"}


@pytest.mark.parametrize("query, field, message", [
    ("?date_from=2024-03-05&date_to=2024-03-01", "date_to", "The end date is before the start date."),
    ("?date_from=yesterday", "date_from", "Enter a valid date."),
    ("?actor=not-a-member", "actor", "Select a valid choice. not-a-member is not one of the available choices."),
])
def test_bad_filters_are_shown_next_to_their_field(org, query, field, message):
    response = org.client("admin").get(org.url("audit/") + query)

    assert response.status_code == 422
    assert response.context["form"].errors == {field: [message]}
    assert f'id="id_{field}_error"' in response.content.decode()


def test_load_more_pages_through_every_entry_once_with_bounded_queries(org):
    client = org.client("owner")

    def fetch(url, **headers):
        with count_queries() as queries:
            response = client.get(url, **headers)
        return response, len(queries)

    _, few = fetch(org.url("audit/"))
    for i in range(119):
        _entry(org, action="bulk.touch", changes={"n": [i, i + 1]})
    first, many = fetch(org.url("audit/?action=bulk.touch"))
    assert many == few <= 9
    seen = [entry.pk for entry, _ in first.context["entries"]]
    more = first.context["more_url"]
    while more:
        assert "action=bulk.touch" in more
        page, queries = fetch(more, HTTP_HX_REQUEST="true")
        assert queries <= few and page.templates[0].name == "web/people/partials/audit_rows.html"
        seen += [entry.pk for entry, _ in page.context["entries"]]
        more = page.context["more_url"]
    assert len(seen) == len(set(seen)) == 119
    assert client.get(org.url("audit/?cursor=nope")).status_code == 400


# --- organization settings -----------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_renaming_is_for_admins_and_owners(org, role):
    client = org.client(role)
    allowed = role in MANAGERS

    assert client.get(org.url("organization/settings/")).status_code == (200 if allowed else 403)
    response = client.post(org.url("organization/settings/"), {"name": f"Acme by {role}", "base_currency": "usd"})
    assert response.status_code == (302 if allowed else 403)
    org.tenant.refresh_from_db()
    assert (org.tenant.name == f"Acme by {role}") == allowed
    assert (org.tenant.base_currency == "USD") == allowed


def test_a_bad_currency_is_shown_next_to_its_field_and_nothing_changes(org):
    response = org.client("admin").post(org.url("organization/settings/"), {"name": "Renamed", "base_currency": "ZZZ"})

    assert response.status_code == 422
    assert response.context["form"].errors == {"base_currency": ["Use an ISO 4217 code such as EUR or USD."]}
    org.tenant.refresh_from_db()
    assert org.tenant.name == "Acme"


@pytest.mark.parametrize("role", ROLES)
def test_deleting_is_for_owners_only_and_shown_only_to_them(org, role):
    client = org.client(role)
    if role in MANAGERS:
        page = client.get(org.url("organization/settings/")).content.decode()
        assert ("Delete this organization" in page) == (role == "owner")
    response = client.post(org.url("organization/delete/"), {"confirm_name": "Acme"})

    assert response.status_code == (302 if role == "owner" else 403)
    assert Tenant.objects.filter(pk=org.tenant.pk).exists() == (role != "owner")


def test_deleting_needs_the_exact_name_and_otherwise_deletes_nothing(org):
    response = org.client("owner").post(org.url("organization/delete/"), {"confirm_name": "acme"})

    assert response.status_code == 422
    assert response.context["delete_form"].errors == {
        "confirm_name": ["That is not the organization's name; nothing was deleted."]}
    assert Tenant.objects.filter(pk=org.tenant.pk).exists()
    assert AuditEntry.objects.filter(tenant=org.tenant).exists()
