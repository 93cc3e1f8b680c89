"""The block-hours warning goes by e-mail too: through the outbox to a real SMTP server
(aiosmtpd), to the client's lead partner and each active client admin, once per block."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from decimal import Decimal

import pytest

from thirdway.audit.models import Source
from thirdway.billing import blocks
from thirdway.billing.models import BlockNotice
from thirdway.mail import services as mail
from thirdway.mail.models import OutboundMessage, OutboundStatus

from .conftest import ten_hour_block

pytestmark = pytest.mark.django_db


def flush() -> list[str]:
    """What the worker does after commit: send every pending message once."""
    pending = OutboundMessage.objects.filter(status=OutboundStatus.PENDING).order_by("id")
    return [mail.send(pk) for pk in pending.values_list("pk", flat=True)]


def received(server) -> dict[str, email.message.EmailMessage]:
    """Each message the server took, by its one recipient."""
    taken = {}
    for _, to, content in server.messages:
        [address] = to
        taken[address] = email.message_from_bytes(content, policy=email.policy.default)
    return taken


@pytest.fixture
def block(cast):
    return ten_hour_block(cast, 100, block_price=Decimal("900.00"))


def test_the_warning_is_mailed_to_the_lead_partner_and_the_client_admins(
    cast, block, book_time, smtp_server, settings
):
    settings.SITE_URL = "https://desk.example"
    contract, rate = block
    book_time(cast.partner, rate, 7 * 60)
    assert flush() == [] and smtp_server.messages == []  # 70 %: below the threshold
    book_time(cast.partner, rate, 60, day=dt.date(2026, 11, 11))  # 480 of 600: 80 %
    assert flush() == [OutboundStatus.SENT, OutboundStatus.SENT]
    taken = received(smtp_server)
    assert set(taken) == {"paula@network.example", "alice@acme.example"}
    for message in taken.values():
        assert message["Subject"] == "Acme Bakery: 80 % of the prepaid hours used"
        assert message["Auto-Submitted"] == "auto-generated"
    partner = taken["paula@network.example"].get_content()
    assert "Ten hours: 8.00 of 10.00 hours used (80 %, the warning is at 80 %); 2.00 h left" in (
        partner
    )
    assert f"https://desk.example/billing/contracts/{contract.pk}/" in partner
    admin = taken["alice@acme.example"].get_content()
    assert admin.startswith("Hello Alice Acme,")
    assert "https://desk.example/portal/" in admin and "/billing/" not in admin


def test_the_warning_is_mailed_once_per_block_and_again_for_a_top_up(
    cast, block, book_time, smtp_server
):
    contract, rate = block
    book_time(cast.partner, rate, 8 * 60)
    book_time(cast.partner, rate, 60, day=dt.date(2026, 11, 11))  # still past: no new warning
    assert len(flush()) == 2
    # the same warning queued again (a retried job) sends nothing new
    notices = list(BlockNotice.objects.select_related("recipient"))
    assert blocks.mail_warning(contract, blocks.burn(contract), notices) == 0
    assert blocks.check_threshold(contract) == []
    assert flush() == [] and len(smtp_server.messages) == 2
    blocks.top_up(cast.admin, contract, minutes=600, price=Decimal(850), source=Source.WEB)
    assert flush() == []  # 540 of 1200: below the threshold of the new block
    book_time(cast.partner, rate, 7 * 60, day=dt.date(2026, 11, 12))  # 960 of 1200: 80 %
    assert flush() == [OutboundStatus.SENT, OutboundStatus.SENT]
    assert len(smtp_server.messages) == 4
    assert OutboundMessage.objects.filter(dedupe_key__startswith="block-warning:").count() == 4


def test_an_inactive_client_admin_gets_no_mail(cast, block, book_time, smtp_server):
    _, rate = block
    cast.client_admin.is_active = False
    cast.client_admin.save(update_fields=["is_active"])
    book_time(cast.partner, rate, 8 * 60)
    flush()
    assert [to for _, to, _ in smtp_server.messages] == [["paula@network.example"]]
