from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import looks_like_id_number


class DisclosureSearchForm(forms.Form):
    """The search of the public lists: a name or a firm, never an ID number."""

    LISTS = [
        ("abnormal", _("Abnormal managers")),
        ("supervision", _("Key-supervision list")),
    ]

    list = forms.ChoiceField(choices=LISTS, required=False)
    q = forms.CharField(
        label=_("Name or firm"),
        max_length=64,
        required=False,
        help_text=_("Part of a manager's name or of a firm's name."),
    )

    def clean_q(self):
        value = self.cleaned_data["q"].strip()
        if looks_like_id_number(value):
            raise forms.ValidationError(
                _("The public lists cannot be searched by ID number. Search by name or firm."),
                code="id_number",
            )
        return value


class DisclosurePlaceForm(forms.Form):
    """Which jurisdiction and year to show."""

    place = forms.ChoiceField(label=_("Jurisdiction"))
    year = forms.TypedChoiceField(label=_("Year"), coerce=int)

    def __init__(self, *args, places, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = places
        self.fields["year"].choices = [(y, y) for y in years]
