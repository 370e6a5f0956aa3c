from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.forms import DateInput
from core.uploads import PrivateFileField

from .imports import MAX_BYTES, TOO_LARGE
from .models import Course, StudyRecord
from .services import study_record_rule_errors


class StudyRecordForm(forms.ModelForm):
    """A manager's own study record: a catalogue course, or an external course described in
    free text. The certificate goes through the shared upload checks."""

    course = forms.ModelChoiceField(
        label=_("Course from the catalogue"),
        queryset=Course.objects.none(),
        required=False,
        help_text=_("Leave empty for a course that is not in the catalogue."),
    )

    class Meta:
        model = StudyRecord
        fields = [
            "course",
            "external_title",
            "external_provider",
            "completed_on",
            "hours",
            "assessment",
            "score",
        ]
        widgets = {"completed_on": DateInput()}

    def __init__(self, *args, certificate_required=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.filter(
            provider__status="approved"
        ).select_related("provider")
        self.fields["certificate"] = PrivateFileField(
            label=_("Certificate"),
            required=certificate_required,
            help_text=_("PDF, JPEG or PNG, at most 10 MB. A photo taken with your phone is fine."),
        )
        self.fields["score"].widget.attrs.update({"min": 0, "max": 100, "step": "0.5"})
        self.fields["hours"].widget.attrs.update({"min": 0.5, "step": "0.5"})

    def clean_hours(self):

        # Before the model's own constraint check, so that the message sits on the field.
        hours = self.cleaned_data.get("hours")
        errors = study_record_rule_errors(course=None, completed_on=None, hours=hours)
        if errors:
            raise forms.ValidationError([message for _field, message in errors])
        return hours

    def clean(self):
        data = super().clean()
        if not data.get("course") and not (data.get("external_title") or "").strip():
            self.add_error(
                "external_title", _("Choose a course from the catalogue or enter the course title.")
            )
        score = data.get("score")
        if score is not None and not (0 <= score <= 100):
            self.add_error("score", _("The score must be between 0 and 100."))
        return data


class AuditAnswerForm(forms.Form):
    """The sampled manager's evidence for an audited record."""

    evidence = PrivateFileField(
        label=_("Evidence"),
        required=False,
        help_text=_(
            "The certificate, an attendance record or an invoice: PDF, JPEG or PNG, at most 10 MB."
        ),
    )
    answer = forms.CharField(
        label=_("Explanation (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AuditDecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("upheld", _("Uphold: the record keeps counting")),
            ("rejected", _("Reject: the record stops counting")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=pgettext_lazy("audit", "Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to reject. The manager sees it."),
    )


class AuditDrawForm(forms.Form):
    jurisdiction = forms.ModelChoiceField(label=_("Jurisdiction"), queryset=None, empty_label=None)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    percent = forms.DecimalField(
        label=_("Random sample (%)"),
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=1,
        help_text=_("Empty: the percentage of the audit policy."),
    )
    seed = forms.IntegerField(
        label=_("Seed"),
        required=False,
        min_value=0,
        max_value=2**62,
        help_text=_("Empty: a new random seed. The same seed draws the same sample again."),
    )

    def __init__(self, *args, jurisdictions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].queryset = jurisdictions


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text=_("The manager sees this reason."),
    )


class ReportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Completions file (CSV or Excel)"),
        help_text=_("Use the template's columns. At most 10 MB."),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )

    def clean_file(self):

        upload = self.cleaned_data["file"]
        # Refuse before reading it into memory; the import checks again for other callers.
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(TOO_LARGE, code="size")
        return upload
