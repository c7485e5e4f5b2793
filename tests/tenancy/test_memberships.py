"""Memberships, roles, ownership and the person's profile (coffer.tenancy.services)."""

from __future__ import annotations

import pytest

from coffer import errors
from coffer.audit.models import AuditEntry
from coffer.tenancy import services
from coffer.tenancy.models import Membership, Tenant
from tests import factories


@pytest.fixture
def team(db):
    owner, admin, member, viewer = (factories.user(name=role.title()) for role in ("owner", "admin", "member", "viewer"))
    tenant = factories.organization(owner, admin=[admin], member=[member], viewer=[viewer])
    people = {"owner": owner, "admin": admin, "member": member, "viewer": viewer}
    return {"tenant": tenant, **people, "m": {role: Membership.objects.get(tenant=tenant, user=u) for role, u in people.items()}}


def roles_of(tenant) -> dict:
    return dict(Membership.objects.filter(tenant=tenant).values_list("user__email", "role"))


# --- changing roles -------------------------------------------------------


def test_an_admin_changes_a_members_role_and_the_change_is_audited(team):
    changed = services.membership_update(tenant=team["tenant"], actor=team["admin"], membership_id=team["m"]["member"].pk, role="viewer")
    assert changed.role == "viewer"
    entry = AuditEntry.objects.get(action="membership.update", object_id=str(changed.pk))
    assert (entry.actor, entry.tenant, entry.object_type, entry.changes) == (
        team["admin"], team["tenant"], "membership", {"role": ["member", "viewer"]}
    )


def test_setting_the_same_role_writes_no_audit_entry(team):
    before = AuditEntry.objects.count()
    services.membership_update(tenant=team["tenant"], actor=team["owner"], membership_id=team["m"]["member"].pk, role="member")
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("target, role", [("owner", "admin"), ("member", "owner"), ("admin", "owner")])
def test_an_admin_cannot_touch_or_make_an_owner(team, target, role):
    before = roles_of(team["tenant"])
    with pytest.raises(errors.PermissionDenied, match="Only an owner"):
        services.membership_update(tenant=team["tenant"], actor=team["admin"], membership_id=team["m"][target].pk, role=role)
    assert roles_of(team["tenant"]) == before


@pytest.mark.parametrize("actor", ["member", "viewer"])
def test_members_and_viewers_cannot_change_roles(team, actor):
    with pytest.raises(errors.PermissionDenied):
        services.membership_update(tenant=team["tenant"], actor=team[actor], membership_id=team["m"]["viewer"].pk, role="admin")
    assert Membership.objects.get(pk=team["m"]["viewer"].pk).role == "viewer"


def test_an_owner_can_make_another_owner_and_then_step_down(team):
    tenant = team["tenant"]
    services.membership_update(tenant=tenant, actor=team["owner"], membership_id=team["m"]["admin"].pk, role="owner")
    services.membership_update(tenant=tenant, actor=team["owner"], membership_id=team["m"]["owner"].pk, role="member")
    assert roles_of(tenant)[team["admin"].email] == "owner"
    assert roles_of(tenant)[team["owner"].email] == "member"


def test_the_last_owner_cannot_be_demoted(team):
    with pytest.raises(errors.Conflict, match="at least one owner"):
        services.membership_update(tenant=team["tenant"], actor=team["owner"], membership_id=team["m"]["owner"].pk, role="admin")
    assert Membership.objects.get(pk=team["m"]["owner"].pk).role == "owner"


def test_a_bad_role_is_refused(team):
    with pytest.raises(errors.ValidationError) as exc:
        services.membership_update(tenant=team["tenant"], actor=team["owner"], membership_id=team["m"]["member"].pk, role="boss")
    assert "role" in exc.value.field_errors


def test_another_tenants_membership_is_not_found(team):
    other = factories.organization(factories.user())
    foreign = Membership.objects.get(tenant=other)
    with pytest.raises(errors.NotFound):
        services.membership_update(tenant=team["tenant"], actor=team["owner"], membership_id=foreign.pk, role="viewer")
    with pytest.raises(errors.NotFound):
        services.membership_remove(tenant=team["tenant"], actor=team["owner"], membership_id=foreign.pk)
    assert Membership.objects.get(pk=foreign.pk).role == "owner"


# --- removing and leaving -------------------------------------------------


def test_an_admin_removes_a_member_and_the_removal_is_audited(team):
    gone = team["m"]["member"]
    services.membership_remove(tenant=team["tenant"], actor=team["admin"], membership_id=gone.pk)
    assert not Membership.objects.filter(pk=gone.pk).exists()
    entry = AuditEntry.objects.get(action="membership.delete", object_id=str(gone.pk))
    assert entry.changes == {"user": [str(team["member"].pk), None], "role": ["member", None]}


def test_an_admin_cannot_remove_an_owner(team):
    with pytest.raises(errors.PermissionDenied):
        services.membership_remove(tenant=team["tenant"], actor=team["admin"], membership_id=team["m"]["owner"].pk)
    assert Membership.objects.filter(pk=team["m"]["owner"].pk).exists()


@pytest.mark.parametrize("actor", ["member", "viewer"])
def test_members_and_viewers_cannot_remove_others(team, actor):
    with pytest.raises(errors.PermissionDenied):
        services.membership_remove(tenant=team["tenant"], actor=team[actor], membership_id=team["m"]["admin"].pk)
    assert Membership.objects.filter(pk=team["m"]["admin"].pk).exists()


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_anyone_may_leave(team, role):
    services.membership_remove(tenant=team["tenant"], actor=team[role], membership_id=team["m"][role].pk)
    assert team[role].email not in roles_of(team["tenant"])


def test_the_last_owner_cannot_leave_but_one_of_two_owners_can(team):
    tenant, owner = team["tenant"], team["owner"]
    with pytest.raises(errors.Conflict):
        services.membership_remove(tenant=tenant, actor=owner, membership_id=team["m"]["owner"].pk)
    services.membership_update(tenant=tenant, actor=owner, membership_id=team["m"]["admin"].pk, role="owner")
    services.membership_remove(tenant=tenant, actor=owner, membership_id=team["m"]["owner"].pk)
    assert roles_of(tenant) == {team["admin"].email: "owner", team["member"].email: "member", team["viewer"].email: "viewer"}


def test_nobody_leaves_their_personal_space(db):
    person = factories.user()
    membership = Membership.objects.get(user=person)
    with pytest.raises(errors.Conflict):
        services.membership_remove(tenant=membership.tenant, actor=person, membership_id=membership.pk)
    assert Membership.objects.filter(pk=membership.pk).exists()


# --- ownership ------------------------------------------------------------


def test_transferring_ownership_makes_the_previous_owner_admin(team):
    services.ownership_transfer(tenant=team["tenant"], actor=team["owner"], user_id=team["member"].pk)
    assert roles_of(team["tenant"])[team["member"].email] == "owner"
    assert roles_of(team["tenant"])[team["owner"].email] == "admin"
    changes = sorted(AuditEntry.objects.filter(action="ownership.transfer").values_list("changes", flat=True), key=str)
    assert changes == [{"role": ["member", "owner"]}, {"role": ["owner", "admin"]}]


def test_ownership_goes_only_to_a_member(team):
    outsider = factories.user()
    with pytest.raises(errors.ValidationError) as exc:
        services.ownership_transfer(tenant=team["tenant"], actor=team["owner"], user_id=outsider.pk)
    assert exc.value.field_errors == {"user_id": "Not a member of this organization."}
    assert roles_of(team["tenant"])[team["owner"].email] == "owner"


def test_an_admin_cannot_transfer_ownership(team):
    with pytest.raises(errors.PermissionDenied):
        services.ownership_transfer(tenant=team["tenant"], actor=team["admin"], user_id=team["admin"].pk)
    assert roles_of(team["tenant"])[team["admin"].email] == "admin"


# --- the tenant -----------------------------------------------------------


def test_renaming_a_tenant_is_audited_with_before_and_after(team):
    services.tenant_update(tenant=team["tenant"], actor=team["admin"], changes={"name": "  Renamed ", "base_currency": "chf"})
    tenant = Tenant.objects.get(pk=team["tenant"].pk)
    assert (tenant.name, tenant.base_currency) == ("Renamed", "CHF")
    entry = AuditEntry.objects.get(action="tenant.update")
    assert entry.changes == {"name": [team["tenant"].name, "Renamed"], "base_currency": ["EUR", "CHF"]}


def test_an_owner_deletes_an_organization_with_its_data(team):
    tenant = team["tenant"]
    factories.account(tenant)
    services.tenant_delete(tenant=tenant, actor=team["owner"])
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    assert not Membership.objects.filter(tenant_id=tenant.pk).exists()


def test_a_personal_space_cannot_be_deleted(db):
    person = factories.user()
    tenant = Membership.objects.get(user=person).tenant
    with pytest.raises(errors.Conflict):
        services.tenant_delete(tenant=tenant, actor=person)
    assert Tenant.objects.filter(pk=tenant.pk).exists()


# --- the person -----------------------------------------------------------


def test_a_person_sets_name_and_time_zone_audited_in_their_personal_space(db):
    person = factories.user(name="Old")
    services.user_update(user=person, changes={"name": "New", "time_zone": "Europe/Zurich"})
    person.refresh_from_db()
    assert (person.name, person.time_zone) == ("New", "Europe/Zurich")
    entry = AuditEntry.objects.get(action="user.update")
    assert entry.tenant.kind == "personal"
    assert entry.changes == {"name": ["Old", "New"], "time_zone": ["UTC", "Europe/Zurich"]}


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "europe/zurich"])
def test_an_unknown_time_zone_is_refused(db, zone):
    person = factories.user()
    with pytest.raises(errors.ValidationError) as exc:
        services.user_update(user=person, changes={"time_zone": zone})
    assert "time_zone" in exc.value.field_errors
    person.refresh_from_db()
    assert person.time_zone == "UTC"
