"""Every date field of the portal's forms is a browser date picker that gets an ISO date
(issue 14, point 2): `<input type="date">` takes only YYYY-MM-DD; the zh-hans input format
(2026/11/27) shows an empty field and saving fails with "required"."""

import datetime as dt
import inspect

import pytest
from django import forms
from django.utils import translation

import accounts.forms
import registry.forms
import training.forms
from core.forms import DateInput

FORM_MODULES = [accounts.forms, training.forms, registry.forms]


def _date_fields():
    for module in FORM_MODULES:
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                for field_name, field in cls.base_fields.items():
                    if isinstance(field, forms.DateField):
                        yield pytest.param(field, id=f"{module.__name__}.{name}.{field_name}")


DATE_FIELDS = list(_date_fields())


def test_the_forms_have_date_fields():
    assert len(DATE_FIELDS) >= 5  # study record, work history (2), employment (2)


@pytest.mark.parametrize("field", DATE_FIELDS)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_date_field_renders_an_iso_date_picker(field, language):
    assert isinstance(field.widget, DateInput)
    with translation.override(language):
        html = field.widget.render("d", dt.date(2026, 11, 27))
    assert 'type="date"' in html
    assert 'value="2026-11-27"' in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_iso_date_is_read_back(language):
    with translation.override(language):
        field = forms.DateField(widget=DateInput())
        assert field.clean("2026-11-27") == dt.date(2026, 11, 27)
