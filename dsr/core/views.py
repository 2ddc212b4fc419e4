"""The NHS-style error pages, and the health check for load balancers."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from dsr.core.access import public

# Once every migration is applied it stays applied until the next deploy restarts us.
_migrated = False


def _migrations_applied() -> bool:
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connection)
        _migrated = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrated


@public
@require_safe
def health(request: HttpRequest) -> HttpResponse:
    """200 when this server can serve: its database answers and every migration is
    applied; 503 otherwise, saying which. No session, no audit, no care data."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = True
        migrated = _migrations_applied()
    except DatabaseError:
        database = migrated = False
    healthy = database and migrated
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": "ok" if database else "unreachable",
        "migrations": "applied" if migrated else ("pending" if database else "unknown"),
    }
    return JsonResponse(body, status=200 if healthy else 503)


def _error_page(
    request: HttpRequest, template: str, status: int, context: dict[str, Any] | None = None
) -> HttpResponse:
    """An error page in the full layout, or, if the database fails while it renders (the
    layout's navigation reads it for a signed-in user), the same page without the layout
    (errors/bare.jinja): the page that says what went wrong must not itself fail. Without the
    layout too for a request refused before its user was known."""
    context = context or {}
    if not hasattr(request, "user"):  # refused before sign-in is read (a bad Host header)
        return render(request, template, {**context, "bare": True}, status=status)
    try:
        return render(request, template, context, status=status)
    except DatabaseError:
        return render(request, template, {**context, "bare": True}, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, "errors/404.jinja", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Never the layout: the database may be what failed (errors/bare.jinja).
    return render(request, "errors/500.jinja", {}, status=500)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, "errors/403.jinja", 403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, "errors/400.jinja", 400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error_page(request, "errors/403.jinja", 403, {"csrf": True})
