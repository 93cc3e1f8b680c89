"""Forms of the vault; they only shape input, the services decide."""

from __future__ import annotations

from django import forms

from thirdway.vault.models import Document, DocumentKind, ExpiryItem, UnscannedFiles, Visibility
from thirdway.vault.services._shared import MAX_REASON
from thirdway.vault.services.credentials import MAX_NOTES, MAX_SECRET


class _LinkedForm(forms.Form):
    """A form with an optional site and asset of its client."""

    LINKS_AFTER = 2

    def __init__(self, *args, client, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"] = forms.ModelChoiceField(client.sites.all(), required=False)
        self.fields["asset"] = forms.ModelChoiceField(client.assets.all(), required=False)
        names = list(self.fields)
        # The site and asset come after the record's own first fields, before long texts.
        self.order_fields([*names[: self.LINKS_AFTER], "site", "asset"])

    def linked_ids(self) -> dict:
        data = dict(self.cleaned_data)
        site, asset = data.pop("site", None), data.pop("asset", None)
        return {
            **data,
            "site_id": site.pk if site else None,
            "asset_id": asset.pk if asset else None,
        }


class CredentialForm(_LinkedForm):
    LINKS_AFTER = 4
    name = forms.CharField(max_length=150)
    username = forms.CharField(max_length=200, required=False)
    secret = forms.CharField(
        max_length=MAX_SECRET,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Never shown again here: reveal it, with a reason, to see it.",
    )
    url = forms.CharField(label="Address", max_length=500, required=False)
    totp_seed = forms.CharField(
        label="TOTP seed",
        max_length=128,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Base32; only the current code is ever shown.",
    )
    notes = forms.CharField(max_length=MAX_NOTES, required=False, widget=forms.Textarea)
    shared_with_client_admins = forms.BooleanField(
        required=False, label="The client's admins may see and reveal it"
    )


class RevealForm(forms.Form):
    reason = forms.CharField(
        max_length=MAX_REASON,
        min_length=4,
        help_text=f"Why you need it (4 to {MAX_REASON} characters); it is recorded.",
    )


class DocumentForm(_LinkedForm):
    LINKS_AFTER = 3
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=DocumentKind.choices)
    visibility = forms.ChoiceField(choices=Visibility.choices, label="Who sees it")
    body = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 20}), max_length=Document.MAX_BODY
    )


class DocumentSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")


class ExpiryForm(_LinkedForm):
    LINKS_AFTER = 4
    kind = forms.ChoiceField(choices=ExpiryItem._meta.get_field("kind").choices)
    name = forms.CharField(max_length=200)
    expires_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reminder_steps = forms.CharField(
        max_length=60,
        initial="60,30,14,7,1",
        help_text="Days before the expiry date, e.g. 60,30,14,7,1.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea, max_length=10_000)


class SnoozeForm(forms.Form):
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


# --- files -----------------------------------------------------------------------------------


class FileUploadForm(forms.Form):
    file = forms.FileField(allow_empty_file=True)
    name = forms.CharField(
        max_length=1000, required=False, help_text="Leave empty to keep the file's own name."
    )


class FileVersionForm(forms.Form):
    file = forms.FileField(allow_empty_file=True, label="New version")


class FolderForm(forms.Form):
    name = forms.CharField(max_length=1000, label="New folder")


class FileNoteForm(forms.Form):
    text = forms.CharField(max_length=5000, label="Note", widget=forms.Textarea(attrs={"rows": 3}))


class FileExpiryForm(forms.Form):
    expires_on = forms.DateField(
        required=False,
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="After this day the file leaves the lists and is archived; reminders come "
        "before. Empty: never.",
    )


class FileCopyForm(forms.Form):
    folder = forms.TypedChoiceField(coerce=int, label="Copy into")
    name = forms.CharField(max_length=1000)

    def __init__(self, *args, folders, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["folder"].choices = folders


class GrantForm(forms.Form):
    audience = forms.ChoiceField(
        choices=[
            ("practice", "The practice (admins, desk, associates)"),
            ("partner", "Partners"),
            ("client_admin", "The client's admins"),
            ("client_user", "The client's users"),
        ]
    )
    access = forms.ChoiceField(
        choices=[
            ("inherit", "As the parent folder"),
            ("none", "No access"),
            ("read", "Read"),
            ("write", "Read and write"),
        ]
    )


class FolderLimitForm(forms.Form):
    limit = forms.CharField(
        max_length=30,
        required=False,
        label="Limit of this folder",
        help_text="Subfolders included, e.g. 500 MB or 2 GB; empty for no limit.",
    )


class VaultSettingsForm(forms.Form):
    unscanned_files = forms.ChoiceField(
        choices=UnscannedFiles.choices,
        widget=forms.RadioSelect,
        label="An upload while the scanner is unreachable",
    )


class QuotaForm(forms.Form):
    limit_mb = forms.IntegerField(min_value=0, max_value=2**40, label="Quota (MB)")


class FileMoveForm(forms.Form):
    """Where a file goes (a folder one may write) and its name there."""

    folder = forms.TypedChoiceField(coerce=int, label="Folder")
    name = forms.CharField(max_length=1000, label="Name")

    def __init__(self, *args, folders, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["folder"].choices = folders


class FolderMoveForm(forms.Form):
    """The folder a folder goes under and its name there."""

    parent = forms.TypedChoiceField(coerce=int, label="Under")
    name = forms.CharField(max_length=1000, label="Name")

    def __init__(self, *args, folders, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = folders
