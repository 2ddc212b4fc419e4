"""`field__any_of=[...]`: membership in a long list as one parameter (ADR 0040).

`field__in` writes one placeholder a value. For a Word pack's 1,550 people that is a
statement of thousands of characters, compiled by Django and then split again by the
driver on every request, too long for either to keep. On PostgreSQL `any_of` writes
`field = ANY(%s::type[])` with the list as one array; elsewhere it is `IN`, as it was.
Same rows either way (tests/core/test_lookups.py).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field, ForeignObject
from django.db.models.lookups import In


class AnyOf(In):
    lookup_name = "any_of"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        if connection.vendor != "postgresql" or not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)  # elsewhere, or a subquery: IN
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [
            field.get_db_prep_value(value, connection, prepared=True)
            for value in self.rhs
            if value is not None  # as IN: NULL is never a member
        ]
        return f"{lhs} = ANY(%s::{field.db_type(connection)}[])", [*lhs_params, values]


def register() -> None:
    """For every field, and for foreign keys by their ids (a relation takes none of Field's
    own lookups: Django lists them apart)."""
    Field.register_lookup(AnyOf)
    ForeignObject.register_lookup(AnyOf)
