"""A tracker meeting's pack and minutes: a printable page and a Word document each
(issue 11, part 4).

Each builds its contents through the doors in one audited read (meetings/pack.py: one
`exported` event naming everyone in it), then draws the page or the document from them.
A pack exists once the agenda has been prepared, minutes once the meeting has finished:
before then the page says so (404, nothing read) and the document is not found.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from dsr.core import collector
from dsr.core.access import Permission, requires
from dsr.core.door import Viewer
from dsr.meetings import pack, word
from dsr.meetings.models import Meeting
from dsr.meetings.scoping import get_meeting

NOT_YET = {
    pack.PACK: "The pack is ready once the agenda has been prepared.",
    pack.MINUTES: "The minutes are ready once the meeting has finished.",
}
Build = Callable[..., pack.Pack]


def _page(request: HttpRequest, meeting_id: int, kind: str) -> HttpResponse:
    viewer = Viewer.of(request)
    meeting = get_meeting(viewer, meeting_id)
    ready, build = _kind(kind)
    if not ready(meeting):
        return render(
            request,
            "meetings/_pack_not_ready.jinja",
            {"meeting": meeting, "kind": kind, "message": NOT_YET[kind]},
            status=404,
        )
    part = pack.printable_part(viewer, meeting, request.GET.get("page"))
    built = build(viewer, meeting, purpose=f"meeting {kind} (printable page)", part=part)
    return render(
        request, f"meetings/{kind}.jinja", {"meeting": meeting, "pack": built, "part": part}
    )


def _document(request: HttpRequest, meeting_id: int, kind: str) -> HttpResponse:
    viewer = Viewer.of(request)
    meeting = get_meeting(viewer, meeting_id)
    ready, build = _kind(kind)
    if not ready(meeting):
        raise Http404(NOT_YET[kind])
    # Thousands of objects that live until the document is written: the cycle collector
    # would walk them over and over (core/collector.py).
    with collector.held_off():
        built = build(viewer, meeting, purpose=f"meeting {kind} (Word)")
        # The document is drawn after the audited read has ended: no file I/O inside it.
        return word.response(built)


def _kind(kind: str) -> tuple[Callable[[Meeting], bool], Build]:
    if kind == pack.MINUTES:
        return pack.minutes_ready, pack.build_minutes
    return pack.pack_ready, pack.build_pack


@requires(Permission.VIEW_MEETINGS)
@require_safe
def pack_page(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _page(request, meeting_id, pack.PACK)


@requires(Permission.VIEW_MEETINGS)
@require_safe
def pack_docx(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _document(request, meeting_id, pack.PACK)


@requires(Permission.VIEW_MEETINGS)
@require_safe
def minutes_page(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _page(request, meeting_id, pack.MINUTES)


@requires(Permission.VIEW_MEETINGS)
@require_safe
def minutes_docx(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _document(request, meeting_id, pack.MINUTES)
