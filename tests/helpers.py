"""Reading what a user would see on a page."""

from __future__ import annotations

import html
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext


def register_count(response) -> int:
    """The total the register list shows ("<strong>N</strong> people")."""
    match = re.search(
        r'id="result-count"[^>]*>\s*<strong>(\d+)</strong>', response.content.decode()
    )
    assert match, "no result count on the page"
    return int(match.group(1))


def error_messages(response) -> list[str]:
    """The texts in the NHS error summary."""
    body = response.content.decode()
    summary = re.search(r'class="nhsuk-error-summary".*?</div>\s*</div>', body, re.S)
    if not summary:
        return []
    found = re.findall(r"<a [^>]*>(.*?)</a>|<li>(?!<a)(.*?)</li>", summary.group(0), re.S)
    return [
        html.unescape(re.sub(r"\s+", " ", text).strip()) for pair in found for text in pair if text
    ]


def count_queries(func) -> int:
    with CaptureQueriesContext(connection) as captured:
        func()
    return len(captured.captured_queries)
