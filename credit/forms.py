from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.uploads import PrivateFileField

from .models import Objection, ScoreLine


class ObjectionForm(forms.Form):
    target = forms.ChoiceField(label=_("Objection to"), choices=Objection.Target.choices)
    pk = forms.IntegerField(required=False, widget=forms.HiddenInput)
    year = forms.IntegerField(required=False, widget=forms.HiddenInput)
    deduction = forms.ChoiceField(
        required=False,
        choices=[("", "")]
        + [(r, label) for r, label in ScoreLine.Rule.choices if r in ScoreLine.DEDUCTIONS],
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(
        label=pgettext_lazy("credit", "Reason"), widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence = PrivateFileField(label=_("Evidence"), required=False)


class RepairForm(forms.Form):
    statement = forms.CharField(
        label=_("How the matter was put right"), widget=forms.Textarea(attrs={"rows": 3})
    )
    proof = PrivateFileField(label=_("Proof of rectification"))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("uphold", _("Uphold")), ("reject", _("Reject"))],
    )
    reason = forms.CharField(
        label=pgettext_lazy("credit", "Reason"), widget=forms.Textarea(attrs={"rows": 2})
    )


class ListForm(forms.Form):
    registration_number = forms.CharField(label=_("Registration number"), max_length=32)
    reason = forms.CharField(
        label=pgettext_lazy("credit", "Reason"), widget=forms.Textarea(attrs={"rows": 2})
    )
    public_reason = forms.CharField(label=_("Public reason"), max_length=200, required=False)
    days = forms.IntegerField(
        label=_("Days on the list"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=_("Empty: the period of the jurisdiction's credit policy."),
    )


class DelistForm(forms.Form):
    reason = forms.CharField(
        label=pgettext_lazy("credit", "Reason"), widget=forms.Textarea(attrs={"rows": 2})
    )
