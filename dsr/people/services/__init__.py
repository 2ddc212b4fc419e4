"""Business operations on the person record, their care network and circumstances
(DESIGN.md principle 3): `from dsr.people import services as people`, then
`people.create_person(...)`, `people.add_network_member(...)`.

Each service validates everything it is given (a form is not its only caller), works from
the row it locks, and derives what changed from that row, never from the object passed in.
"""

from dsr.people.services import care_network, circumstance, record
from dsr.people.services.care_network import (
    ENDING_GUARDS,
    LEAD_TAKEN,
    add_network_member,
    current_professionals,
    end_network_member,
    linkable_partners,
    network_users,
    register_ending_guard,
    update_network_member,
)
from dsr.people.services.circumstance import record_circumstance
from dsr.people.services.record import (
    CLOSED_RECORD,
    EARLIEST_RECORD,
    EDITABLE_FIELDS,
    NAME_FIELDS,
    NHS_NUMBER_LOCKED,
    NHS_NUMBER_TAKEN_HERE,
    ON_ANOTHER_REGISTER,
    Duplicates,
    check_age_in_range,
    close_record,
    create_person,
    find_duplicates,
    keep_consent_picture,
    keep_risk_picture,
    lock,
    lock_open,
    may_match_across_places,
    register_dated_records,
    reopen_record,
    update_person,
)

__all__ = [
    "care_network",
    "circumstance",
    "record",
    "CLOSED_RECORD",
    "EARLIEST_RECORD",
    "EDITABLE_FIELDS",
    "ENDING_GUARDS",
    "LEAD_TAKEN",
    "NAME_FIELDS",
    "NHS_NUMBER_LOCKED",
    "NHS_NUMBER_TAKEN_HERE",
    "ON_ANOTHER_REGISTER",
    "Duplicates",
    "add_network_member",
    "check_age_in_range",
    "close_record",
    "create_person",
    "current_professionals",
    "end_network_member",
    "find_duplicates",
    "keep_consent_picture",
    "keep_risk_picture",
    "linkable_partners",
    "lock",
    "lock_open",
    "may_match_across_places",
    "network_users",
    "record_circumstance",
    "register_dated_records",
    "register_ending_guard",
    "reopen_record",
    "update_network_member",
    "update_person",
]
