from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import DateInput
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
    """The reason of a return and, optionally, a note on each proof to correct: the manager
    sees those proofs (and only those) marked on his filing page."""

    reason = forms.CharField(
        label=_("Reason for the return"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("The manager sees this reason and fixes the filing accordingly."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in FilingProof.Kind:
            self.fields[f"mark_{kind.value}"] = forms.CharField(
                label=_("To correct in “%(kind)s”") % {"kind": kind.label},
                required=False,
                max_length=500,
                widget=forms.TextInput(attrs={"placeholder": _("Leave empty if it is fine")}),
            )

    def mark_fields(self):
        return [self[f"mark_{kind.value}"] for kind in FilingProof.Kind]

    def marks(self) -> dict[str, str]:
        """proof kind → note, for the proofs given a note."""
        return {
            kind.value: self.cleaned_data[f"mark_{kind.value}"].strip()
            for kind in FilingProof.Kind
            if self.cleaned_data.get(f"mark_{kind.value}", "").strip()
        }


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


class AssignForm(forms.Form):
    """Assign filings to an official (empty: to nobody)."""

    assignee = forms.ModelChoiceField(
        label=_("Official"),
        queryset=None,
        required=False,
        empty_label=_("Nobody (remove the assignment)"),
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff
        self.fields["assignee"].label_from_instance = lambda u: u.get_full_name() or u.email


class BulkExtensionForm(forms.Form):
    """A later deadline for many managers at once, named by their registration numbers."""

    numbers = forms.CharField(
        label=_("Registration numbers"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=100_000,
        help_text=_("One or more, separated by spaces, commas or new lines."),
    )
    year = forms.IntegerField(label=_("Filing year"), min_value=2000, max_value=2100)
    until = forms.DateField(label=_("New deadline"), widget=DateInput())
    reason = forms.CharField(
        label=_("Reason for the extension"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text=_("Each manager is told the new deadline and this reason."),
    )

    def clean_numbers(self) -> list[str]:
        text = self.cleaned_data["numbers"]
        numbers = [n.strip().upper() for n in text.replace(",", " ").replace("，", " ").split()]
        numbers = list(dict.fromkeys(n for n in numbers if n))
        if not numbers:
            raise forms.ValidationError(_("Give at least one registration number."))
        return numbers
