"""The filters of the training lists (django-filter): what the GET parameters of a list mean,
validated by the FilterSet's form. The views and selectors both filter through these."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import ManagerProfile

from .models import Course


class CourseFilter(django_filters.FilterSet):
    """The course catalogue: a search term (title, exact code, provider), topic and mode."""

    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=64)
    category = django_filters.ChoiceFilter(
        label=_("Topic"), choices=Course.Category.choices, empty_label=_("All topics")
    )
    mode = django_filters.ChoiceFilter(
        label=_("Mode"), choices=Course.Mode.choices, empty_label=_("All modes")
    )

    class Meta:
        model = Course
        fields = ["q", "category", "mode"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(code__iexact=value) | Q(provider__name__icontains=value)
        )


class ComplianceFilter(django_filters.FilterSet):
    """The firm's compliance list (rows annotated by `selectors.with_compliance`): status,
    search and order. The year is not a filter: it chooses which figures are computed, so the
    view reads it from the form (`year_of`)."""

    year = django_filters.NumberFilter(label=_("Year"), method="computed_elsewhere")
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        method="by_status",
        choices=[("compliant", _("Compliant")), ("short", _("Hours short"))],
        empty_label=_("All"),
    )
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=64)
    order = django_filters.ChoiceFilter(
        label=_("Sort by"),
        method="ordered",
        choices=[
            ("name", _("Name")),
            ("-hours", _("Most hours")),
            ("hours", _("Fewest hours")),
            ("-needed", _("Most hours still needed")),
        ],
        empty_label=None,
    )

    ORDERINGS = {
        "name": ["real_name", "pk"],
        "hours": ["hours_year", "real_name", "pk"],
        "-hours": ["-hours_year", "real_name", "pk"],
        "needed": ["hours_needed", "real_name", "pk"],
        "-needed": ["-hours_needed", "real_name", "pk"],
    }

    class Meta:
        model = ManagerProfile
        fields = ["year", "status", "q", "order"]

    def computed_elsewhere(self, queryset, name, value):
        return queryset

    def by_status(self, queryset, name, value):
        return queryset.filter(compliant=(value == "compliant"))

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(real_name__icontains=value) | Q(registration_number__iexact=value))

    def ordered(self, queryset, name, value):
        return queryset.order_by(*self.ORDERINGS.get(value, self.ORDERINGS["name"]))

    def year_of(self, default: int) -> int:
        """The year asked for (a valid one), else `default`."""
        if self.is_bound and self.form.is_valid() and self.form.cleaned_data.get("year"):
            year = int(self.form.cleaned_data["year"])
            if 2000 <= year <= 2100:
                return year
        return default
