"""The partner directory, partner pages, and who is on call (with each partner's iCal feed)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from thirdway.audit.models import AuditRecord, Source
from thirdway.network import services
from thirdway.network.forms import AbsenceForm, PartnerCreateForm, PartnerFilterForm, PartnerForm
from thirdway.network.ical import on_call_calendar
from thirdway.network.models import OnCallFeed, Partner, Practice, Rota, Skill
from thirdway.network.oncall import describe_gaps, monday_of, plans_of
from thirdway.network.places import hours_in_zone
from thirdway.network.schedule import available_ids
from thirdway.web.forms import add_service_errors
from thirdway.web.pages import require_practice_admin
from thirdway.web.pages import require_staff as _require_staff

PAGE_SIZE = 50


def _partners(request: HttpRequest):
    skills = Prefetch("skills", queryset=Skill.objects.select_related("practice"))
    return Partner.objects.for_user(request.user).prefetch_related(skills)


@login_required
def partner_list(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    form = PartnerFilterForm(request.GET or None)
    partners = _partners(request).filter(is_active=True)
    now = timezone.now()
    if form.is_valid():
        if form.cleaned_data["practice"]:
            partners = partners.filter(skills__practice=form.cleaned_data["practice"])
        if form.cleaned_data["region"]:
            partners = partners.filter(region__iexact=form.cleaned_data["region"])
        if form.cleaned_data["available_now"]:
            partners = partners.filter(pk__in=available_ids(partners, now))
    page = Paginator(partners, PAGE_SIZE).get_page(request.GET.get("page"))
    available = available_ids(Partner.objects.filter(pk__in=[p.pk for p in page]), now)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "available": available, "querystring": query.urlencode()}
    template = "network/_partner_rows.html" if request.htmx else "network/partner_list.html"
    return render(request, template, context)


@login_required
def partner_detail(request: HttpRequest, partner_id: int) -> HttpResponse:
    _require_staff(request)
    partner = get_object_or_404(_partners(request), pk=partner_id)
    return render(request, "network/partner_detail.html", _detail_context(request, partner))


def _detail_context(request: HttpRequest, partner: Partner, absence_form=None) -> dict:
    now = timezone.now()
    return {
        "partner": partner,
        "hours": hours_in_zone(
            partner.working_hours, partner.time_zone, request.user.time_zone, now.date()
        ),
        "viewer_zone": request.user.time_zone,
        "available": partner.pk in available_ids(Partner.objects.filter(pk=partner.pk), now),
        "absences": partner.absences.filter(ends_at__gt=now).select_related("deputy"),
        "can_edit": services.can_edit_partner(request.user, partner),
        "can_manage_absences": services.can_manage_absences(request.user, partner),
        "absence_form": absence_form or AbsenceForm(partner=partner, user=request.user),
        "records": AuditRecord.objects.for_scope(f"partner:{partner.pk}")[:50],
    }


@login_required
def partner_create(request: HttpRequest) -> HttpResponse:
    require_practice_admin(request)
    form = PartnerCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner = services.create_partner(request.user, source=Source.WEB, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{partner} added to the network.")
            return redirect("network:partner_detail", partner.pk)
    return render(request, "network/partner_form.html", {"form": form, "partner": None})


@login_required
def partner_edit(request: HttpRequest, partner_id: int) -> HttpResponse:
    _require_staff(request)
    partner = get_object_or_404(_partners(request), pk=partner_id)
    if not services.can_edit_partner(request.user, partner):
        raise PermissionDenied
    allowed = None if request.user.is_practice_admin else services.SELF_SERVICE_FIELDS
    form = PartnerForm(request.POST or None, instance=partner, allowed_fields=allowed)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        fresh = Partner.objects.get(pk=partner.pk)
        try:
            services.update_partner(request.user, fresh, data, source=Source.WEB)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("network:partner_detail", partner.pk)
    return render(request, "network/partner_form.html", {"form": form, "partner": partner})


@login_required
@require_POST
def absence_add(request: HttpRequest, partner_id: int) -> HttpResponse:
    _require_staff(request)
    partner = get_object_or_404(_partners(request), pk=partner_id)
    form = AbsenceForm(request.POST, partner=partner, user=request.user)
    if form.is_valid():
        try:
            services.add_absence(request.user, partner, source=Source.WEB, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Absence recorded.")
            return redirect("network:partner_detail", partner.pk)
    context = _detail_context(request, partner, absence_form=form)
    return render(request, "network/partner_detail.html", context, status=400)


@login_required
@require_POST
def absence_cancel(request: HttpRequest, partner_id: int, absence_id: int) -> HttpResponse:
    _require_staff(request)
    partner = get_object_or_404(_partners(request), pk=partner_id)
    absence = get_object_or_404(partner.absences.all(), pk=absence_id)
    services.cancel_absence(request.user, absence, source=Source.WEB)
    messages.success(request, "Absence cancelled.")
    return redirect("network:partner_detail", partner.pk)


@login_required
def practice_list(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    practices = Practice.objects.for_user(request.user).select_related("lead")
    return render(request, "network/practice_list.html", {"practices": practices})


@login_required
def practice_detail(request: HttpRequest, practice_id: int) -> HttpResponse:
    _require_staff(request)
    practice = get_object_or_404(
        Practice.objects.for_user(request.user).select_related("lead"), pk=practice_id
    )
    skills = practice.skills.filter(partner__is_active=True).select_related("partner")
    context = {
        "practice": practice,
        "skills": skills.order_by("-level", "partner__name"),
        "records": AuditRecord.objects.for_scope(f"practice:{practice.pk}")[:50],
    }
    return render(request, "network/practice_detail.html", context)


# --- on call -------------------------------------------------------------------------------


def _at(request: HttpRequest) -> dt.datetime:
    """The instant asked about (``?at=YYYY-MM-DDTHH:MM`` in the viewer's zone), else now."""
    text = request.GET.get("at") or ""
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return timezone.now()
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@login_required
def on_call(request: HttpRequest) -> HttpResponse:
    """Who is on call for each rota at a time, the week ahead, and hours nobody covers."""
    _require_staff(request)
    at = _at(request)
    names = dict(Partner.objects.values_list("pk", "name"))
    rows = []
    rotas = list(Rota.objects.select_related("practice"))
    for rota, plan in zip(rotas, plans_of(rotas, at, at + dt.timedelta(days=7)), strict=True):
        week = plan.segments(at, at + dt.timedelta(days=7))
        gaps = plan.gaps(monday_of(at)) if rota.covers_24x7 else []
        rows.append(
            {
                "rota": rota,
                "now": names.get(plan.on_call_at(at)),
                "week": [(s, e, names.get(who)) for s, e, who in week],
                "gaps": describe_gaps(gaps),
            }
        )
    me = getattr(request.user, "partner", None)
    context = {"at": at, "rows": rows, "me": me, "feed_url": request.session.pop("feed_url", "")}
    return render(request, "network/on_call.html", context)


@login_required
@require_POST
def on_call_feed_reset(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    me = getattr(request.user, "partner", None)
    if me is None:
        raise Http404
    token = services.reset_on_call_feed(request.user, me, source=Source.WEB)
    # Shown once, on the next page: only the digest is stored.
    request.session["feed_url"] = request.build_absolute_uri(
        reverse("network:on_call_feed", args=[token])
    )
    messages.success(request, "A new calendar address was made; the old one no longer works.")
    return redirect("network:on_call")


def on_call_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCal feed behind a secret address (no sign-in: phone calendars cannot)."""
    feed = (
        OnCallFeed.objects.select_related("partner")
        .filter(token_digest=services.feed_digest(token), partner__is_active=True)
        .first()
    )
    if feed is None:
        raise Http404
    body = on_call_calendar(feed.partner, timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
