"""Layers read one way (ADR 0011): every import points down, so a rating's path runs
register -> risk -> actions -> people -> places -> core and never climbs back. Hospital
and C(E)TRs (reviews) sit above risk: an admission rates, risk never asks them (ADR 0022)."""

from __future__ import annotations

import ast
from pathlib import Path

DSR = Path(__file__).resolve().parents[1] / "dsr"
# Lowest first. An app may import those below it, never one beside or above it.
LAYERS = [
    {"core"},
    {"accounts"},
    {"places"},
    {"people"},
    {"actions", "consent"},
    {"risk"},
    {"keywork"},
    {"hospital"},
    {"reviews"},
    {"register", "work"},
    {"referrals"},
    {"meetings"},
    {"demo", "config"},
]


def rank(app: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if app in layer)


def imported_apps(path: Path) -> set[str]:
    apps = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "dsr" and len(parts) > 1:
                apps.add(parts[1])
    return apps


def test_every_app_has_a_layer():
    apps = {p.name for p in DSR.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert apps == set().union(*LAYERS)


def test_every_import_points_down():
    upward = []
    for path in DSR.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        app = path.relative_to(DSR).parts[0]
        for other in imported_apps(path) - {app}:
            if rank(other) >= rank(app):
                upward.append(f"{path.relative_to(DSR)} imports dsr.{other}")
    assert upward == []
