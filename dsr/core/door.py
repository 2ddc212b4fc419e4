"""The audited door: the one way pages, jobs, exports and the API read care data (ADR 0009).

Each care model has a `Door` in its app's scoping module. A door answers only with what the
viewer may see (place, role, care network) and records the read in the same call:

- `door.get(viewer, pk, purpose=...)`: one record, audited `viewed`; otherwise 404, and a
  refusal at a record that exists is audited `denied`. Object rules (core/access.py) apply
  when a permission is given.
- `door.list(viewer, purpose=...)`: a queryset to filter, sort and paginate; when its rows
  are fetched, the people they concern are audited `listed` (one event for the fetch).
- `door.about(viewer, person, purpose=...)`: the records about one person already read
  through a door, audited `viewed` against that person. When that person is the very
  object the people door gave this viewer, a door with an `about_scope` applies it: the
  same rule with the person's part (their place, their care network) taken as checked.

A person is recorded once per purpose in a request, so a page composed of panels (the
person page) leaves one event, however many doors it reads through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.db import models
from django.http import Http404, HttpRequest

from dsr.core import access, audit

M = TypeVar("M", bound=models.Model)

# Every door, by model: the lint test holds care models to them (tests/core/test_door.py).
DOORS: dict[type[models.Model], Door[Any]] = {}


@dataclass
class Viewer:
    """Who is reading, in which place and role, and what this request has already recorded."""

    membership: Any  # dsr.places.models.Membership: user, place, role
    context: audit.Context
    request: HttpRequest | None = None
    # (purpose, person id), or (purpose, "Type:id") for a record about no one yet
    recorded: set[tuple[str, int | str]] = field(default_factory=set)
    # What this request has read already and will read again (panels that share a list).
    kept: dict[Any, Any] = field(default_factory=dict)
    # The people the people door gave this viewer (`Door.get`), by id: the very objects,
    # so that `Door.about` may apply a rule it has already checked (`about_scope`).
    people: dict[int, Any] = field(default_factory=dict)
    # Inside `one_event`: what the lists fetched showed, written as one event at its end.
    _batch: dict[str, Any] | None = None

    def keep(self, key: Any, read: Callable[[], Any]) -> Any:
        """`read()` once per request for `key`: two panels showing the same records (the
        current rating and the history) cost one query."""
        if key not in self.kept:
            self.kept[key] = read()
        return self.kept[key]

    @classmethod
    def of(cls, request: HttpRequest) -> Viewer:
        """The viewer of a request whose place and membership the access rule has set."""
        viewer = getattr(request, "_dsr_viewer", None)
        membership = getattr(request, "membership", None)
        if viewer is None or viewer.membership is not membership:
            viewer = cls(membership=membership, context=audit.Context.of(request), request=request)
            request._dsr_viewer = viewer  # type: ignore[attr-defined]
        return viewer

    @classmethod
    def acting_for(cls, membership: Any, *, label: str) -> Viewer:
        """A job reading on a user's behalf (their reminder digest): their scope, its label."""
        return cls(
            membership=membership,
            context=audit.Context(actor=None, place_id=membership.place_id, actor_label=label),
        )

    @contextmanager
    def one_event(self, purpose: str, *, exported: bool = False) -> Iterator[None]:
        """The lists a page fetches inside this block are recorded as one `listed` event
        naming everyone they showed (a page of six lists: one event, not six). Written when
        the block ends, before the page is sent; not written if the block fails (nothing
        was shown). Searches and single records are recorded as they happen. `exported`:
        the block builds a file to download (a meeting pack), recorded `exported`."""
        if self._batch is not None:
            yield
            return
        self._batch = {"types": set(), "people": set(), "records": []}
        try:
            yield
            batch = self._batch
        finally:
            self._batch = None
        if batch["people"] or batch["records"]:
            audit.record_listed(
                context=self.context,
                page=purpose,
                object_type="+".join(sorted(batch["types"])),
                person_ids=sorted(batch["people"]),
                place_id=self.membership.place_id,
                records=batch["records"] or None,
                exported=exported,
            )

    def shown_nothing(self) -> None:
        """Inside `one_event`: what was read goes no further (a reminder job that found
        nothing new to send), so the block writes no event, as a block that fails writes
        none."""
        if self._batch is not None:
            self._batch = {"types": set(), "people": set(), "records": []}

    def deny(self, *, reason: str, person_id: int | None, place_id: int | None) -> None:
        if self.request is not None:
            audit.record_denied(
                request=self.request, reason=reason, person_id=person_id, place_id=place_id
            )


@dataclass
class Read:
    """What a door's queryset records when its rows are fetched."""

    door: Door[Any]
    viewer: Viewer
    purpose: str
    person_id: int | None = None  # set: every row is about this person (`about`)
    terms: dict[str, Any] | None = None  # a search: recorded even when it finds no one

    def record(self, rows: Sequence[Any]) -> None:
        if rows and not isinstance(rows[0], models.Model):
            raise TypeError("Audited reads return records, not values: use a door's records")
        if self.person_id is not None:
            if rows:
                self.door.record_view(self.viewer, self.person_id, self.purpose, obj=None)
            return
        batch = self.viewer._batch
        if batch is not None and not self.terms:
            batch["types"].add(self.door.object_type)
            batch["people"].update(self.door.people_of(rows))
            if not self.door.about_people:
                batch["records"].extend(f"{self.door.object_type}:{row.pk}" for row in rows)
            return
        if not self.door.about_people:
            self._record_records(rows)
            return
        people = self.door.people_of(rows)
        fresh = [p for p in people if (self.purpose, p) not in self.viewer.recorded]
        if not fresh and not self.terms:
            return
        audit.record_listed(
            context=self.viewer.context,
            page=self.purpose,
            object_type=self.door.object_type,
            person_ids=fresh,
            place_id=self.viewer.membership.place_id,
            terms=self.terms,
        )
        self.viewer.recorded.update((self.purpose, p) for p in fresh)

    def _record_records(self, rows: Sequence[Any]) -> None:
        """Records that need not be about a person yet (a referral): the event names the
        records shown, and the people of those already linked to one."""
        seen = [(self.purpose, f"{self.door.object_type}:{row.pk}") for row in rows]
        fresh = [
            row for row, key in zip(rows, seen, strict=True) if key not in self.viewer.recorded
        ]
        if not fresh and not self.terms:
            return
        audit.record_listed(
            context=self.viewer.context,
            page=self.purpose,
            object_type=self.door.object_type,
            person_ids=self.door.people_of(fresh),
            place_id=self.viewer.membership.place_id,
            terms=self.terms,
            records=[row.pk for row in fresh],
        )
        self.viewer.recorded.update(seen)


class Door(Generic[M]):
    """Scope + audit for one care model.

    `scope(membership)` is the model's visibility rule: a queryset of everything the
    membership may see. It is the door's own; nothing else reads the model for display.
    """

    def __init__(
        self,
        model: type[M],
        *,
        scope: Callable[[Any], models.QuerySet[M]],
        person: str = "person_id",
        place: str = "place_id",
        related: Sequence[str] = (),
        about_people: bool = True,
        admit: Callable[[Viewer, Any, str], str] | None = None,
        viewers_place: bool = False,
        about_scope: Callable[[Any, Any], models.QuerySet[M]] | None = None,
        listed: Callable[[Viewer], models.Q] | None = None,
    ) -> None:
        self.model = model
        self.object_type = model.__name__
        self._scope = scope
        self._person = person
        self._place = place
        self._related = tuple(related)
        # False: a record that may not be about a person yet (a referral before triage);
        # its lists record the records shown, not only people.
        self.about_people = about_people
        # `admit(viewer, record, purpose)`: why a record in scope is still withheld from this
        # viewer for this purpose ("" when it is not): a withdrawn-consent person's pages go
        # to coordinators only (people/sharing.py).
        self._admit = admit
        # True: a record's `place` is always the viewer's (the scope says so), so `get`
        # gives it the place the viewer's membership already holds, with its settings,
        # rather than reading them again with the record.
        self._viewers_place = viewers_place
        # `about_scope(membership, person)`: the scope's rule for the records about one
        # person whom the people door has given this viewer, with what that door checked
        # (the person's place and care network) taken as read rather than joined again:
        # the same rows, one join fewer for each panel of the person page (ADR 0028).
        self._about_scope = about_scope
        # `listed(viewer)`: which records in scope a list may show this viewer (people whose
        # consent is withdrawn, to coordinators only: people/sharing.py). In the door, not
        # in each list: two lists that forgot it named restricted people (an IG review).
        self._listed = listed
        DOORS[model] = self

    def person_of(self, obj: Any) -> int | None:
        """The id of the person a record is about (`person` is a query path); None for a
        record not (yet) about anyone."""
        value = obj
        for part in self._person.split("__"):
            value = getattr(value, part)
            if value is None:
                return None
        return int(value)

    def people_of(self, rows: Sequence[Any]) -> list[int]:
        """The people some records are about, each once, in order of id."""
        return sorted({p for row in rows if (p := self.person_of(row)) is not None})

    def _scoped(self, viewer: Viewer) -> Any:
        if viewer.membership is None:
            return self.model._default_manager.none()
        return self._scope(viewer.membership)

    def within(self, membership: Any) -> Any:
        """The scope as ids, for another door's rule to build on (an agenda item about a
        referral is seen by whoever sees the referral). A subquery: it fetches no one."""
        return self._scope(membership).values("pk")

    def list(
        self,
        viewer: Viewer,
        *,
        purpose: str,
        terms: dict[str, Any] | None = None,
        unlisted_too: bool = False,
    ) -> Any:
        """Everything the viewer may see in a list, audited `listed` when rows are fetched.
        A search passes its `terms`: recorded with the people it showed, or that it found
        no one. `unlisted_too`: the records `listed` keeps from lists as well, for a caller
        that counts them without naming them (the register's "N records you cannot see")."""
        found = self._scoped(viewer)
        if self._listed is not None and not unlisted_too:
            found = found.filter(self._listed(viewer))
        return found.audited(Read(self, viewer, purpose, terms=terms))

    def about(self, viewer: Viewer, person: Any, *, purpose: str, **within: Any) -> Any:
        """The records about `person` (got through a door), audited against that person;
        `within` narrows them further (the updates of one action)."""
        found: Any
        if self._about_scope is not None and viewer.people.get(person.pk) is person:
            found = self._about_scope(viewer.membership, person)
        else:
            found = self._scoped(viewer)
        return found.filter(**{self._person: person.pk}, **within).audited(
            Read(self, viewer, purpose, person_id=person.pk)
        )

    def get(
        self,
        viewer: Viewer,
        pk: Any,
        *,
        purpose: str,
        permission: access.Permission | None = None,
    ) -> M:
        """One record the viewer may see (and, given `permission`, act on), audited `viewed`."""
        found = self._scoped(viewer).filter(pk=pk)
        if self._related or not self._viewers_place:  # no names: every required relation
            found = found.select_related(*self._related)
        obj = found.first()
        if obj is None:
            self._deny_if_exists(viewer, pk)
            raise Http404("Not found")
        if self._viewers_place and obj.place_id == viewer.membership.place_id:
            obj.place = viewer.membership.place
        if permission is not None and not access.allows(viewer.membership, permission, obj):
            viewer.deny(
                reason=f"object rule: {permission}",
                person_id=self.person_of(obj),
                place_id=viewer.membership.place_id,
            )
            raise Http404("Not found")
        withheld = self._admit(viewer, obj, purpose) if self._admit is not None else ""
        if withheld:
            viewer.deny(
                reason=withheld, person_id=self.person_of(obj), place_id=viewer.membership.place_id
            )
            raise Http404("Not found")
        self.record_view(viewer, self.person_of(obj), purpose, obj=obj)
        if self._person == "pk":  # the people door: this viewer may see this person
            viewer.people[obj.pk] = obj
        return obj

    def record_view(self, viewer: Viewer, person_id: int | None, purpose: str, *, obj: Any) -> None:
        key = (purpose, person_id if person_id is not None else f"{self.object_type}:{obj.pk}")
        if key in viewer.recorded:
            return
        audit.record_read(
            context=viewer.context,
            page=purpose,
            obj=obj,
            person_id=person_id,
            place_id=viewer.membership.place_id,
        )
        viewer.recorded.add(key)

    def _deny_if_exists(self, viewer: Viewer, pk: Any) -> None:
        # The one unscoped look-up: so that a refused attempt at a real record is audited,
        # against the place that holds it.
        try:
            found = (
                self.model._default_manager.filter(pk=pk)
                .values_list(self._person, self._place)
                .first()
            )
        except (ValueError, TypeError):
            found = None
        if found is not None:
            viewer.deny(reason="outside scope", person_id=found[0], place_id=found[1])


def of_acting_place(request: HttpRequest, records: models.QuerySet[M], pk: int) -> M:
    """A place's own administrative record (a risk factor, an organisation, a membership)
    for the place the request acts in, or 404; a refused attempt at another place's is
    audited against that place, as the door does for care records. Scope and the refusal's
    audit in one call: a place admin's look-ups wrote no refusal at all (a review)."""
    found = records.filter(pk=pk, place=request.place).first()  # type: ignore[attr-defined]
    if found is None:
        elsewhere = records.model._default_manager.filter(pk=pk).values_list("place_id").first()
        if elsewhere is not None:
            audit.record_denied(request=request, reason="outside scope", place_id=elsewhere[0])
        raise Http404("Not found")
    return found
