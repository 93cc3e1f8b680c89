"""The floors of the house: which module may import which (see docs/architecture.md).

A room imports only rooms on lower floors: never one above, never one beside it.  The pure
modules (the engines that decide, and what they share) import no Django and nothing of ours but
lower pure modules, so the simulator and the benchmarks run them without a database.

The test suite reads every module's imports with :mod:`ast` and holds them to these rules
(``tests/test_layering.py``); ``bench/structure.py`` reports the same figures.  This module
imports nothing of ours and no Django.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "thirdway"

# Rooms, from the top floor down.  Modules of one room may import each other freely.
FLOORS: tuple[tuple[str, ...], ...] = (
    # the top: the command, the settings and the URL map gather every room
    ("top",),
    ("portal", "mail", "insights"),
    # the sales pipeline: a won deal makes a client, a draft contract and an onboarding run
    ("sales",),
    ("monitoring", "playbooks", "billing", "vault"),
    ("tickets",),
    ("dispatch",),
    ("sla",),
    ("clients",),
    ("network",),
    ("clock", "backup"),
    ("accounts",),
    ("audit", "web"),
    # modules of the whole project that import Django but nothing of ours
    ("foundation",),
)
# Top-level modules and the room each belongs to.
TOP_LEVEL = {
    "cli": "top",
    "__main__": "top",
    "api": "top",
    "urls": "top",
    "views": "top",
    "demo": "top",
    "demo_rooms": "top",
    "settings": "top",
    "wsgi": "top",
    "gunicorn_config": "top",
    "environment": "foundation",
    "configcache": "foundation",
    "taskwake": "foundation",
    "children": "foundation",
    "health": "foundation",
    "errors": "foundation",
    "access": "foundation",
    "payloads": "foundation",
    "keyset": "foundation",
    "pdf_document": "foundation",
}
# Pure modules, from the top of the pure floor down: each prefix names a module or a package.
# They import no Django, and of ours only pure modules on a lower pure floor (or their own room's).
PURE_FLOORS: tuple[tuple[str, ...], ...] = (
    (
        "dispatch.engine",
        "dispatch.optimiser",
        "dispatch.simulator",
        "dispatch.sim_partners",
        "dispatch.policies",
        "dispatch.scenario",
        "dispatch.drawing",
        "dispatch.bound",
        "dispatch.bound_relaxed",
        "dispatch.realism",
        "dispatch.storms",
        "dispatch.storm_desk",
        # the vault's envelope encryption, one-time codes, Markdown and reminder steps
        "vault.crypto",
        "vault.otp",
        "vault.markdown",
        "vault.reminders",
        "vault.templates_library",
        # the playbooks' step rules, conditions and sub-playbooks, recurrence rules, built-ins
        "playbooks.engine",
        "playbooks.branching",
        "playbooks.recurrence",
        "playbooks.library",
    ),
    (
        "monitoring.engine",
        "insights.figures",
        "insights.client_reports",
        "insights.report_advice",
    ),
    ("sla.engine", "tickets.lifecycle", "billing.engine", "billing.row_arrays"),
    # supervisor: the parent of ``thirdway serve``, held to the standard library
    ("weekly_hours", "distance", "layers", "supervisor"),
)


@dataclass(frozen=True)
class Place:
    """Where a module stands: its room and its floor (higher numbers are higher floors)."""

    room: str
    floor: int
    pure: bool
    known: bool = True


@dataclass(frozen=True)
class Import:
    """One import of one module by another, as written in ``line`` of ``path``."""

    importer: str
    imported: str
    path: str
    line: int


def place_of(module: str) -> Place | None:
    """The place of a module of ours (``thirdway.tickets.models``), or None if not ours."""
    parts = module.split(".")
    if parts[0] != PACKAGE or len(parts) < 2:
        return None
    inner = ".".join(parts[1:])
    for depth, prefixes in enumerate(PURE_FLOORS):
        for prefix in prefixes:
            if inner == prefix or inner.startswith(prefix + "."):
                # a room's engine belongs to its room; a top-level pure module to none
                room = parts[1] if "." in prefix else "pure"
                return Place(room=room, floor=-1 - depth, pure=True)
    room = TOP_LEVEL.get(parts[1], parts[1])
    for depth, rooms in enumerate(FLOORS):
        if room in rooms:
            return Place(room=room, floor=len(FLOORS) - depth, pure=False)
    return Place(room=room, floor=0, pure=False, known=False)


def module_name(path: Path, source_root: Path) -> str:
    parts = list(path.relative_to(source_root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, source_root: Path) -> Iterator[Import]:
    """Every import in a file, at the top or inside functions, relative ones resolved."""
    importer = module_name(path, source_root)
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(importer, alias.name, str(path), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # ``from thirdway import configcache`` imports the module thirdway.configcache
                name = f"{base}.{alias.name}" if base in (PACKAGE, *_packages(base)) else base
                yield Import(importer, name, str(path), node.lineno)


def _packages(base: str) -> tuple[str, ...]:
    """``from thirdway.sla import engine``: a room's package, whose names are its modules."""
    parts = base.split(".")
    return (base,) if parts[0] == PACKAGE and len(parts) == 2 else ()


def python_files(source_root: Path) -> Iterator[Path]:
    for path in sorted((source_root / PACKAGE).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def problem(found: Import) -> str | None:
    """What is wrong with one import, in words, or None."""
    importer = place_of(found.importer)
    if importer is None:
        return None
    if importer.pure and found.imported.split(".")[0] == "django":
        return "a pure module imports Django"
    imported = place_of(found.imported)
    if imported is None:
        return None
    for place in (importer, imported):
        if not place.known:
            return f"{place.room} is on no floor: add it to thirdway.layers"
    if importer.pure and not imported.pure:
        return f"a pure module imports {found.imported}, which is not pure"
    if importer.room == imported.room and (imported.pure or not importer.pure):
        return None
    if imported.floor < importer.floor:
        return None
    way = "sideways" if imported.floor == importer.floor else "upward"
    return f"{way}: {importer.room} imports {imported.room} ({found.imported})"


def violations(source_root: Path) -> list[str]:
    """Every import against the floors, one line each: ``path:line: importer → what is wrong``."""
    lines: dict[str, None] = {}  # in order, each once
    for path in python_files(source_root):
        for found in imports_of(path, source_root):
            what = problem(found)
            if what is not None:
                lines[f"{found.path}:{found.line}: {found.importer}: {what}"] = None
    return list(lines)


def cross_room_imports(source_root: Path) -> set[tuple[str, str]]:
    """(importing module, imported module) pairs between two different rooms."""
    pairs = set()
    for path in python_files(source_root):
        for found in imports_of(path, source_root):
            mine, theirs = place_of(found.importer), place_of(found.imported)
            if mine and theirs and mine.room != theirs.room:
                pairs.add((found.importer, found.imported))
    return pairs
