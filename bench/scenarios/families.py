"""Scenario families: shapes of week the fixed sets do not have, drawn afresh for each seed.

    from families import FAMILIES, make
    document = make("storm", seed=3)   # a scenario document, checked by scenario.parse

Each family starts from a medium practice (make_scenarios.make_scenario's partners, clients
and weekly profile, drawn with the family's seed) and changes the one thing it is about:

- ``office``: an incident log's shape — arrivals on weekday office hours (a morning peak,
  little at night) and a priority mix of 3 % P1, 17 % P2, 50 % P3, 30 % P4;
- ``rural``: few partners spread over a wide area, half the tickets on site;
- ``follow_the_sun``: partners and clients in London, New York and Singapore, each region
  working and calling in its own office hours;
- ``storm``: a burst of five times the usual rate on one skill for six hours on Wednesday;
- ``vacation``: three partners in ten away for most of the horizon;
- ``scarce``: one skill held by two partners only, beside general work anyone can do.

The load is calibrated to the family's target (``calibrate``) before the storm is added, so a
storm is extra work on top of a normal week.

``make(family, seed, realism=REALISM)`` turns on parts of the scenario's realism block (each
part by name, see ``REALISM``): clients calling in their own hours (in follow-the-sun each
region's clients call in their office hours, not one UTC profile), ticket languages (a quarter
of the clients write in German or French, which some partners speak), unanswered offers,
missed shifts, waits on the client, chained travel, urgent-only on-call, a load that counts
the drive and tickets that turn out to need a level more. The load is calibrated with the
realism on, and its draws use a stream of their own, so a family without it is the same
document as before.
"""

from __future__ import annotations

import random
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_scenarios as base

FAMILIES = ("office", "rural", "follow_the_sun", "storm", "vacation", "scarce")
HORIZON_DAYS, DRAIN_DAYS = 7, 3
LOAD = {"office": 85, "rural": 75, "follow_the_sun": 85, "storm": 80, "vacation": 80, "scarce": 85}
OFFICE_MIX = {"P1": 0.03, "P2": 0.17, "P3": 0.5, "P4": 0.3}
SUN_ZONES = {
    "Europe/London": (51.5, -0.12, 0),
    "America/New_York": (40.71, -74.0, -5),
    "Asia/Singapore": (1.35, 103.82, 8),
}
RURAL_CENTRE = (52.9, -1.2)
SCARCE_PER_WEEK = 30  # tickets needing the rare skill, before calibration
REALISM = (
    "client_hours",
    "languages",
    "refusals",
    "sick",
    "client_waits",
    "chained_travel",
    "on_call_urgent_only",
    "load_counts_travel",
    "escalation",
)
# The realism block's settings when a part is on.
REALISM_SETTINGS = {
    "refusals": {"share": 0.1, "timeout_minutes": 15},
    "sick": {"share": 0.04},
    "client_waits": {"share": 0.15, "median_minutes": 90, "sigma": 0.8},
    "escalation": {"share": 0.1, "after_minutes": 45},
}
# Client languages (the rest write in the language everyone speaks) and who speaks them.
CLIENT_LANGUAGES = {"de": 0.15, "fr": 0.1}
PARTNER_LANGUAGES = {"de": 0.3, "fr": 0.25}


def make(family: str, seed: int, realism: tuple[str, ...] = ()) -> dict:
    """The scenario document of ``family`` drawn with ``seed``, with the parts of
    ``realism`` (names from ``REALISM``) turned on."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
    unknown = sorted(set(realism) - set(REALISM))
    if unknown:
        raise ValueError(f"unknown realism {', '.join(unknown)}; known: {', '.join(REALISM)}")
    rng = random.Random(f"{family}-{seed}")
    document = base.make_scenario("medium", LOAD[family])
    document["horizon_days"], document["drain_days"] = HORIZON_DAYS, DRAIN_DAYS
    document["name"] = f"{family}-{seed}"
    document["seed"] = seed
    document.pop("bound", None)
    _reseed_people(document, rng)
    globals()[f"_{family}"](document, rng)
    if realism:
        add_realism(document, family, random.Random(f"{family}-{seed}-realism"), set(realism))
    base.calibrate(document, LOAD[family])
    if family == "storm":
        _add_storm(document, rng)
    document["description"] = f"family {family}, seed {seed}: {__doc__ and _line(family)}"
    return document


def _line(family: str) -> str:
    for line in (__doc__ or "").splitlines():
        if line.startswith(f"- ``{family}``"):
            return line.split(":", 1)[1].strip()
    return family


def _reseed_people(document: dict, rng: random.Random) -> None:
    """New partners and clients for this seed (make_scenario draws them from its name)."""
    end = base.START + timedelta(days=HORIZON_DAYS + DRAIN_DAYS)
    practices = base.PRACTICES[:4]
    document["partners"] = base.make_partners(rng, 60, practices, ("Europe/London",), end)
    for client in document["clients"]:
        lat, lon = base.REGIONS["Europe/London"]
        client["sites"] = [
            {"lat": round(lat + rng.gauss(0, 0.12), 4), "lon": round(lon + rng.gauss(0, 0.2), 4)}
            for _ in range(rng.randint(1, 2))
        ]
        client.pop("lead_partner", None)
        if rng.random() < 0.7:
            client["lead_partner"] = rng.choice(document["partners"])["id"]


def _set_priorities(document: dict, mix: dict[str, float]) -> None:
    """Rescale each stream so the priorities come in ``mix`` (before calibration)."""
    for stream in document["arrivals"]:
        factor = mix[stream["priority"]] / base.PRIORITY_SHARE[stream["priority"]]
        stream["per_hour"] = [rate * factor for rate in stream["per_hour"]]


def _office(document: dict, rng: random.Random) -> None:
    shape = []
    for day in range(7):
        for hour in range(24):
            if day >= 5:
                shape.append(0.03)
            elif 9 <= hour < 12:
                shape.append(1.3)
            elif 8 <= hour < 18:
                shape.append(0.9)
            elif 18 <= hour < 21:
                shape.append(0.15)
            else:
                shape.append(0.03)
    total = sum(shape)
    for stream in document["arrivals"]:
        weekly = sum(stream["per_hour"])
        stream["per_hour"] = [weekly * f / total for f in shape]
    _set_priorities(document, OFFICE_MIX)


def _rural(document: dict, rng: random.Random) -> None:
    lat0, lon0 = RURAL_CENTRE
    document["partners"] = document["partners"][:24]
    for partner in document["partners"]:
        partner["home"] = {
            "lat": round(lat0 + rng.gauss(0, 0.6), 4),
            "lon": round(lon0 + rng.gauss(0, 0.9), 4),
        }
        partner["radius_km"] = rng.choice((40, 60, 80))
    for client in document["clients"]:
        client["sites"] = [
            {"lat": round(lat0 + rng.gauss(0, 0.6), 4), "lon": round(lon0 + rng.gauss(0, 0.9), 4)}
        ]
        if client.get("lead_partner", 0) > 24:
            client["lead_partner"] = rng.choice(document["partners"])["id"]
    for stream in document["arrivals"]:
        stream["onsite_share"] = 0.5


def _follow_the_sun(document: dict, rng: random.Random) -> None:
    zones = list(SUN_ZONES)
    for k, partner in enumerate(document["partners"]):
        zone = zones[k % 3]
        lat, lon, _ = SUN_ZONES[zone]
        partner["zone"] = zone
        partner["home"] = {
            "lat": round(lat + rng.gauss(0, 0.15), 4),
            "lon": round(lon + rng.gauss(0, 0.25), 4),
        }
    for k, client in enumerate(document["clients"]):
        zone = zones[k % 3]
        lat, lon, _ = SUN_ZONES[zone]
        client["zone"] = zone
        client["sites"] = [
            {"lat": round(lat + rng.gauss(0, 0.12), 4), "lon": round(lon + rng.gauss(0, 0.2), 4)}
        ]
        if client.get("lead_partner") is not None:
            same = [p["id"] for p in document["partners"] if p["zone"] == zone]
            client["lead_partner"] = rng.choice(same)
    # Arrivals in UTC: the sum of each region's office-hours profile, shifted to UTC.
    local = base.profile()
    shape = [0.0] * 168
    for _, _, offset in SUN_ZONES.values():
        for hour in range(168):
            shape[(hour - offset) % 168] += local[hour]
    total = sum(shape)
    document["arrival_zone"] = "UTC"
    for stream in document["arrivals"]:
        weekly = sum(stream["per_hour"])
        stream["per_hour"] = [weekly * f / total for f in shape]


def _storm(document: dict, rng: random.Random) -> None:
    """The surge is added after calibration (:func:`_add_storm`)."""


def _add_storm(document: dict, rng: random.Random) -> None:
    practice = rng.choice(base.PRACTICES[:4])
    mine = [s for s in document["arrivals"] if s["practice"] == practice]
    start = 2 * 24 + 10  # Wednesday 10:00
    for stream in mine:
        usual = stream["per_hour"][start : start + 6]
        surge = [0.0] * 168
        surge[start : start + 6] = [4 * rate for rate in usual]  # five times in all
        document["arrivals"].append({**stream, "per_hour": [round(r, 5) for r in surge]})


def _vacation(document: dict, rng: random.Random) -> None:
    away = rng.sample(document["partners"], k=round(0.3 * len(document["partners"])))
    for partner in away:
        first = base.START + timedelta(days=rng.randint(0, 2))
        partner["absences"] = [
            {"start": base.iso(first), "end": base.iso(first + timedelta(days=rng.randint(5, 9)))}
        ]


def _scarce(document: dict, rng: random.Random) -> None:
    rare = "erp"
    holders = rng.sample(document["partners"], k=2)
    for partner in document["partners"]:
        partner["skills"].pop(rare, None)
    for partner in holders:
        partner["skills"][rare] = rng.randint(3, 5)
    template = document["arrivals"][0]
    shape = base.profile()
    for priority, share in base.PRIORITY_SHARE.items():
        weekly = SCARCE_PER_WEEK * share
        document["arrivals"].append(
            {
                **template,
                "practice": rare,
                "priority": priority,
                "per_hour": [round(weekly * f / sum(shape), 5) for f in shape],
                "onsite_share": 0.1,
                "desk_share": 0.0,
            }
        )


def add_realism(document: dict, family: str, rng: random.Random, parts: set[str]) -> None:
    """Turn on ``parts`` of the realism block (before calibration)."""
    block: dict = {}
    for flag in ("client_hours", "chained_travel", "on_call_urgent_only", "load_counts_travel"):
        if flag in parts:
            block[flag] = True
    for name, settings in REALISM_SETTINGS.items():
        if name in parts:
            block[name] = dict(settings)
    if "client_hours" in parts and family == "follow_the_sun":
        # Each region's clients call in their own office hours: one local profile.
        local = base.profile()
        for stream in document["arrivals"]:
            weekly = sum(stream["per_hour"])
            stream["per_hour"] = [weekly * f / sum(local) for f in local]
    if "languages" in parts:
        _languages(document, rng)
    document["realism"] = block


def _languages(document: dict, rng: random.Random) -> None:
    for partner in document["partners"]:
        spoken = [lang for lang, share in PARTNER_LANGUAGES.items() if rng.random() < share]
        partner["languages"] = ["en", *spoken]
    for client in document["clients"]:
        draw, edge = rng.random(), 0.0
        for language, share in CLIENT_LANGUAGES.items():
            edge += share
            if draw < edge:
                client["language"] = language
                break
