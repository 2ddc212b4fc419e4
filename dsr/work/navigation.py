"""The navigation's "My work (N)": counted at most once a minute per user and place.

Counting every provider is one query (registry.work_count), but on the bench's national
data that query costs more than the rest of a page's SQL together (about 16 ms of a person
page's 28 ms: thirteen counts over the place's work). It is shown on every page, so the
count is kept in the user's session for WORK_COUNT_SECONDS, and dropped whenever the user
sends a form (FreshCountMiddleware), so their own work moves the count at once; other
people's work shows within the minute. The My work page itself always lists afresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from dsr.core.door import Viewer
from dsr.work.registry import work_count

KEY = "dsr_work_count"


def navigation_count(request: Any) -> int:
    """The count for this request's place: kept for a minute, counted once per request."""
    if hasattr(request, "_work_count"):
        return int(request._work_count)
    place = str(request.membership.place_id)
    kept = request.session.get(KEY) or {}
    now = time.time()
    if place in kept and now - kept[place][1] < settings.WORK_COUNT_SECONDS:
        count = int(kept[place][0])
    else:
        count = work_count(Viewer.of(request))
        request.session[KEY] = {**kept, place: [count, now]}
    request._work_count = count
    return count


class FreshCountMiddleware:
    """A form sent may change the user's work: their next page counts it afresh."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and KEY in request.session:
            del request.session[KEY]
        return self.get_response(request)
