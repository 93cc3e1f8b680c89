"""The prospect's signed link: tampered, expired, replaced or used again, it opens nothing
new; accepting needs a typed name and the tick, and records who, when and from where."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.test import Client as Browser

from thirdway.audit.models import Source
from thirdway.clients.models import Client
from thirdway.sales import links
from thirdway.sales.models import Proposal, ProposalState

WEB = Source.WEB


class _Backdated(signing.TimestampSigner):
    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - (links.link_days() + 1) * 86400)


def backdated(proposal: Proposal) -> str:
    data = {"p": proposal.pk, "k": proposal.link_key}
    return _Backdated(salt=links.SALT).sign_object(data)


def tampered(token: str) -> str:
    head, _, tail = token.rpartition(":")
    return f"{head}:{'A' if tail[0] != 'A' else 'B'}{tail[1:]}"


def test_the_link_opens_its_proposal_only(pipeline):
    assert links.proposal_for(pipeline.token) == pipeline.proposal
    for bad in (
        tampered(pipeline.token),
        "",
        "x" * 301,
        signing.dumps({"p": pipeline.proposal.pk}, salt=links.SALT),
    ):
        with pytest.raises(links.LinkRefused) as refused:
            links.proposal_for(bad)
        assert refused.value.expired is False


def test_a_link_signed_with_another_salt_opens_nothing(pipeline):
    other = signing.dumps({"p": pipeline.proposal.pk, "k": pipeline.proposal.link_key})
    with pytest.raises(links.LinkRefused):
        links.proposal_for(other)


def test_an_old_link_has_expired(pipeline):
    with pytest.raises(links.LinkRefused) as refused:
        links.proposal_for(backdated(pipeline.proposal))
    assert refused.value.expired is True


def test_sending_again_makes_the_earlier_link_worthless(cast, pipeline):
    fresh = links.send(cast.partner, pipeline.proposal, source=WEB)
    assert links.proposal_for(fresh) == pipeline.proposal
    with pytest.raises(links.LinkRefused):
        links.proposal_for(pipeline.token)


def test_accepting_needs_the_name_and_the_tick_and_changes_nothing_otherwise(pipeline):
    for name, agreed, field in (
        ("", True, "name"),
        ("C" * 151, True, "name"),
        ("Cam", False, "agree"),
    ):
        with pytest.raises(ValidationError) as refused:
            links.accept(pipeline.proposal, name=name, agreed=agreed, ip=None, source=WEB)
        assert set(refused.value.message_dict) == {field}
    pipeline.proposal.refresh_from_db()
    assert pipeline.proposal.state == ProposalState.SENT
    assert not Client.objects.filter(name="Boulangerie Durand").exists()


def test_an_acceptance_is_recorded_and_a_second_one_is_refused(pipeline):
    links.accept(
        pipeline.proposal, name="Camille Martin", agreed=True, ip="203.0.113.9", source=WEB
    )
    proposal = Proposal.objects.get(pk=pipeline.proposal.pk)
    assert (proposal.state, proposal.accepted_name, proposal.answered_ip) == (
        "accepted",
        "Camille Martin",
        "203.0.113.9",
    )
    assert proposal.answered_at is not None
    with pytest.raises(ValidationError) as again:
        links.accept(proposal, name="Someone Else", agreed=True, ip=None, source=WEB)
    assert set(again.value.message_dict) == {"proposal"}
    with pytest.raises(ValidationError):
        links.decline(proposal, reason="", ip=None, source=WEB)
    assert Client.objects.filter(name="Boulangerie Durand").count() == 1
    assert Proposal.objects.get(pk=proposal.pk).accepted_name == "Camille Martin"


def test_the_prospect_page_needs_no_account_and_accepts_once(pipeline):
    browser = Browser(enforce_csrf_checks=False)
    url = f"/sales/p/{pipeline.token}/"
    page = browser.get(url)
    assert page.status_code == 200
    assert b"Boulangerie Durand" in page.content and b"629.50" in page.content
    refused = browser.post(url, {"action": "accept", "accept-name": "Camille"})
    assert refused.status_code == 200 and b"This field is required" in refused.content
    done = browser.post(url, {"action": "accept", "accept-name": "Camille", "accept-agree": "on"})
    assert done.status_code == 302
    twice = browser.post(url, {"action": "accept", "accept-name": "Eve", "accept-agree": "on"})
    assert twice.status_code == 200 and b"accepted already" in twice.content
    assert Client.objects.filter(name="Boulangerie Durand").count() == 1
    assert Proposal.objects.get(pk=pipeline.proposal.pk).accepted_name == "Camille"
    pdf = browser.get(f"{url}pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_prospect_page_refuses_tampered_and_expired_links(pipeline):
    browser = Browser()
    assert browser.get(f"/sales/p/{tampered(pipeline.token)}/").status_code == 404
    assert browser.get(f"/sales/p/{tampered(pipeline.token)}/pdf/").status_code == 404
    old = browser.get(f"/sales/p/{backdated(pipeline.proposal)}/")
    assert old.status_code == 410 and b"expired" in old.content


def test_declining_puts_the_deal_back_in_negotiation(pipeline):
    links.decline(pipeline.proposal, reason="Too dear", ip="198.51.100.4", source=WEB)
    pipeline.deal.refresh_from_db()
    proposal = Proposal.objects.get(pk=pipeline.proposal.pk)
    assert (proposal.state, proposal.decline_reason) == ("declined", "Too dear")
    assert pipeline.deal.stage == "negotiation" and pipeline.deal.client_id is None


def test_the_pdf_is_a_one_page_document_of_the_proposal(pipeline):
    import os

    from thirdway.sales import pdf

    document = pdf.render(pipeline.proposal)
    assert document.startswith(b"%PDF") and document.count(b"/Type /Page\n") == 1
    shots = os.environ.get("SALES_SHOTS")
    if shots:
        with open(f"{shots}/proposal.pdf", "wb") as out:
            out.write(document)


def test_the_pdf_prints_a_polish_company_and_a_greek_and_vietnamese_title_whole(cast, pipeline):
    from decimal import Decimal

    from support.pdf_files import assert_fonts_embedded, text_of
    from thirdway.sales import pdf, services

    from .conftest import lead

    own = lead(cast.partner_record, "Łódź Serwis Sp. z o.o.", practices=[cast.security])
    deal = services.create_opportunity(
        cast.partner_record.user,
        own,
        practice=cast.security,
        title="Υποστήριξη για Nguyễn Văn An",
        monthly_value=Decimal(45),
        source=WEB,
    )
    wordy = "Managed workstations with patching, antivirus and a backup of every user's folders"
    lines = [{"description": wordy, "quantity": Decimal(12), "unit_price": Decimal(45)}]
    proposal = services.create_proposal(cast.partner_record.user, deal, lines=lines, source=WEB)
    document = pdf.render(proposal)
    text = " ".join(text_of(document).split())
    for expected in ("Proposal for Łódź Serwis Sp. z o.o.", "Υποστήριξη για Nguyễn Văn An", wordy):
        assert expected in text, expected  # the description wraps in its column, whole
    assert_fonts_embedded(document)
