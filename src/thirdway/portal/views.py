"""The client portal: client contacts sign in, follow their tickets, open new ones and reply.

Every page but sign-in is for an active client contact; anyone else gets a 404 that points the
network to the desk.  What a contact sees comes from the access rules of tickets
(``Ticket/Article/Attachment.objects.for_user``); the timeline adds only status changes and
"now handled by" from the system events, never their free text.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from thirdway.accounts import services as account_services
from thirdway.accounts import throttle
from thirdway.accounts.models import FailureKind, Role
from thirdway.accounts.views import PENDING_NEXT, PENDING_USER
from thirdway.audit.models import Source
from thirdway.clients.models import Asset, Contact
from thirdway.network.models import Partner
from thirdway.portal import services
from thirdway.portal.forms import LinkRequestForm, NewTicketForm, PasswordSignInForm, ReplyForm
from thirdway.tickets import services as tickets
from thirdway.tickets.bodies import clean_html
from thirdway.tickets.lifecycle import LABELS, Status, TransitionRefused, allowed_from
from thirdway.tickets.models import Article, ArticleKind, Attachment, Channel, Ticket
from thirdway.tickets.search import search
from thirdway.tickets.views import attachments as desk_views
from thirdway.web.forms import add_service_errors

PAGE_SIZE = 20
BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- who may use the portal --------------------------------------------------------------------


def _desk_url() -> str:
    """Where the network works: the ticket queue once it exists, the home page until then."""
    try:
        resolve("/tickets/")
    except Resolver404:
        return reverse("home")
    return "/tickets/"


def _not_for_you(request: HttpRequest) -> HttpResponse:
    context = {"desk_url": _desk_url(), "is_network": request.user.is_network_staff}
    return render(request, "portal/not_for_you.html", context, status=404)


def contact_required(view):
    """Signed-in, active client contacts only; their contact record is ``request.contact``."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        contact = services.portal_contact(request.user)
        if contact is None:
            return _not_for_you(request)
        request.contact = contact
        return view(request, *args, **kwargs)

    return wrapped


# --- signing in --------------------------------------------------------------------------------


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return reverse("portal:home")


def _sign_in(request: HttpRequest, user, target: str) -> HttpResponse:
    """Log in, or hand over to the second-factor step for people who enrolled one."""
    if user.has_second_factor:
        request.session[PENDING_USER] = user.pk
        request.session[PENDING_NEXT] = target
        return redirect("accounts:login_code")
    login(request, user, backend=BACKEND)
    return redirect(target)


def _login_page(request, password_form, link_form, status=200) -> HttpResponse:
    context = {
        "password_form": password_form,
        "link_form": link_form,
        "next": _safe_next(request),
        "lifetime_minutes": int(services.LINK_LIFETIME.total_seconds() // 60),
    }
    return render(request, "portal/login.html", context, status=status)


def _portal_refusal(user) -> str | None:
    """Why this signed-in user may not use the portal (None: they may)."""
    if user is None:
        return "That e-mail and password do not match an account."
    if user.is_network_staff:
        return "This is the portal for clients. The network signs in on the main sign-in page."
    if services.portal_contact(user) is None:
        return "Your access to the portal is turned off. Ask your organisation's administrator."
    return None


def sign_in(request: HttpRequest) -> HttpResponse:
    """Sign in with e-mail and password (the e-mailed link has its own form on this page)."""
    if services.portal_contact(request.user) is not None and request.method == "GET":
        return redirect(_safe_next(request))
    form = PasswordSignInForm(request.POST if request.method == "POST" else None)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        login_name = services.normalise_address(form.cleaned_data["email"])
        address = throttle.client_address(request)
        wait = throttle.seconds_to_wait(FailureKind.PASSWORD, login_name, address)
        if wait:
            form.add_error(None, throttle.wait_message(wait))
            status = 429
        else:
            password = form.cleaned_data["password"]
            user = authenticate(request, username=login_name, password=password)
            if user is None:
                account_services.record_sign_in_failure(FailureKind.PASSWORD, login_name, address)
            refusal = _portal_refusal(user)
            if refusal is None:
                account_services.forget_sign_in_failures(FailureKind.PASSWORD, login_name)
                return _sign_in(request, user, _safe_next(request))
            form.add_error(None, refusal)
    return _login_page(request, form, LinkRequestForm(), status=status)


@require_POST
def request_link(request: HttpRequest) -> HttpResponse:
    """Mail a one-time link when the address is a contact's; answer the same either way."""
    form = LinkRequestForm(request.POST)
    if not form.is_valid():
        return _login_page(request, PasswordSignInForm(), form, status=400)

    def url_for(token: str) -> str:
        return request.build_absolute_uri(reverse("portal:link", args=[token]))

    services.send_sign_in_links(form.cleaned_data["email"], url_for)
    return redirect("portal:link_sent")


def link_sent(request: HttpRequest) -> HttpResponse:
    minutes = int(services.LINK_LIFETIME.total_seconds() // 60)
    return render(request, "portal/link_sent.html", {"lifetime_minutes": minutes})


def use_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm (mail scanners that open links do not use them up); POST signs in."""
    if request.method == "POST":
        user = services.redeem_sign_in_link(token)
        if user is not None:
            return _sign_in(request, user, reverse("portal:home"))
    elif services.link_is_usable(token):
        return render(request, "portal/link_confirm.html")
    return render(request, "portal/link_invalid.html", {"form": LinkRequestForm()}, status=410)


# --- tickets -----------------------------------------------------------------------------------


def _mine(request: HttpRequest) -> Q:
    return Q(requester=request.contact) | Q(watchers=request.user)


@contact_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    """My tickets: a client user's own and watched ones; a client admin's whole organisation
    (or, with ``show=mine``, their own)."""
    user = request.user
    is_admin = user.role == Role.CLIENT_ADMIN
    show = "mine" if not is_admin or request.GET.get("show") == "mine" else "all"
    visible = Ticket.objects.for_user(user)
    if show == "mine" and is_admin:
        visible = visible.filter(pk__in=Ticket.objects.filter(_mine(request)).values("pk"))
    query = (request.GET.get("q") or "").strip()[:200]
    if query:
        hits = search(user, query)
        kept = set(
            visible.filter(pk__in=[hit.ticket.pk for hit in hits]).values_list("pk", flat=True)
        )
        rows = [hit.ticket for hit in hits if hit.ticket.pk in kept]
        page = None
    else:
        page = Paginator(visible.select_related("requester", "assignee"), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        rows = list(page.object_list)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "contact": request.contact,
        "is_admin": is_admin,
        "show": show,
        "query": query,
        "tickets": rows,
        "page": page,
        "querystring": params.urlencode(),
        "known_contacts": _visible_contact_ids(user),
    }
    return render(request, "portal/ticket_list.html", context)


def _visible_contact_ids(user) -> set[int]:
    return set(Contact.objects.for_user(user).values_list("pk", flat=True))


def _uploads(files) -> list[tickets.Upload]:
    return [tickets.Upload(item.name, item.read()) for item in files]


@contact_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    assets = Asset.objects.for_user(user).order_by("name")
    if request.method == "POST":
        form = NewTicketForm(request.POST, request.FILES, assets=assets)
        if form.is_valid():
            data = form.cleaned_data
            asset = data.get("asset")
            try:
                ticket = tickets.create_ticket(
                    user,
                    request.contact.client,
                    subject=data["subject"],
                    body_text=data["description"],
                    type=data["type"],
                    asset_id=asset.pk if asset else None,
                    channel=Channel.PORTAL,
                    uploads=_uploads(data["attachments"]),
                    source=Source.WEB,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{ticket.number} is open. We will answer here.")
                return redirect("portal:ticket", ticket.pk)
        status = 400
    else:
        form = NewTicketForm(assets=assets)
        status = 200
    context = {"contact": request.contact, "form": form}
    return render(request, "portal/ticket_new.html", context, status=status)


@dataclass
class Entry:
    """One line of the public timeline: a reply (with its files) or a plain-words event."""

    kind: str
    at: object
    pk: int
    author: str = ""
    body: str = ""
    text: str = ""
    mine: bool = False
    files: list = field(default_factory=list)


def _event_text(user, article: Article) -> str | None:
    """What a client may read of a system event, from its data only (never its free text)."""
    data = article.data or {}
    if article.event == "status":
        try:
            return f"Status: {LABELS[Status(data.get('to'))]}"
        except ValueError:
            return None
    if article.event == "assigned":
        partner = Partner.objects.filter(pk=data.get("to")).values_list("name", flat=True).first()
        return f"Now handled by {partner}" if partner else "Back with the desk, to be picked up"
    if article.event == "merged" and data.get("into"):
        into = Ticket.objects.for_user(user).filter(pk=data["into"]).first()
        return f"Merged into {into.number}" if into else "Merged into another ticket"
    return None


def _download_url(attachment: Attachment) -> str:
    return reverse("portal:attachment", args=[attachment.pk])


def _timeline(request: HttpRequest, ticket: Ticket) -> list[Entry]:
    user = request.user
    replies = list(
        Article.objects.for_user(user)
        .filter(ticket=ticket, kind=ArticleKind.REPLY)
        .order_by("created_at", "id")
    )
    files: dict[int, list[Attachment]] = {}
    for attachment in Attachment.objects.for_user(user).filter(article__in=replies):
        attachment.download_url = _download_url(attachment)
        files.setdefault(attachment.article_id, []).append(attachment)
    events = Article.objects.filter(
        ticket=ticket, kind=ArticleKind.EVENT, event__in=("status", "assigned", "merged")
    )
    entries = [
        Entry(
            kind="reply",
            at=article.created_at,
            pk=article.pk,
            author=article.author_label,
            # Sanitised when stored; cleaned again here so an older row cannot slip through.
            body=mark_safe(clean_html(article.body_html)),  # noqa: S308
            mine=article.author_id == user.pk,
            files=files.get(article.pk, []),
        )
        for article in replies
    ]
    for article in events:
        text = _event_text(user, article)
        if text:
            entries.append(Entry(kind="event", at=article.created_at, pk=article.pk, text=text))
    entries.sort(key=lambda entry: (entry.at, entry.pk))
    return entries


def _can_reply(ticket: Ticket) -> bool:
    if ticket.status == Status.MERGED:
        return False
    if ticket.status == Status.CLOSED and ticket.closed_at is not None:
        window = ticket.closed_at + dt.timedelta(days=settings.TICKET_REOPEN_DAYS)
        return timezone.now() <= window
    return True


def _visible_ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    return get_object_or_404(
        Ticket.objects.for_user(request.user).select_related(
            "requester", "asset", "assignee", "merged_into"
        ),
        pk=ticket_id,
    )


def _detail(request: HttpRequest, ticket: Ticket, form: ReplyForm, status: int = 200):
    user = request.user
    requester = ticket.requester if ticket.requester_id in _visible_contact_ids(user) else None
    asset = (
        ticket.asset
        if ticket.asset_id and Asset.objects.for_user(user).filter(pk=ticket.asset_id).exists()
        else None
    )
    merged_into = None
    visible = Ticket.objects.for_user(user)
    if ticket.merged_into_id and visible.filter(pk=ticket.merged_into_id).exists():
        merged_into = ticket.merged_into
    context = {
        "contact": request.contact,
        "ticket": ticket,
        "requester": requester,
        "asset": asset,
        "handled_by": ticket.assignee.name if ticket.assignee else "",
        "merged_into": merged_into,
        "entries": _timeline(request, ticket),
        "form": form,
        "can_reply": _can_reply(ticket),
        "can_close": Status.CLOSED.value in allowed_from(ticket.status),
        "reopen_days": settings.TICKET_REOPEN_DAYS,
    }
    return render(request, "portal/ticket_detail.html", context, status=status)


@contact_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _detail(request, _visible_ticket(request, ticket_id), ReplyForm())


@contact_required
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _visible_ticket(request, ticket_id)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            article = tickets.reply(
                request.user,
                ticket,
                body_text=form.cleaned_data["body"],
                uploads=_uploads(form.cleaned_data["attachments"]),
                channel=Channel.PORTAL,
                source=Source.WEB,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, "Your reply was sent.")
            return redirect(f"{reverse('portal:ticket', args=[ticket.pk])}#a-{article.pk}")
    ticket.refresh_from_db()
    return _detail(request, ticket, form, status=400)


@contact_required
@require_POST
def ticket_close(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _visible_ticket(request, ticket_id)
    try:
        tickets.change_status(request.user, ticket, Status.CLOSED, source=Source.WEB)
    except (TransitionRefused, ValidationError) as error:
        text = "; ".join(getattr(error, "messages", [str(error)]))
        messages.error(request, f"The ticket could not be closed: {text}")
    except PermissionDenied:
        raise Http404 from None
    else:
        messages.success(request, f"{ticket.number} is closed. Reply to it to open it again.")
    return redirect("portal:ticket", ticket.pk)


@require_GET
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """The desk's role-agnostic download, with the portal's own sign-in for strangers."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("portal:login"))
    return desk_views.attachment_download(request, attachment_id)
