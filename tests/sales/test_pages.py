"""The sales pages: the network's only (a 404 for anyone else), forms refusing beside the
field, and the board's columns, totals and moves."""

from __future__ import annotations

import pytest

from thirdway.sales.models import Lead, Opportunity

PAGES = ("/sales/", "/sales/board/")


@pytest.mark.parametrize("role", ("client_admin", "client_user", "outsider"))
def test_the_sales_pages_are_not_found_outside_the_network(cast, web_as, pipeline, role):
    web = web_as(getattr(cast, role))
    for url in (
        *PAGES,
        f"/sales/leads/{pipeline.own.pk}/",
        f"/sales/opportunities/{pipeline.deal.pk}/",
        f"/sales/proposals/{pipeline.proposal.pk}/",
        f"/sales/proposals/{pipeline.proposal.pk}/pdf/",
    ):
        assert web.get(url).status_code == 404, url


def test_a_partner_gets_a_404_for_a_lead_they_do_not_see(cast, web_as, pipeline):
    web = web_as(cast.other_partner)
    assert web.get(f"/sales/leads/{pipeline.own.pk}/").status_code == 404
    assert web.get(f"/sales/opportunities/{pipeline.deal.pk}/").status_code == 404


def test_a_new_lead_with_bad_input_is_refused_beside_the_field(cast, web_as):
    web = web_as(cast.partner)
    answer = web.post(
        "/sales/",
        {
            "lead-company": "Atelier",
            "lead-contact_name": "A",
            "lead-contact_email": "nope",
            "lead-source": "referral",
            "lead-country": "FR",
            "lead-time_zone": "Europe/Paris",
        },
    )
    assert answer.status_code == 200
    assert b'class="field invalid"' in answer.content
    assert not Lead.objects.filter(company="Atelier").exists()
    made = web.post(
        "/sales/",
        {
            "lead-company": "Atelier",
            "lead-contact_name": "A",
            "lead-contact_email": "a@atelier.example",
            "lead-source": "referral",
            "lead-referrer": cast.other_partner_record.pk,
            "lead-country": "FR",
            "lead-time_zone": "Europe/Paris",
            "lead-practices": [cast.security.pk],
        },
    )
    lead = Lead.objects.get(company="Atelier")
    assert made.status_code == 302 and made["Location"] == f"/sales/leads/{lead.pk}/"
    assert lead.owner == cast.partner_record and list(lead.practices.all()) == [cast.security]


def test_the_board_shows_totals_and_moves_a_card(cast, web_as, pipeline):
    web = web_as(cast.partner)
    page = web.get(f"/sales/board/?practice={cast.security.pk}")
    assert page.status_code == 200
    assert b"Durand managed IT" in page.content and b"Lambert Wi-Fi" not in page.content
    assert b"weighted 314.75" in page.content  # 629.50 at the proposal stage's 50 %
    moved = web.post(f"/sales/board/{pipeline.deal.pk}/move/", {"stage": "negotiation"})
    assert moved.status_code == 302
    assert Opportunity.objects.get(pk=pipeline.deal.pk).stage == "negotiation"
    refused = web.post(f"/sales/board/{pipeline.deal.pk}/move/", {"stage": "lost"}, follow=True)
    assert b"Say why" in refused.content
    assert Opportunity.objects.get(pk=pipeline.deal.pk).stage == "negotiation"
    swapped = web.post(
        f"/sales/board/{pipeline.deal.pk}/move/", {"stage": "proposal"}, HTTP_HX_REQUEST="true"
    )
    assert swapped.status_code == 200 and b'id="sales-board"' in swapped.content
    assert b"<html" not in swapped.content


def test_a_proposal_is_written_on_its_opportunity_and_refused_without_a_line(
    cast, web_as, pipeline
):
    web = web_as(cast.partner)
    url = f"/sales/opportunities/{pipeline.deal.pk}/"
    empty = web.post(
        url, {"action": "proposal", "proposal-term_months": 12, "proposal-notice_days": 30}
    )
    assert b"at least one service" in empty.content
    half = web.post(
        url,
        {
            "action": "proposal",
            "proposal-term_months": 12,
            "proposal-notice_days": 30,
            "proposal-line1_description": "Firewall",
        },
    )
    assert b"Give a quantity" in half.content
    made = web.post(
        url,
        {
            "action": "proposal",
            "proposal-term_months": 36,
            "proposal-notice_days": 60,
            "proposal-line1_description": "Firewall",
            "proposal-line1_quantity": "1",
            "proposal-line1_unit_price": "120",
        },
    )
    assert made.status_code == 302
    page = web.get(made["Location"])
    assert b"120.00" in page.content and b"36 months" in page.content
    sent = web.post(made["Location"])
    assert sent.status_code == 200 and b'id="proposal-link"' in sent.content
