"""The filters of the registry's lists (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import AnnualFiling

#: The firm's queue shows the filings awaiting the firm unless another status is chosen.
DEFAULT_QUEUE_STATUS = AnnualFiling.Status.AWAITING_FIRM
#: What the queue can be asked to show: a status, or "all".
QUEUE_STATUSES = frozenset([*AnnualFiling.Status.values, "all"])


class FirmQueueFilter(django_filters.FilterSet):
    """The firm's filings: a status ("all" for every one; by default those awaiting the firm)
    and a search by name or exact registration number."""

    status = django_filters.ChoiceFilter(
        label=_("Status"),
        method="by_status",
        choices=[*AnnualFiling.Status.choices, ("all", _("All"))],
        empty_label=None,
    )
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=64)

    class Meta:
        model = AnnualFiling
        fields = ["status", "q"]

    def __init__(self, data=None, *args, **kwargs):
        data = (data or {}).copy() if data is not None else {}
        if data.get("status") not in QUEUE_STATUSES:
            data["status"] = DEFAULT_QUEUE_STATUS
        super().__init__(data, *args, **kwargs)

    def by_status(self, queryset, name, value):
        return queryset if value == "all" else queryset.filter(status=value)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(manager__real_name__icontains=value) | Q(manager__registration_number__iexact=value)
        )

    @property
    def chosen_status(self) -> str:
        return self.data.get("status", DEFAULT_QUEUE_STATUS)
