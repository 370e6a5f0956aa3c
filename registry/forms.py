from django import forms
from django.utils.translation import gettext_lazy as _

from core.uploads import PrivateFileField

from .models import FilingProof


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ProofFilesField(PrivateFileField):
    """One file or several photos (the pages of one proof); each checked like any upload.
    Cleans to a list of files."""

    #: Photos from the camera or the gallery, or a PDF (the server judges the content).
    ACCEPT = "image/*,application/pdf"

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", _MultipleFileInput())
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs["accept"] = self.ACCEPT
        return attrs

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            if not data:
                return [single(None, initial)]  # "required"
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class ProofUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Proof"), choices=FilingProof.Kind.choices)
    file = ProofFilesField(
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
    """The public lookup: the registration number together with the name, or the code of a
    filing certificate. A number alone is not enough (numbers are sequential)."""

    number = forms.CharField(
        label=_("Registration number"),
        max_length=20,
        required=False,
        help_text=_(
            "The registration number the manager gives you (printed on the filing certificate)."
        ),
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=50,
        required=False,
        help_text=_("The manager's name, as on the certificate."),
    )
    code = forms.CharField(
        label=_("Or the certificate's verification code"),
        max_length=20,
        required=False,
        help_text=_("The 12-character code printed beside the QR code of the certificate."),
    )

    def clean(self):
        data = super().clean()
        number, name, code = (data.get(key, "").strip() for key in ("number", "name", "code"))
        if not code and not (number and name):
            raise forms.ValidationError(
                _("Enter the registration number and the name together, or the certificate code.")
            )
        return data
