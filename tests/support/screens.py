"""Screens of a page at desktop and phone widths, and the check that nothing sticks out
sideways on the phone.  They go to ``$THIRDWAY_SCREENSHOTS`` when set (to look at them),
else to the test's own temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

from support.browser import DESKTOP, PHONE, fits


def shoot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("THIRDWAY_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(folder / f"{name}-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(folder / f"{name}-390.png"), full_page=True)
    assert fits(page), f"{name} sticks out sideways on a phone"
    page.set_viewport_size(DESKTOP)
