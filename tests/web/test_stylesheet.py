"""The stylesheet every page loads: a brace left open swallows every rule after it."""

from __future__ import annotations

from pathlib import Path

import thirdway

STYLESHEET = Path(thirdway.__file__).parent / "web" / "static" / "web" / "thirdway.css"


def test_every_block_of_the_stylesheet_is_closed_where_it_opened():
    depth, opened = 0, []
    text = STYLESHEET.read_text()
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("/*") and depth:
            # A room's section starts at the top level: the block above it must be closed.
            raise AssertionError(
                f"line {number} starts a section inside the block of line {opened[-1]}"
            )
        for char in line:
            if char == "{":
                depth += 1
                opened.append(number)
            elif char == "}":
                assert depth, f"line {number} closes a block that was never opened"
                depth -= 1
                opened.pop()
    assert opened == [], f"blocks opened on lines {opened} are never closed"
