"""Benchmark: split invoice lines between partners with the pure engine (no database).

Run from the repository root:

    .venv/bin/python bench/billing_split.py [--lines N] [--seed S]

Prints one JSON object: ``seconds`` (wall clock) and ``cpu_seconds`` for splitting every line,
``lines_per_second``, and ``checked``: every split summed to its line to the cent.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

try:
    from thirdway.billing import engine
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from thirdway.billing import engine

RULES = engine.SplitRules(
    "Bench",
    origination=Decimal(20),
    delivery=Decimal(60),
    pool=Decimal(10),
    network=Decimal(5),
    desk_fee=Decimal(3),
    referral=Decimal(2),
    fade_years=5,
)


def lines(count: int, seed: int) -> list[engine.LineFacts]:
    draw = random.Random(seed)
    partners = [str(n) for n in range(1, 2001)]
    made = []
    for _ in range(count):
        resolved = draw.randint(0, 12)
        made.append(
            engine.LineFacts(
                net=Decimal(draw.randint(0, 500_000)).scaleb(-2),
                originator=draw.choice(partners),
                years_since_origination=draw.randint(0, 8),
                referrer=draw.choice([None, draw.choice(partners)]),
                delivery={draw.choice(partners): draw.randint(1, 600) for _ in range(3)},
                tickets_resolved=resolved,
                desk_resolved=draw.randint(0, resolved),
            )
        )
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    facts = lines(options.lines, options.seed)
    wall, cpu = time.perf_counter(), time.process_time()
    splits = [engine.split_line(RULES, line) for line in facts]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    checked = all(
        sum((share.amount for share in split), Decimal(0)) == line.net
        for split, line in zip(splits, facts, strict=True)
    )
    print(
        json.dumps(
            {
                "lines": options.lines,
                "seconds": round(wall, 3),
                "cpu_seconds": round(cpu, 3),
                "lines_per_second": round(options.lines / wall),
                "checked": checked,
            }
        )
    )


if __name__ == "__main__":
    main()
