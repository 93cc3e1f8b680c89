"""Forms of the desk; they only shape input, the ticket services decide."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from thirdway.clients.models import Asset, Client, Contact, Site
from thirdway.network.models import Partner, Practice
from thirdway.tickets.lifecycle import LABELS, Status
from thirdway.tickets.models import (
    CannedReply,
    LinkKind,
    TicketType,
    WebhookFormat,
    WorkType,
    pk_of_number,
)
from thirdway.tickets.pickers import PICKER_THRESHOLD
from thirdway.tickets.services import Upload
from thirdway.tickets.webhooks.events import ALL_EVENTS

LEVELS = [(1, "1 · high"), (2, "2 · medium"), (3, "3 · low")]
PRIORITIES = [(1, "P1"), (2, "P2"), (3, "P3"), (4, "P4")]
SORTS = [
    ("updated", "Last updated"),
    ("created", "Newest"),
    ("priority", "Priority"),
    ("sla", "Breaches soonest"),
]
SLA_FILTERS = [
    ("", "Any SLA"),
    ("breached", "Breached"),
    ("soon1h", "Breaching within 1 h"),
    ("soon", "Breaching within 4 h"),
    ("missed", "Resolved late"),
]
RESOLVED_FILTERS = [("", "Any time"), ("7d", "Last 7 days"), ("30d", "Last 30 days")]
VISIT_FILTERS = [("", "Any day"), ("today", "Today")]
# The keys of the queue's query string that a saved view keeps (never the page number).
QUERY_KEYS = (
    "queue",
    "status",
    "priority",
    "client",
    "practice",
    "assignee",
    "tag",
    "q",
    "sla",
    "resolved",
    "visit",
    "sort",
)
# A resolution note (the reason given when resolving or closing) fits a short paragraph.
RESOLUTION_LENGTH = 1000
VISIT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


def _partner_choices(partners) -> list[tuple[str, str]]:
    return [(str(partner.pk), partner.name) for partner in partners]


def _typed_assignee(label: str) -> forms.CharField:
    """For a network too large for a select: ``me``, ``none``, a partner's id (or name)."""
    return forms.CharField(
        required=False,
        max_length=150,
        label=label,
        widget=forms.TextInput(attrs={"placeholder": "me, none, or a partner's id"}),
    )


# --- the queue ---------------------------------------------------------------------------------


# Past this many choices a select is no help to anyone, and slow to build.
LONG_LIST = 300


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(required=False)
    priority = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, choices=[("", "Any priority"), *PRIORITIES]
    )
    client = forms.ModelChoiceField(Client.objects.none(), required=False, empty_label="Any client")
    practice = forms.ModelChoiceField(
        Practice.objects.none(), required=False, empty_label="Any practice"
    )
    assignee = forms.ChoiceField(required=False)
    tag = forms.CharField(
        required=False, max_length=50, widget=forms.TextInput(attrs={"placeholder": "Tag"})
    )
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Text",
        widget=forms.TextInput(attrs={"placeholder": "Filter by words or a ticket number"}),
    )
    sla = forms.ChoiceField(required=False, choices=SLA_FILTERS, label="SLA")
    resolved = forms.ChoiceField(required=False, choices=RESOLVED_FILTERS, label="Resolved")
    visit = forms.ChoiceField(required=False, choices=VISIT_FILTERS, label="Visit")
    sort = forms.ChoiceField(required=False, choices=SORTS)

    def __init__(self, *args, user, partners, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        statuses = [(status.value, LABELS[status]) for status in Status]
        self.fields["status"].choices = [("", "Any status"), ("open", "Any open"), *statuses]
        clients = Client.objects.for_user(user)
        count = clients.order_by()[: LONG_LIST + 1].count()
        # Past a few dozen clients the bar types and picks a client (its id is sent).
        self.client_picker = count > PICKER_THRESHOLD
        self.client_label = ""
        raw = str(self.data.get("client") or "") if self.is_bound else ""
        if self.client_picker and raw.isdigit() and len(raw) <= 18:
            self.client_label = clients.filter(pk=int(raw)).values_list("name", flat=True).first()
        if count > LONG_LIST:
            # A desk serving thousands of clients types a name instead of scrolling a list.
            self.fields["client"] = forms.CharField(
                required=False,
                max_length=200,
                label="Client",
                widget=forms.TextInput(attrs={"placeholder": "Client name or id"}),
            )
        else:
            self.fields["client"].queryset = clients.only("pk", "name").order_by("name")
        self.fields["practice"].queryset = Practice.objects.for_user(user)
        if partners.count() > LONG_LIST:
            self.fields["assignee"] = _typed_assignee("Assignee")
            self.fields["assignee"].widget.attrs["placeholder"] = "me, none, a name or an id"
        else:
            self.fields["assignee"].choices = [
                ("", "Anyone"),
                ("me", "Me"),
                ("none", "Nobody"),
                *_partner_choices(partners),
            ]


class BulkForm(forms.Form):
    """The same change to the tickets ticked on the queue; empty fields change nothing."""

    ticket = forms.TypedMultipleChoiceField(coerce=int)
    status = forms.ChoiceField(required=False)
    assignee = forms.ChoiceField(required=False)
    priority = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, choices=[("", "Priority"), *PRIORITIES]
    )
    reason = forms.CharField(required=False, max_length=250)

    def __init__(self, *args, partners, ticket_ids=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        statuses = [(s.value, LABELS[s]) for s in Status if s != Status.MERGED]
        self.fields["status"].choices = [("", "Status"), *statuses]
        if partners.count() > LONG_LIST:
            self.fields["assignee"] = _typed_assignee("Assignee")
        else:
            self.fields["assignee"].choices = [
                ("", "Assignee"),
                ("me", "Me"),
                ("none", "Nobody (back to the queue)"),
                *_partner_choices(partners),
            ]
        self.fields["ticket"].choices = [(pk, pk) for pk in ticket_ids]

    def clean(self):
        data = super().clean()
        if not (data.get("status") or data.get("assignee") or data.get("priority")):
            raise forms.ValidationError("Choose a status, an assignee or a priority to apply.")
        return data


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=80)
    query = forms.CharField(required=False, max_length=2000)


# --- uploads -----------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files; each one over ``ATTACHMENT_MAX_BYTES`` refuses the whole form."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        cleaned = [super(AttachmentsField, self).clean(item, initial) for item in files if item]
        limit = settings.ATTACHMENT_MAX_BYTES
        too_large = [item for item in cleaned if item.size > limit]
        if too_large:
            raise forms.ValidationError(
                [
                    f"{item.name} is {filesizeformat(item.size)}; "
                    f"the limit is {filesizeformat(limit)} per file."
                    for item in too_large
                ]
            )
        return cleaned


def uploads_of(files) -> list[Upload]:
    return [Upload(filename=item.name, content=item.read()) for item in files]


# --- the ticket page ---------------------------------------------------------------------------


class ReplyForm(forms.Form):
    canned = forms.ModelChoiceField(
        CannedReply.objects.none(), required=False, label="Canned reply", empty_label="—"
    )
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}))
    internal = forms.BooleanField(required=False, label="Internal note (network only)")
    time_spent_minutes = forms.IntegerField(
        required=False, min_value=0, max_value=24 * 60, label="Time spent (minutes)"
    )
    work_type = forms.ChoiceField(
        choices=WorkType.choices, initial=WorkType.REMOTE, required=False, label="Work"
    )
    billable = forms.BooleanField(required=False, initial=True, label="Billable")
    then_status = forms.ChoiceField(required=False, label="And set status")
    attachments = AttachmentsField()

    def __init__(self, *args, canned=None, next_statuses=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if canned is not None:
            self.fields["canned"].queryset = canned
        self.fields["then_status"].choices = [("", "Keep the status"), *next_statuses]

    def clean_work_type(self) -> str:
        return self.cleaned_data["work_type"] or WorkType.REMOTE

    def clean(self):
        data = super().clean()
        # Without JavaScript the canned reply cannot fill the box; an empty box takes it then.
        if not (data.get("body") or "").strip() and data.get("canned"):
            data["body"] = data["canned"].body
        return data


class AssignForm(forms.Form):
    """``me``, a partner's id, or nothing (back to the queue)."""

    partner = forms.CharField(required=False, max_length=30)
    partner_search = forms.CharField(required=False, max_length=100)
    reason = forms.CharField(required=False, max_length=250)


class StatusForm(forms.Form):
    # Any value is passed on: the lifecycle refuses what it does not allow and lists the rest.
    status = forms.CharField(max_length=30)
    reason = forms.CharField(required=False, max_length=RESOLUTION_LENGTH)
    force = forms.BooleanField(required=False)


class PriorityForm(forms.Form):
    impact = forms.TypedChoiceField(coerce=int, choices=LEVELS)
    urgency = forms.TypedChoiceField(coerce=int, choices=LEVELS)
    priority = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "From the matrix"), *PRIORITIES],
        label="Override",
    )
    reason = forms.CharField(required=False, max_length=250)


class TicketRefField(forms.CharField):
    """A ticket number as people type it: ``TW-10234`` or ``10234``."""

    def clean(self, value):
        value = super().clean(value)
        pk = pk_of_number(value or "")
        if pk is None:
            raise forms.ValidationError(f"{value!r} is not a ticket number (like TW-10001).")
        return pk


class MergeForm(forms.Form):
    target = TicketRefField(max_length=30, label="Merge into")


class LinkForm(forms.Form):
    target = TicketRefField(max_length=30, label="Ticket")
    kind = forms.ChoiceField(choices=LinkKind.choices)


class SplitForm(forms.Form):
    articles = forms.TypedMultipleChoiceField(coerce=int)
    subject = forms.CharField(required=False, max_length=250)

    def __init__(self, *args, article_ids=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["articles"].choices = [(pk, pk) for pk in article_ids]
        self.fields["articles"].error_messages["required"] = "Tick the articles to split off."


# --- a new ticket --------------------------------------------------------------------------------


class NewTicketForm(forms.Form):
    client = forms.ModelChoiceField(Client.objects.none(), empty_label="Choose a client")
    requester = forms.ModelChoiceField(Contact.objects.none(), required=False)
    site = forms.ModelChoiceField(Site.objects.none(), required=False)
    asset = forms.ModelChoiceField(Asset.objects.none(), required=False)
    practice = forms.ModelChoiceField(Practice.objects.none(), required=False)
    type = forms.ChoiceField(choices=TicketType.choices, initial=TicketType.INCIDENT)
    impact = forms.TypedChoiceField(coerce=int, choices=LEVELS, initial=2)
    urgency = forms.TypedChoiceField(coerce=int, choices=LEVELS, initial=2)
    priority = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "From impact × urgency"), *PRIORITIES],
        label="Priority override",
    )
    priority_reason = forms.CharField(required=False, max_length=250, label="Override reason")
    needs_onsite = forms.BooleanField(required=False, label="Needs on-site")
    visit_starts_at = forms.DateTimeField(
        required=False,
        input_formats=VISIT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        label="Visit from",
    )
    visit_ends_at = forms.DateTimeField(
        required=False,
        input_formats=VISIT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        label="Visit until",
    )
    tags = forms.CharField(required=False, max_length=500, help_text="Separated by commas.")
    subject = forms.CharField(max_length=250)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), label="Description")
    attachments = AttachmentsField()

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        clients = Client.objects.for_user(user).order_by("name")
        self.fields["client"].queryset = clients
        # Past a few dozen clients a select is no help: the desk types and picks instead.
        self.clients_typed = clients.order_by()[: PICKER_THRESHOLD + 1].count() > PICKER_THRESHOLD
        if self.is_bound and not self.data.get("client") and self.data.get("client_search"):
            # Typed but not picked (no JavaScript): the client with that id or exact name.
            self.data = self.data.copy()
            self.data["client"] = _typed_client(clients, self.data["client_search"])
        self.fields["practice"].queryset = Practice.objects.for_user(user)
        self.chosen_client = self._chosen_client(clients)
        if self.chosen_client is not None:
            # Only this client's people, sites and assets are offered (and accepted).
            self.fields["requester"].queryset = Contact.objects.for_user(user).filter(
                client=self.chosen_client, is_active=True
            )
            self.fields["site"].queryset = Site.objects.for_user(user).filter(
                client=self.chosen_client
            )
            self.fields["asset"].queryset = Asset.objects.for_user(user).filter(
                client=self.chosen_client
            )

    def _chosen_client(self, clients) -> Client | None:
        raw = self.data.get("client") if self.is_bound else self.initial.get("client")
        if isinstance(raw, Client):
            return raw if clients.filter(pk=raw.pk).exists() else None
        if not str(raw or "").isdigit():
            return None
        return clients.filter(pk=int(raw)).first()

    def clean_tags(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]

    def clean(self):
        data = super().clean()
        starts, ends = data.get("visit_starts_at"), data.get("visit_ends_at")
        if starts and ends and ends <= starts:
            self.add_error("visit_ends_at", "The visit must end after it starts.")
        if (starts or ends) and not data.get("needs_onsite"):
            self.add_error("needs_onsite", "A visit window is for tickets that need on-site.")
        return data


def _typed_client(clients, text: str) -> str:
    """The id of the client typed by id or exact name; else the text itself (which the form
    then refuses as not a choice)."""
    text = text.strip()[:200]
    if text.isdigit():
        return text
    found = list(clients.filter(name__iexact=text).values_list("pk", flat=True)[:2])
    return str(found[0]) if len(found) == 1 else text


def partner_for(user, value: str, partners) -> Partner | None:
    """The partner an assignment names: ``me``, an id among ``partners``; None for nobody."""
    if value == "me":
        partner = getattr(user, "partner", None)
        if partner is None or not partner.is_active:
            raise forms.ValidationError("You have no active partner record to assign to.")
        return partner
    if value.lower() in ("", "none", "nobody"):
        return None
    if value.isdigit() and len(value) <= 18:
        found = partners.filter(pk=value).first()
        if found is None:
            raise forms.ValidationError(f"No active partner with id {value}.")
        return found
    found = partners.filter(name__iexact=value).first()
    if found is None:
        raise forms.ValidationError(f"No active partner named “{value}”: pick one from the list.")
    return found


class WebhookForm(forms.Form):
    """A webhook's settings; the webhook services validate them (as for the API)."""

    name = forms.CharField(max_length=100)
    url = forms.CharField(max_length=500, label="URL", help_text="Where the events are POSTed.")
    events = forms.MultipleChoiceField(
        choices=[(name, name) for name in ALL_EVENTS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )
    format = forms.ChoiceField(
        choices=WebhookFormat.choices,
        initial=WebhookFormat.THIRDWAY,
        required=False,
        label="Signature format",
        help_text="Standard Webhooks: receivers verify with any Standard Webhooks library.",
    )
    client = forms.ModelChoiceField(
        queryset=Client.objects.none(), required=False, empty_label="Every client"
    )
    allow_private_target = forms.BooleanField(
        required=False,
        label="Allow an internal address",
        help_text="Only for a receiver inside your own network.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args, user, hook=None, **kwargs) -> None:
        if hook is not None:
            kwargs.setdefault(
                "initial",
                {name: getattr(hook, name) for name in self.base_fields if name != "client"}
                | {"client": hook.client_id},
            )
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.for_user(user)

    def payload(self) -> dict:
        data = dict(self.cleaned_data)
        data["client"] = data["client"].pk if data["client"] else None
        if not data.get("format"):  # not sent: the webhook keeps its format (new: Thirdway's)
            data.pop("format", None)
        return data


class CannedReplyForm(forms.Form):
    """A canned reply: the practice's (admins) or one's own."""

    name = forms.CharField(max_length=80)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))
    scope = forms.ChoiceField(
        choices=[("mine", "Only me"), ("shared", "Every partner")],
        initial="mine",
        label="Who uses it",
    )
    practice = forms.ModelChoiceField(
        queryset=Practice.objects.all(),
        required=False,
        empty_label="Every practice",
        help_text="A shared reply offered on this practice's tickets only.",
    )

    def __init__(self, *args, user, reply=None, **kwargs) -> None:
        if reply is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": reply.name,
                    "body": reply.body,
                    "scope": "mine" if reply.owner_id else "shared",
                    "practice": reply.practice_id,
                },
            )
        super().__init__(*args, **kwargs)
        if not user.is_practice_admin:  # a partner keeps replies for themselves only
            del self.fields["scope"]
            del self.fields["practice"]

    def payload(self) -> dict:
        data = dict(self.cleaned_data)
        data.setdefault("scope", "mine")
        data.setdefault("practice", None)
        return data
