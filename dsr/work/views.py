from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from dsr.core.access import Permission, requires
from dsr.core.door import Viewer
from dsr.work.registry import work_for


@requires(Permission.VIEW_MY_WORK)
@require_safe
def my_work(request: HttpRequest) -> HttpResponse:
    """The user's work in this place; each provider reads (and so audits) through a door."""
    return render(request, "work/my_work.jinja", {"groups": work_for(Viewer.of(request))})
