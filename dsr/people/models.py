"""The person on the register: identity, circumstances and what keeps them safe."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Q

from dsr.core import dates
from dsr.core.models import Versioned
from dsr.people.choices import (
    Accommodation,
    Attendance,
    Autism,
    ClosureReason,
    EHCPlan,
    Ethnicity,
    LearningDisability,
    Status,
)


class PersonQuerySet(models.QuerySet["Person"]):
    def in_place(self, place: object) -> PersonQuerySet:
        return self.filter(place=place)

    def open(self) -> PersonQuerySet:
        return self.filter(status=Status.OPEN)


class Person(Versioned):
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="people")

    # Identity
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    nhs_number = models.CharField("NHS number", max_length=10, blank=True, db_index=True)
    ethnicity = models.CharField(
        max_length=2, choices=Ethnicity.choices, default=Ethnicity.NOT_KNOWN
    )
    address = models.TextField(max_length=500, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    local_authority = models.CharField(max_length=100, blank=True)
    gp_practice = models.CharField("GP practice", max_length=150, blank=True)

    # Circumstances
    accommodation = models.CharField(max_length=32, choices=Accommodation.choices)
    learning_disability = models.CharField(max_length=12, choices=LearningDisability.choices)
    autism = models.CharField(max_length=12, choices=Autism.choices)
    diagnosis_notes = models.TextField(max_length=2000, blank=True)
    education_setting = models.CharField(max_length=150, blank=True)
    education_attendance = models.CharField(max_length=20, choices=Attendance.choices, blank=True)
    ehc_plan = models.CharField(
        "EHC plan", max_length=16, choices=EHCPlan.choices, default=EHCPlan.NO
    )
    looked_after = models.BooleanField("Looked-after child", default=False)
    child_protection_plan = models.BooleanField(default=False)
    child_in_need = models.BooleanField(default=False)
    communication_needs = models.TextField(max_length=2000, blank=True)
    key_safety_information = models.TextField(max_length=4000, blank=True)

    # The current risk picture, kept by dsr.risk's services in the same transaction as the
    # rating, review or event that changes it, so the register can filter and sort on it
    # without a query per row (ADR 0007). The history lives in dsr.risk.
    current_rating = models.CharField(max_length=1, blank=True, db_index=True)
    rated_on = models.DateField(null=True, blank=True)
    review_due = models.DateField(null=True, blank=True)
    review_now = models.BooleanField(default=False)

    # On or off the register: closed, never deleted (DOMAIN.md "Leaving the register")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    closed_on = models.DateField(null=True, blank=True)
    closure_reason = models.CharField(max_length=24, choices=ClosureReason.choices, blank=True)
    closure_note = models.TextField(max_length=2000, blank=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["nhs_number"],
                condition=Q(status="open") & ~Q(nhs_number=""),
                name="one_open_record_per_nhs_number",
            ),
        ]
        indexes = [
            models.Index(
                fields=["place", "status", "family_name", "given_name"], name="person_register_idx"
            ),
            models.Index(fields=["place", "date_of_birth"], name="person_dob_idx"),
            models.Index(fields=["place", "status", "review_due"], name="person_review_due_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN

    def age_on(self, day: date) -> int:
        return dates.age_on(self.date_of_birth, day)

    @property
    def age(self) -> int:
        return self.age_on(dates.today())
