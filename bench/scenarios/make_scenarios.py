"""Write the simulator's scenario sets: small, medium and large, at several loads.

    .venv/bin/python bench/scenarios/make_scenarios.py [--out bench/scenarios] [--large]

Small and medium files are committed; the large ones (2,000 partners, about 200,000 tickets)
are a few hundred kB each, so they are written only with ``--large`` (bench/simulate.py does
that itself when asked for the large set).

Load is the expected work of the arrivals over the partners' shift hours in the horizon
(on-call cover is extra). Arrival rates follow a weekly profile: busy on weekday office
hours, quiet at night and at weekends. Everything is drawn from a fixed seed per scenario.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2025, 3, 10, 0, 0, tzinfo=UTC)  # a Monday; London is on UTC until 30 March
PRACTICES = ("security", "networking", "cloud", "backup", "endpoint", "voip", "printing", "erp")
PRIORITY_SHARE = {"P1": 0.05, "P2": 0.2, "P3": 0.5, "P4": 0.25}
MEDIAN_MINUTES = {"P1": 45, "P2": 60, "P3": 60, "P4": 40}
SIGMA = 0.6
ONSITE_SHARE = {"P1": 0.1, "P2": 0.2, "P3": 0.25, "P4": 0.1}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OFFICE = ("mon", "tue", "wed", "thu", "fri")
SHIFTS = (  # (days, start, end, share of partners)
    (OFFICE, "09:00", "17:00", 0.55),
    (OFFICE, "07:00", "15:00", 0.15),
    (OFFICE, "12:00", "20:00", 0.15),
    (("wed", "thu", "fri", "sat", "sun"), "09:00", "17:00", 0.15),
)
REGIONS = {"Europe/London": (51.5, -0.12), "Europe/Berlin": (52.52, 13.4)}
SIZES = {
    # name: partners, clients, practices, horizon days, drain days, regions, loads
    "small": (8, 6, 2, 5, 3, ("Europe/London",), (60, 85, 95)),
    "medium": (60, 40, 4, 14, 4, ("Europe/London",), (60, 85, 95)),
    "large": (2000, 1500, 8, 21, 4, ("Europe/London", "Europe/Berlin"), (85,)),
}
SLA = {
    "P1": {"response_hours": 1, "resolution_hours": 4},
    "P2": {"response_hours": 2, "resolution_hours": 8, "hours": "office"},
    "P3": {"response_hours": 4, "resolution_hours": 16, "hours": "office"},
    "P4": {"response_hours": 8, "resolution_hours": 40, "hours": "office"},
}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def profile() -> list[float]:
    """Relative arrivals per hour of the week: office hours 1, evenings 0.3, night and
    weekend 0.1."""
    out = []
    for day in range(7):
        for hour in range(24):
            if day < 5 and 8 <= hour < 18:
                out.append(1.0)
            elif day < 5 and 18 <= hour < 22:
                out.append(0.3)
            else:
                out.append(0.1)
    return out


def shift_hours(days: tuple, begin: str, end: str) -> float:
    hours = int(end[:2]) - int(begin[:2])
    return hours * len(days)


def make_partners(
    rng: random.Random, count: int, practices: tuple, zones: tuple, end: datetime
) -> list[dict]:
    partners = []
    for i in range(count):
        zone = zones[i % len(zones)]
        lat, lon = REGIONS[zone]
        days, begin, finish, _ = rng.choices(SHIFTS, [s[3] for s in SHIFTS])[0]
        kind = "desk" if i % 12 == 5 else "partner"
        skills = {
            p: rng.randint(2, 5)
            for p in rng.sample(practices, min(len(practices), rng.randint(1, 3)))
        }
        partner = {
            "id": i + 1,
            "name": f"Partner {i + 1}",
            "kind": kind,
            "skills": skills,
            "home": {
                "lat": round(lat + rng.gauss(0, 0.15), 4),
                "lon": round(lon + rng.gauss(0, 0.25), 4),
            },
            "radius_km": rng.choice((25, 40, 60)),
            "zone": zone,
            "hours": {d: [[begin, finish]] for d in days},
            "capacity": rng.randint(4, 8),
        }
        if rng.random() < 0.06:
            first = START + timedelta(days=rng.randint(0, 10))
            partner["absences"] = [
                {"start": iso(first), "end": iso(first + timedelta(days=rng.randint(1, 4)))}
            ]
        partners.append(partner)
    # Nightly and weekend on-call: a rota of about one partner in eight per practice.
    for practice in practices:
        team = [p for p in partners if p["skills"].get(practice, 0) >= 3]
        rota = team[: max(1, len(team) // 8)]
        day = START
        k = 0
        while day < end:
            partner = rota[k % len(rota)]
            partner.setdefault("on_call", []).append(
                {"start": iso(day + timedelta(hours=17)), "end": iso(day + timedelta(hours=33))}
            )
            day += timedelta(days=1)
            k += 1
    return partners


def make_scenario(size: str, load: int) -> dict:
    count, n_clients, n_practices, horizon, drain, zones, _ = SIZES[size]
    rng = random.Random(f"{size}-{load}")
    practices = PRACTICES[:n_practices]
    end = START + timedelta(days=horizon + drain)
    partners = make_partners(rng, count, practices, zones, end)
    clients = []
    for i in range(n_clients):
        zone = zones[i % len(zones)]
        lat, lon = REGIONS[zone]
        sites = [
            {"lat": round(lat + rng.gauss(0, 0.12), 4), "lon": round(lon + rng.gauss(0, 0.2), 4)}
            for _ in range(rng.randint(1, 2))
        ]
        client = {"id": f"c{i + 1}", "zone": zone, "sites": sites}
        if rng.random() < 0.7:
            client["lead_partner"] = rng.choice(partners)["id"]
        clients.append(client)
    # Work per week the partners' shifts offer, per practice in proportion to who has it.
    weekly_hours = sum(
        shift_hours(tuple(p["hours"]), *next(iter(p["hours"].values()))[0]) for p in partners
    )
    holders = {pr: sum(pr in p["skills"] for p in partners) for pr in practices}
    shape = profile()
    arrivals = []
    for practice in practices:
        share = holders[practice] / sum(holders.values())
        for priority, pshare in PRIORITY_SHARE.items():
            mean_h = MEDIAN_MINUTES[priority] * math.exp(SIGMA**2 / 2) / 60
            per_week = load / 100 * weekly_hours * share * pshare / mean_h
            # Mean work is over all priorities, so scale each stream by its own mean.
            rates = [round(per_week * f / sum(shape), 5) for f in shape]
            arrivals.append(
                {
                    "practice": practice,
                    "priority": priority,
                    "per_hour": rates,
                    "onsite_share": ONSITE_SHARE[priority],
                    "levels": [0.25, 0.3, 0.3, 0.15, 0.0],
                    "desk_share": 0.4 if priority == "P4" else 0.0,
                }
            )
    office = {d: [["08:00", "18:00"]] for d in OFFICE}
    sla = {}
    for priority, policy in SLA.items():
        item = {k: v for k, v in policy.items() if k != "hours"}
        if policy.get("hours") == "office":
            item["hours"] = office
        sla[priority] = item
    return {
        "name": f"{size}-{load}",
        "description": f"{count} partners, {n_clients} clients, {n_practices} practices, "
        f"{horizon} days at {load} % of shift capacity",
        "start": iso(START),
        "horizon_days": horizon,
        "drain_days": drain,
        "seed": rng.randint(0, 2**31),
        "arrival_zone": zones[0],
        "partners": partners,
        "clients": clients,
        "arrivals": arrivals,
        "service_times": [
            {"priority": p, "median_minutes": m, "sigma": SIGMA} for p, m in MEDIAN_MINUTES.items()
        ],
        "sla_policies": sla,
        "bound": {"max_tickets": 600, "time_limit_s": 120},
    }


def calibrate(document: dict, load: int) -> dict:
    """Scale the arrival rates so the simulator's offered load is ``load`` percent."""
    from thirdway.dispatch import comparison, scenario, simulator

    model = scenario.parse(document)
    offered = comparison.offered_load(model, simulator.Partners(model))
    factor = load / 100 / offered
    for stream in document["arrivals"]:
        stream["per_hour"] = [round(rate * factor, 5) for rate in stream["per_hour"]]
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    parser.add_argument("--large", action="store_true", help="also write the large set")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for size, spec in SIZES.items():
        if size == "large" and not args.large:
            continue
        for load in spec[-1]:
            path = out / f"{size}-{load}.json"
            path.write_text(
                json.dumps(calibrate(make_scenario(size, load), load), separators=(",", ":")) + "\n"
            )
            print(path)


if __name__ == "__main__":
    main()
