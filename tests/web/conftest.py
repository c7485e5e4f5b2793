from __future__ import annotations

import dataclasses

import pytest
from django.test import Client

from tests import factories


@dataclasses.dataclass
class Org:
    tenant: object
    people: dict  # role name -> user, plus "outsider"

    def client(self, who: str) -> Client:
        client = Client()
        client.force_login(self.people[who])
        return client

    def url(self, rest: str = "") -> str:
        return f"/t/{self.tenant.slug}/{rest}"


@pytest.fixture
def org(db):
    """An organization with one person of each role, and an outsider who has their own space."""
    people = {role: factories.user(name=role.title()) for role in ("owner", "admin", "member", "viewer", "outsider")}
    tenant = factories.organization(
        people["owner"], name="Acme", admin=[people["admin"]], member=[people["member"]], viewer=[people["viewer"]]
    )
    return Org(tenant=tenant, people=people)
