from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests import factories


def sample(name: str, **labels: str) -> float:
    """A metric sample of this process (0 when never observed)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def owner(transactional_db):
    return factories.user(name="Owner")


@pytest.fixture
def tenant(owner):
    return factories.organization(owner, slug="acme-ops")
