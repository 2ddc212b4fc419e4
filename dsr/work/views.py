from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dsr.core import audit
from dsr.core.access import Permission, requires
from dsr.work.registry import work_for


@requires(Permission.VIEW_MY_WORK)
def my_work(request: HttpRequest) -> HttpResponse:
    groups = work_for(request.membership)  # type: ignore[attr-defined]
    audit.record_read(context=audit.Context.of(request), page="my work")
    return render(request, "work/my_work.jinja", {"groups": groups})
