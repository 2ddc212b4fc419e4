"""The place's organisations and its risk-factor checklist, managed by its place admin."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dsr.actions import services as actions
from dsr.core import audit, dates
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.places import services as places
from dsr.places.models import Organisation
from dsr.risk import services as risk
from dsr.risk.models import RiskFactor
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import at, error_messages


@pytest.fixture
def admin(cast, place_a):
    user = cast[Role.PLACE_ADMIN]
    return audit.Context(
        actor=user, place_id=place_a.pk, actor_label=user.email, role="place_admin"
    )


def test_an_organisation_is_added_renamed_and_retired_audited(admin, place_a):
    trust = places.add_organisation(place=place_a, name="Trust", kind="nhs_trust", by=admin)
    places.update_organisation(
        organisation=trust, name="New Trust", kind="nhs_trust", is_active=False, by=admin
    )
    trust.refresh_from_db()
    assert (trust.name, trust.is_active) == ("New Trust", False)
    changed = AuditEvent.objects.get(action="changed", object_type="Organisation")
    assert changed.changes == {"name": ["Trust", "New Trust"], "is_active": [True, False]}


def test_a_retired_organisation_is_kept_but_not_offered_for_new_records(admin, place_a, person_a):
    trust = places.add_organisation(place=place_a, name="Trust", kind="nhs_trust", by=admin)
    places.update_organisation(
        organisation=trust, name="Trust", kind="nhs_trust", is_active=False, by=admin
    )
    assert trust not in places.organisations_of(place_a)
    with pytest.raises(ValidationError, match="no longer in use"):
        actions.open_action(
            person=person_a,
            description="Call",
            due_on=dates.today(),
            source="other",
            owner_organisation=trust,
            by=SYSTEM,
        )


def test_two_organisations_of_one_place_cannot_share_a_name(admin, place_a):
    places.add_organisation(place=place_a, name="Trust", kind="nhs_trust", by=admin)
    with pytest.raises(ValidationError, match="already has an organisation with that name"):
        places.add_organisation(place=place_a, name="Trust", kind="police", by=admin)
    assert Organisation.objects.filter(place=place_a).count() == 1


def test_only_the_place_admin_manages_the_places_lists(cast, place_a):
    user = cast[Role.COORDINATOR]
    by = audit.Context(actor=user, place_id=place_a.pk, actor_label=user.email, role="coordinator")
    with pytest.raises(PermissionDenied):
        places.add_organisation(place=place_a, name="Trust", kind="nhs_trust", by=by)
    with pytest.raises(PermissionDenied):
        risk.add_risk_factor(place=place_a, label="New factor", by=by)


def test_a_risk_factor_used_by_a_rating_keeps_its_wording(admin, place_a):
    factor = RiskFactor.objects.filter(place=place_a).first()
    person = factories.make_person(place_a)
    risk.rate(person=person, rating="A", rationale="Worse", factors=[factor], by=SYSTEM)
    with pytest.raises(ValidationError, match="wording stays as those ratings saw it"):
        risk.update_risk_factor(factor=factor, label="Reworded", is_active=True, by=admin)
    retired = risk.update_risk_factor(factor=factor, label=factor.label, is_active=False, by=admin)
    assert not retired.is_active


def test_an_unused_risk_factor_can_be_reworded_and_factors_reordered(admin, place_a):
    added = risk.add_risk_factor(place=place_a, label="Sleep disrupted", by=admin)
    assert added.position == RiskFactor.objects.filter(place=place_a).count() - 1
    risk.update_risk_factor(factor=added, label="Sleep badly disrupted", is_active=True, by=admin)
    risk.move_risk_factor(factor=added, up=True, by=admin)
    order = list(RiskFactor.objects.filter(place=place_a).order_by("position"))
    assert order[-2].label == "Sleep badly disrupted"


def test_the_lists_pages_add_and_refuse_with_clear_errors(client_for, place_a):
    client = client_for(Role.PLACE_ADMIN)
    response = client.post(at(place_a, "places:organisations"), {"name": "", "kind": ""})
    assert "Enter the name" in error_messages(response)
    assert AuditEvent.objects.filter(action="refused", object_type="organisation").exists()
    response = client.post(
        at(place_a, "places:organisations"), {"name": "CAMHS", "kind": "nhs_trust"}
    )
    assert response.status_code == 302
    response = client.post(at(place_a, "riskfactors:list"), {"label": "Exclusion from school"})
    assert response.status_code == 302
    body = client.get(at(place_a, "riskfactors:list")).content.decode()
    assert "Exclusion from school" in body
