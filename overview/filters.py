"""The filters of the cross-app lists (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.forms import ManagerSearchForm
from accounts.models import ManagerProfile
from registry.models import RegistryStatus


class FirmManagerFilter(django_filters.FilterSet):
    """The firm's current managers: a search (name, exact registration number or phone; never
    an ID number, which must not travel in an address: `ManagerSearchForm.clean_q`) and the
    latest registry status (rows annotated by `registry.selectors.with_latest_status`)."""

    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=64)
    status = django_filters.ChoiceFilter(
        label=_("Registry status"),
        field_name="latest_status",
        choices=RegistryStatus.Status.choices,
    )

    class Meta:
        model = ManagerProfile
        form = ManagerSearchForm
        fields = ["q", "status"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(real_name__icontains=value) | Q(registration_number__iexact=value) | Q(phone=value)
        )

    @property
    def refused_id_number(self) -> bool:
        """An ID number was typed into the search: nothing is searched (see the POST form)."""
        return self.is_bound and self.form.has_error("q", "id_number")
