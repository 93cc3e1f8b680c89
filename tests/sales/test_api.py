"""The sales API: who sees which lead, opportunity and proposal (everything else is a 404),
bounded input refused naming the field, and the prospect's answer through the token."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from support.api import API, assert_refused, ids, send
from thirdway.clients.models import Client
from thirdway.sales.models import Lead, Opportunity, Proposal

from .test_links import backdated, tampered

ROLES = ("admin", "desk", "partner", "other_partner", "associate", "client_admin", "client_user")
ALL = {"own", "referred", "security_need", "networking_only"}
LEADS = {
    "admin": ALL,
    "desk": ALL,
    "partner": {"own", "referred", "security_need"},
    "other_partner": {"referred", "security_need", "networking_only"},
}
DEALS = {
    "admin": {"deal", "networking_deal"},
    "desk": {"deal", "networking_deal"},
    "partner": {"deal"},
    "other_partner": {"networking_deal"},
}
PROPOSALS = {"admin": {"proposal"}, "desk": {"proposal"}, "partner": {"proposal"}}


def named(pipeline, names: set[str]) -> set[int]:
    return {getattr(pipeline, name).pk for name in names}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lists_and_reads_exactly_what_it_may_see(cast, api_as, pipeline, role):
    api = api_as(getattr(cast, role))
    for url, expected, everything in (
        ("/sales/leads", LEADS, ALL),
        ("/sales/opportunities", DEALS, {"deal", "networking_deal"}),
        ("/sales/proposals", PROPOSALS, {"proposal"}),
    ):
        seen = named(pipeline, expected.get(role, set()))
        assert ids(api.get(API + url)) == seen, url
        for pk in named(pipeline, everything):
            answer = api.get(f"{API}{url}/{pk}")
            assert answer.status_code == (200 if pk in seen else 404), (url, pk)


def test_a_partner_writes_only_to_the_leads_they_own(cast, api_as, pipeline):
    paula, oscar = api_as(cast.partner), api_as(cast.other_partner)
    assert send(oscar, "post", f"{API}/sales/leads/{pipeline.own.pk}/qualify").status_code == 404
    sees_only = send(paula, "post", f"{API}/sales/leads/{pipeline.security_need.pk}/qualify")
    assert sees_only.status_code == 403
    done = send(oscar, "post", f"{API}/sales/leads/{pipeline.security_need.pk}/qualify")
    assert done.status_code == 200 and done.json()["state"] == "qualified"
    moved = send(
        oscar, "post", f"{API}/sales/opportunities/{pipeline.deal.pk}/stage", {"stage": "lost"}
    )
    assert moved.status_code == 404
    assert (
        send(oscar, "post", f"{API}/sales/proposals/{pipeline.proposal.pk}/send").status_code == 404
    )


@pytest.mark.parametrize("role", ("client_admin", "client_user", "associate"))
def test_client_contacts_and_associates_cannot_enter_leads(cast, api_as, pipeline, role):
    answer = send(
        api_as(getattr(cast, role)),
        "post",
        f"{API}/sales/leads",
        {"company": "X", "contact_name": "Y", "contact_email": "y@x.example", "source": "web"},
    )
    assert answer.status_code == 403
    assert not Lead.objects.filter(company="X").exists()


def test_a_partner_takes_a_lead_to_a_won_deal_through_the_api(cast, api_as, policy):
    api = api_as(cast.partner)
    made = send(
        api,
        "post",
        f"{API}/sales/leads",
        {
            "company": "Pharmacie Blanc",
            "contact_name": "Inès Blanc",
            "contact_email": "ines@pharmacie-blanc.example",
            "source": "event",
            "practices": [cast.security.pk],
            "town": "Villeurbanne",
        },
    )
    assert made.status_code == 201, made.content
    lead = made.json()
    assert lead["owner_id"] == cast.partner_record.pk and lead["practices"] == [cast.security.pk]
    deal = send(
        api,
        "post",
        f"{API}/sales/opportunities",
        {
            "lead": lead["id"],
            "practice": cast.security.pk,
            "title": "Blanc",
            "monthly_value": "400",
        },
    ).json()
    assert (deal["stage"], deal["probability"], deal["weighted_value"]) == (
        "discovery",
        20,
        "80.00",
    )
    proposal = send(
        api,
        "post",
        f"{API}/sales/proposals",
        {
            "opportunity": deal["id"],
            "lines": [{"description": "Managed IT", "quantity": "4", "unit_price": "100"}],
            "sla_policy": policy.pk,
            "term_months": 24,
        },
    )
    assert proposal.status_code == 201, proposal.content
    assert proposal.json()["total"] == "400.00" and proposal.json()["term_total"] == "9600.00"
    link = send(api, "post", f"{API}/sales/proposals/{proposal.json()['id']}/send").json()
    assert link["url"].endswith(f"/sales/p/{link['token']}/")

    prospect = HttpClient()
    answer = {"token": link["token"], "name": "Inès Blanc", "agree": True}
    accepted = send(prospect, "post", f"{API}/sales/proposal-answers/accept", answer)
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["state"] == "accepted" and accepted.json()["client_id"]
    again = send(prospect, "post", f"{API}/sales/proposal-answers/accept", answer)
    assert_refused(again, "proposal")
    assert Client.objects.filter(name="Pharmacie Blanc").count() == 1
    won = api.get(f"{API}/sales/opportunities/{deal['id']}").json()
    assert won["stage"] == "won" and won["client_id"] == accepted.json()["client_id"]


def test_the_token_endpoints_refuse_tampered_expired_and_unticked_answers(pipeline):
    prospect = HttpClient()
    url = f"{API}/sales/proposal-answers/accept"
    body = {"name": "Camille", "agree": True}
    assert (
        send(prospect, "post", url, {**body, "token": tampered(pipeline.token)}).status_code == 404
    )
    old = send(prospect, "post", url, {**body, "token": backdated(pipeline.proposal)})
    assert old.status_code == 410
    assert_refused(
        send(prospect, "post", url, {**body, "agree": False, "token": pipeline.token}), "agree"
    )
    assert_refused(send(prospect, "post", url, {"token": pipeline.token, "agree": True}), "name")
    declined = send(
        prospect,
        "post",
        f"{API}/sales/proposal-answers/decline",
        {"token": pipeline.token, "reason": "r" * 251},
    )
    assert_refused(declined, "reason")
    assert Proposal.objects.get(pk=pipeline.proposal.pk).state == "sent"


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("/sales/leads", {"company": "c" * 201}, "company"),
        ("/sales/leads", {"contact_email": "not-an-address"}, "contact_email"),
        ("/sales/leads", {"source": "cold-call"}, "source"),
        ("/sales/leads", {"country": "France"}, "country"),
        ("/sales/leads", {"time_zone": "Mars/Olympus"}, "time_zone"),
        ("/sales/leads", {"practices": [1] * 21}, "practices"),
        ("/sales/leads", {"practices": [999_999]}, "practices"),
        ("/sales/leads", {"referrer": 999_999}, "referrer"),
        ("/sales/leads", {"notes": "n" * 5001}, "notes"),
        ("/sales/leads", {"surprise": 1}, "surprise"),
        ("/sales/opportunities", {"monthly_value": "-1"}, "monthly_value"),
        ("/sales/opportunities", {"monthly_value": "1.001"}, "monthly_value"),
        ("/sales/opportunities", {"title": ""}, "title"),
        ("/sales/opportunities", {"lead": 999_999}, "lead"),
        ("/sales/proposals", {"lines": []}, "lines"),
        ("/sales/proposals", {"term_months": 121}, "term_months"),
        ("/sales/proposals", {"sla_policy": 999_999}, "sla_policy"),
    ],
)
def test_bounded_input_is_refused_naming_the_field(cast, api_as, pipeline, url, payload, field):
    base = {
        "/sales/leads": {
            "company": "Bounded",
            "contact_name": "B",
            "contact_email": "b@bounded.example",
            "source": "web",
        },
        "/sales/opportunities": {
            "lead": pipeline.own.pk,
            "practice": cast.security.pk,
            "title": "Bounded",
        },
        "/sales/proposals": {
            "opportunity": pipeline.deal.pk,
            "lines": [{"description": "x", "quantity": 1, "unit_price": 1}],
        },
    }[url]
    counts = (Lead.objects.count(), Opportunity.objects.count(), Proposal.objects.count())
    assert_refused(send(api_as(cast.partner), "post", API + url, {**base, **payload}), field)
    assert (Lead.objects.count(), Opportunity.objects.count(), Proposal.objects.count()) == counts


def test_a_lost_deal_needs_its_reason(cast, api_as, pipeline):
    api = api_as(cast.partner)
    url = f"{API}/sales/opportunities/{pipeline.deal.pk}/stage"
    assert_refused(send(api, "post", url, {"stage": "lost"}), "reason")
    assert_refused(send(api, "post", url, {"stage": "lost", "reason": "r" * 251}), "reason")
    lost = send(api, "post", url, {"stage": "lost", "reason": "Chose a cheaper offer"})
    assert lost.json()["stage"] == "lost" and lost.json()["lost_reason"] == "Chose a cheaper offer"
