"""The rating form (a click on one of the buttons sends the score)."""

from __future__ import annotations

from django import forms

from thirdway.insights.models import COMMENT_LENGTH, Rating


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(choices=Rating.choices, coerce=int)
    comment = forms.CharField(
        required=False,
        max_length=COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Anything to add? (optional)",
    )
