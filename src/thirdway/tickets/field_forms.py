"""One form per descriptive field of a ticket, for editing it in place on the ticket page.

Each form has a single field named after the ticket's field; the choices are the ones the
services accept (the ticket's own client's people, sites and assets; practices and staff the
editor can see), so what the page offers is what the services take.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from thirdway.accounts.models import STAFF_ROLES
from thirdway.clients.models import Asset, Contact, Site
from thirdway.network.models import Practice
from thirdway.tickets.models import MAX_TAGS, TAG_LENGTH, Ticket, TicketType
from thirdway.tickets.pickers import PICKER_THRESHOLD

# The fields in the order the page shows them, with the label each is shown under.
EDITABLE = {
    "subject": "Subject",
    "requester": "Requester",
    "practice": "Practice",
    "type": "Type",
    "category": "Category",
    "site": "Site",
    "asset": "Asset",
    "tags": "Tags",
    "watchers": "Watchers",
}


def watcher_choices(user, ticket: Ticket):
    """Who may watch: active network staff, and the people of the ticket's client with an
    account (whom the portal then shows the ticket)."""
    staff = Q(role__in=STAFF_ROLES)
    contacts = Q(contact__client_id=ticket.client_id, contact__is_active=True)
    return get_user_model().objects.filter(is_active=True).filter(staff | contacts).distinct()


class _Label(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


def field_form(user, ticket: Ticket, name: str, data=None) -> forms.Form:
    """The form editing ``name`` on ``ticket``, bound to ``data`` when given."""
    if name not in EDITABLE:
        raise KeyError(name)
    label = EDITABLE[name]
    client_id = ticket.client_id
    field: forms.Field
    initial: object
    if name == "subject":
        field = forms.CharField(
            max_length=250,
            label=label,
            error_messages={"required": "A ticket needs a subject."},
        )
        initial = ticket.subject
    elif name == "category":
        field = forms.CharField(max_length=100, required=False, label=label)
        initial = ticket.category
    elif name == "type":
        field = forms.ChoiceField(choices=TicketType.choices, label=label)
        initial = ticket.type
    elif name == "practice":
        field = forms.ModelChoiceField(
            Practice.objects.for_user(user), required=False, label=label, empty_label="None"
        )
        initial = ticket.practice_id
    elif name == "requester":
        people = Contact.objects.for_user(user).filter(client_id=client_id, is_active=True)
        field = forms.ModelChoiceField(
            people.order_by("name"), required=False, label=label, empty_label="Nobody"
        )
        initial = ticket.requester_id
    elif name == "site":
        sites = Site.objects.for_user(user).filter(client_id=client_id).order_by("name")
        field = forms.ModelChoiceField(sites, required=False, label=label, empty_label="None")
        initial = ticket.site_id
    elif name == "asset":
        assets = Asset.objects.for_user(user).filter(client_id=client_id).order_by("name")
        field = forms.ModelChoiceField(assets, required=False, label=label, empty_label="None")
        initial = ticket.asset_id
    elif name == "tags":
        field = forms.CharField(
            required=False,
            max_length=MAX_TAGS * (TAG_LENGTH + 2),
            label=label,
            help_text=f"Separated by commas; at most {MAX_TAGS}.",
        )
        initial = ", ".join(ticket.tags.order_by("name").values_list("name", flat=True))
    else:
        field = _Label(
            watcher_choices(user, ticket).order_by("first_name", "username"),
            required=False,
            label=label,
            help_text="Hold Ctrl (⌘ on a Mac) to pick several.",
        )
        initial = list(ticket.watchers.values_list("pk", flat=True))
    form = forms.Form(data=data, initial={name: initial})
    form.fields[name] = field
    form.picker = _picker_for(name, field, ticket)  # type: ignore[attr-defined]
    return form


def _picker_for(name: str, field: forms.Field, ticket: Ticket) -> dict | None:
    """A type-ahead picker instead of the select when it would list too many rows."""
    kinds = {"requester": "contact", "asset": "asset"}
    if name not in kinds or not isinstance(field, forms.ModelChoiceField):
        return None
    queryset = field.queryset
    if queryset.order_by()[: PICKER_THRESHOLD + 1].count() <= PICKER_THRESHOLD:
        return None
    current = getattr(ticket, name)
    return {
        "kind": kinds[name],
        "params": f"client={ticket.client_id}",
        "value": current.pk if current else "",
        "label": current.name if current else "",
    }


def service_value(name: str, value):
    """The form's clean value as the ticket services take it (ids, lists of names)."""
    if name in ("practice", "requester", "site", "asset"):
        return value.pk if value is not None else None
    if name == "tags":
        return [part.strip() for part in value.split(",") if part.strip()]
    return value
