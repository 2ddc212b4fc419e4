"""What changing the meeting look-ahead affects, said before it is saved (ADR 0015)."""

from __future__ import annotations

from dsr.places.impact import Change, register_impact


def lookahead(change: Change) -> list[str]:
    return [
        f"Agendas prepared from now on take in reviews and C(E)TRs falling due up to "
        f"{change.new} days after the meeting (now {change.old}). Agendas already prepared "
        "stay as they are until they are brought up to date; a meeting that has started "
        "keeps its agenda."
    ]


def register_impacts() -> None:
    register_impact("meeting_lookahead_days", estimator=lookahead)
