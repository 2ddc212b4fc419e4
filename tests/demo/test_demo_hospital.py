"""The demo shows every part of step 7: current and past inpatients, C(E)TRs in every
state, recommendations done, open and overdue, and people approaching 18 and 25."""

from __future__ import annotations

from django.core.management import call_command

from dsr.actions.models import Action
from dsr.core import dates
from dsr.core.verify import verify
from dsr.demo import data
from dsr.hospital.models import Admission, OversightVisit
from dsr.people.models import Person
from dsr.people.transitions import transitions_for
from dsr.places.models import Place
from dsr.reviews.models import Cetr, CetrStatus


def test_the_demo_has_inpatients_past_and_present_and_reviews_in_every_state(db):
    call_command("load_demo")
    place = Place.objects.get(name=data.DEMO_PLACE)
    stays = Admission.objects.filter(place=place)
    assert stays.current().count() >= 3 and stays.exclude(discharged_on=None).count() >= 3
    assert stays.filter(out_of_area=True).exists() and stays.filter(delayed_discharge=True).exists()
    assert stays.filter(ward_type="secure").exists() and stays.filter(red_lifted_on__isnull=False)
    assert OversightVisit.objects.filter(place=place).exists()
    reviews = Cetr.objects.filter(place=place)
    assert set(reviews.values_list("status", flat=True)) == set(CetrStatus.values)
    assert set(reviews.values_list("kind", flat=True)) == {
        "community",
        "post_admission",
        "inpatient",
        "laep",
    }
    recommendations = Action.objects.filter(place=place, recommendation__isnull=False)
    assert recommendations.filter(status="done").exists()
    assert recommendations.overdue().exists()
    assert recommendations.open().filter(due_on__gte=dates.today()).exists()
    # Everyone rated Blue is in hospital
    blue = Person.objects.filter(place=place, status="open", current_rating="B")
    assert set(blue) == {s.person for s in stays.current()}
    ahead = {
        t.key
        for p in Person.objects.filter(place=place, status="open")
        for t in transitions_for(place.settings, p.date_of_birth, dates.today())
    }
    assert ahead == {"transition_18", "transition_25"}
    assert verify().intact
