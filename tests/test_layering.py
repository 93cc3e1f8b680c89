"""The floors hold: no room imports one above or beside it, and the engines import no Django."""

from __future__ import annotations

from pathlib import Path

from thirdway import layers

SOURCE = Path(__file__).resolve().parents[1] / "src"


def test_no_module_imports_a_room_above_or_beside_its_own() -> None:
    found = layers.violations(SOURCE)
    assert found == [], "imports against the floors of docs/architecture.md:\n" + "\n".join(found)


def test_every_room_and_top_level_module_stands_on_a_floor() -> None:
    package = SOURCE / layers.PACKAGE
    names = [p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    names += [p.stem for p in package.glob("*.py") if p.stem != "__init__"]
    lost = [name for name in names if not layers.place_of(f"thirdway.{name}").known]
    assert lost == []


def _plant(root: Path, module: str, text: str) -> None:
    path = root.joinpath(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    for folder in [path.parent, *path.parent.parents]:
        if folder == root:
            break
        (folder / "__init__.py").touch()
    path.write_text(text)


def test_it_reports_upward_sideways_and_impure_imports(tmp_path: Path) -> None:
    _plant(tmp_path, "thirdway.tickets.models", "from thirdway.portal import views\n")
    _plant(tmp_path, "thirdway.vault.services", "def f():\n    from thirdway.billing import x\n")
    _plant(tmp_path, "thirdway.sla.engine.clocks", "from django.db import models\n")
    _plant(tmp_path, "thirdway.dispatch.engine", "from thirdway.dispatch.models import Policy\n")
    _plant(tmp_path, "thirdway.weekly_hours", "from .sla import engine\n")

    found = layers.violations(tmp_path)

    assert [line.split(": ", 1)[1] for line in found] == [
        "thirdway.dispatch.engine: a pure module imports thirdway.dispatch.models, "
        "which is not pure",
        "thirdway.sla.engine.clocks: a pure module imports Django",
        "thirdway.tickets.models: upward: tickets imports portal (thirdway.portal.views)",
        "thirdway.vault.services: sideways: vault imports billing (thirdway.billing.x)",
        "thirdway.weekly_hours: upward: pure imports sla (thirdway.sla.engine)",
    ]


def test_downward_imports_and_a_rooms_own_modules_pass(tmp_path: Path) -> None:
    _plant(tmp_path, "thirdway.portal.views", "from thirdway.tickets import services\n")
    _plant(tmp_path, "thirdway.tickets.services", "from . import models\nimport thirdway.sla\n")
    _plant(tmp_path, "thirdway.dispatch.scenario", "from thirdway.sla.engine import clocks\n")
    _plant(tmp_path, "thirdway.network.places", "from thirdway import weekly_hours, distance\n")

    assert layers.violations(tmp_path) == []
