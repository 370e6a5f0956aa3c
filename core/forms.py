"""Form pieces shared by every app."""

from django import forms

#: The only format an `<input type="date">` takes (HTML's "valid date string"), whatever the
#: language: the browser shows the date in the reader's own way, but value must be ISO.
ISO_DATE = "%Y-%m-%d"


class DateInput(forms.DateInput):
    """A browser date picker. Without the ISO format Django renders the language's first input
    format (zh-hans: 2026/11/27), which the browser drops: the field shows empty and saving
    fails with "required"."""

    input_type = "date"

    def __init__(self, attrs=None, format=ISO_DATE):  # noqa: A002 (Django's own argument name)
        super().__init__(attrs=attrs, format=format)
