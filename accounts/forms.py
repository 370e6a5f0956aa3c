import re

from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from django import forms
from django.contrib.auth import password_validation
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.cache import CACHE_ERRORS
from core.forms import DateInput

from .models import FirmMembership, ManagerProfile, User, WorkHistory
from .validators import (
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
    validate_credit_code,
    validate_id_number,
    validate_mainland_mobile,
)


class PhoneCodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code from the text message"),
        regex=r"^\s*[0-9]{6}\s*$",
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class ProfileForm(forms.ModelForm):
    """The manager's own profile. Name and ID number are fixed once the profile is registered."""

    id_number = forms.CharField(
        label=_("ID number"),
        max_length=40,
        help_text=_("18 characters, as on your resident ID card."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    phone = forms.CharField(
        label=_("mobile phone"),
        max_length=20,
        help_text=_("Mainland mobile number, 11 digits."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    class Meta:
        model = ManagerProfile
        fields = [
            "real_name",
            "id_number",
            "phone",
            "education",
            "title",
            "skill_level",
            "certificate_number",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Identity is fixed after registration; never send the ID number back to the browser.
            del self.fields["id_number"]
            self.fields["real_name"].disabled = True
            self.fields["real_name"].help_text = _(
                "Fixed after registration. Ask your housing bureau to correct it."
            )

    def clean_id_number(self):
        value = normalize_id_number(self.cleaned_data["id_number"])
        validate_id_number(value)
        return value

    def clean_phone(self):
        value = normalize_mobile(self.cleaned_data["phone"])
        validate_mainland_mobile(value)
        return value

    def clean_real_name(self):
        return self.cleaned_data["real_name"].strip()


class WorkHistoryForm(forms.ModelForm):
    class Meta:
        model = WorkHistory
        fields = ["employer", "position", "start_date", "end_date"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        today = timezone.localdate()
        if start and start > today:
            self.add_error("start_date", _("The start date cannot be in the future."))
        if start and end and end < start:
            self.add_error("end_date", _("The end date cannot be before the start date."))
        return data


class JoinFirmForm(forms.Form):
    credit_code = forms.CharField(
        label=_("Firm's unified social credit code"),
        max_length=40,
        help_text=_("18 characters, as on the firm's business licence. Ask your firm for it."),
    )
    position = forms.CharField(label=_("Position"), max_length=64, required=False)

    def clean_credit_code(self):
        value = normalize_credit_code(self.cleaned_data["credit_code"])
        validate_credit_code(value)
        return value


class AddManagerForm(forms.Form):
    real_name = forms.CharField(
        label=_("Manager's name"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("As on the resident ID card."),
    )
    id_number = forms.CharField(
        label=_("Manager's ID number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("The manager must have signed up and completed the profile."),
    )
    position = forms.CharField(label=_("Position"), max_length=64, required=False)
    start_date = forms.DateField(label=_("Start date"), required=False, widget=DateInput())

    def clean_id_number(self):
        value = normalize_id_number(self.cleaned_data["id_number"])
        validate_id_number(value)
        return value

    def clean_start_date(self):
        value = self.cleaned_data.get("start_date")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The start date cannot be in the future."))
        return value


class EndEmploymentForm(forms.Form):
    end_date = forms.DateField(label=_("End date"), widget=DateInput())


class InviteReviewerForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(
        label=_("Role"), choices=FirmMembership.Role.choices, initial=FirmMembership.Role.REVIEWER
    )


class ManagerSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=64)

    def clean_q(self):
        value = self.cleaned_data["q"]
        if looks_like_id_number(value):
            raise forms.ValidationError(ID_NUMBER_NOT_IN_ADDRESS, code="id_number")
        return value


#: Said when an ID number is typed into a search that travels in the address (GET).
ID_NUMBER_NOT_IN_ADDRESS = _(
    "To search by ID number, use the “Find by ID number” form: an ID number is never put in a "
    "web address."
)


def looks_like_id_number(value: str) -> bool:
    """Whether a search term is (or tries to be) a resident ID number: 18 characters once tidied
    (17 digits and a check character), or the 15 digits of a first-generation card. Such terms
    are refused in addresses, valid or not."""
    return _ID_LIKE.fullmatch(normalize_id_number(value or "")) is not None


_ID_LIKE = re.compile(r"[0-9]{15}|[0-9]{17}[0-9X]")


class IdNumberSearchForm(forms.Form):
    """Find one manager by the full ID number, sent by POST (never in the address or a log)."""

    id_number = forms.CharField(
        label=_("ID number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_id_number(self):
        value = normalize_id_number(self.cleaned_data["id_number"])
        validate_id_number(value)
        return value


class StaffPasswordForm(forms.Form):
    """The password a new staff member chooses on the invitation page (at least 12 characters:
    checked as for a staff account)."""

    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password confirmation"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        self.fields[
            "password1"
        ].help_text = password_validation.password_validators_help_text_html()

    def clean(self):
        data = super().clean()
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two password fields didn’t match."))
        elif password1:
            try:
                password_validation.validate_password(
                    password1, User(email=self.email, is_staff=True)
                )
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


# --- the second factor while Redis is down ------------------------------------------------------

CODE_UNCHECKABLE = _("The code cannot be checked right now. Please try again in a few minutes.")


class _CodeFailsClosed:
    """allauth accepts each one-time code once, by recording it in the cache (Redis). When the
    cache cannot be reached the code is refused with a message (not an error page): the second
    factor fails closed, README "Faults"."""

    def clean_code(self):
        try:
            return super().clean_code()
        except CACHE_ERRORS:
            raise forms.ValidationError(CODE_UNCHECKABLE, code="unavailable") from None


class MFAAuthenticateForm(_CodeFailsClosed, AuthenticateForm):
    pass


class MFAReauthenticateForm(_CodeFailsClosed, ReauthenticateForm):
    pass


class ReasonForm(forms.Form):
    """The reason of a bureau decision (refusing or cancelling a registration, revoking a
    filing): the person concerned reads it."""

    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("The manager reads this reason."),
    )
