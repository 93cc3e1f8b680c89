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
    rooms = {
        (layers.place_of(a).room, layers.place_of(b).room)  # type: ignore[union-attr]
        for a, b in layers.cross_room_imports(source)
    }
    return {
        "modules": len(sizes),
        "lines": sum(size for _, size in sizes),
        "largest_modules": dict(sizes[:top]),
        "modules_over_600_lines": [name for name, size in sizes if size > 600],
        "functions": len(lengths),
        "median_function_lines": lengths[len(lengths) // 2] if lengths else 0,
        f"functions_over_{LONG_FUNCTION}_lines": len(long_ones),
        "longest_functions": dict(long_ones[:top]),
        "cross_room_imports": len(layers.cross_room_imports(source)),
        "room_pairs_importing": len(rooms),
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
