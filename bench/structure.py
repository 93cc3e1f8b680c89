"""The shape of the code in figures: the largest modules, long functions, imports between rooms.

    .venv/bin/python bench/structure.py [--source src] [--top 10]

Prints one JSON object.  Migrations are left out; the demo data is counted but named.
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

from thirdway import layers

LONG_FUNCTION = 40  # lines, from ``def`` to the last line of its body


def _functions(tree: ast.AST) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append((node.name, (node.end_lineno or node.lineno) - node.lineno + 1))
    return found


def _rooms_of(*modules: str) -> list[str]:
    return [layers.place_of(m).room for m in modules]  # type: ignore[union-attr]


def measure(source: Path, top: int) -> dict:
    sizes, lengths, long_ones = [], [], []
    for path in layers.python_files(source):
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(source))
        sizes.append((name, text.count("\n")))
        for function, length in _functions(ast.parse(text)):
            lengths.append(length)
            if length > LONG_FUNCTION:
                long_ones.append((f"{name}:{function}", length))
    sizes.sort(key=lambda item: -item[1])
    lengths.sort()
    long_ones.sort(key=lambda item: -item[1])
    pairs = layers.cross_room_imports(source)
    rooms = {
        (layers.place_of(a).room, layers.place_of(b).room)  # type: ignore[union-attr]
        for a, b in pairs
    }
    # Imports of what every room shares (errors, access, weekly hours...) and by the top floor
    # are by design; the rest is one domain room reaching into another.
    shared = {"top", "foundation", "pure"}
    between_rooms = {(a, b) for a, b in pairs if not {*_rooms_of(a, b)} & shared}
    return {
        "modules": len(sizes),
        "lines": sum(size for _, size in sizes),
        "largest_modules": dict(sizes[:top]),
        "modules_over_600_lines": [name for name, size in sizes if size > 600],
        "functions": len(lengths),
        "median_function_lines": lengths[len(lengths) // 2] if lengths else 0,
        f"functions_over_{LONG_FUNCTION}_lines": len(long_ones),
        "longest_functions": dict(long_ones[:top]),
        "cross_room_imports": len(pairs),
        "cross_room_imports_between_domain_rooms": len(between_rooms),
        "room_pairs_importing": len(rooms),
        "domain_room_pairs_importing": len({tuple(_rooms_of(a, b)) for a, b in between_rooms}),
        "layering_violations": len(layers.violations(source)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path(__file__).parents[1] / "src")
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    print(json.dumps(measure(args.source.resolve(), args.top), indent=2))


if __name__ == "__main__":
    main()
