from django import forms
from django.utils.translation import gettext_lazy as _

from core.uploads import PrivateFileField

from .models import FilingProof


class ProofUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Proof"), choices=FilingProof.Kind.choices)
    file = PrivateFileField(
        label=_("File (PDF, JPEG or PNG, at most 10 MB)"),
        help_text=_("A clear photo taken with your phone is fine."),
    )


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the return"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("The manager sees this reason and fixes the filing accordingly."),
    )


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=20,
        help_text=_("The 12-character code printed beside the QR code of the certificate."),
    )


class LookupForm(forms.Form):
    number = forms.CharField(
        label=_("Registration number"),
        max_length=20,
        help_text=_(
            "The registration number the manager gives you (printed on the filing certificate)."
        ),
    )
