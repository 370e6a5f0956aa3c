"""The columns of exported lists of people (managers): one definition for the admin's export and
the firm's, with the ID number in full only for those who may read it (`access.
sees_full_id_numbers`), masked for everyone else."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from django.utils.translation import gettext_lazy as _

from core.exports import Column, choice_labels

from .models import Education, Employment, ProfessionalTitle, SkillLevel
from .validators import mask_id_number


def id_number_column(*, full: bool, manager: Callable[[Any], Any] = lambda row: row) -> Column:
    """The ID number of the row's manager (`manager` reads him from the row): in full or
    masked."""

    def value(row):
        number = manager(row).id_number or ""
        return number if full else mask_id_number(number)

    return Column(_("ID number"), value, width=22)


def manager_identity_columns(
    *, full_ids: bool, manager: Callable[[Any], Any] = lambda row: row
) -> list[Column]:
    """Name, registration number and ID number: what every list about a manager starts with."""
    return [
        Column(_("real name"), lambda row: manager(row).real_name, width=12),
        Column(_("registration number"), lambda row: manager(row).registration_number, width=18),
        id_number_column(full=full_ids, manager=manager),
    ]


def manager_columns(*, full_ids: bool) -> list[Column]:
    """A list of managers (rows: `ManagerProfile` with `jurisdiction` selected)."""
    education = choice_labels(Education.choices)
    title = choice_labels(ProfessionalTitle.choices)
    skill = choice_labels(SkillLevel.choices)
    return [
        *manager_identity_columns(full_ids=full_ids),
        Column(_("mobile phone"), attrgetter("phone"), width=14),
        Column(_("jurisdiction"), lambda m: m.jurisdiction.name if m.jurisdiction else ""),
        Column(_("highest education"), lambda m: education(m.education)),
        Column(_("professional title"), lambda m: title(m.title)),
        Column(
            _("skill level / practice certificate"),
            lambda m: skill(m.skill_level),
            width=24,
        ),
        Column(_("certificate number"), attrgetter("certificate_number"), width=18),
        Column(_("registered"), attrgetter("completed_at"), width=18),
    ]


def firm_columns(*, full_ids: bool) -> list[Column]:
    """A list of firms (rows: `Firm` with `jurisdiction` selected)."""
    return [
        Column(_("firm name"), attrgetter("name"), width=30),
        Column(_("unified social credit code"), attrgetter("credit_code"), width=22),
        Column(_("jurisdiction"), lambda f: f.jurisdiction.name),
        Column(_("contact person"), attrgetter("contact_person")),
        Column(_("contact phone"), attrgetter("contact_phone")),
        Column(_("address"), attrgetter("address"), width=30),
    ]


def employment_columns(*, full_ids: bool) -> list[Column]:
    """A list of employments (rows: `Employment` with `manager` and `firm` selected)."""
    status = choice_labels(Employment.Status.choices)
    return [
        *manager_identity_columns(full_ids=full_ids, manager=attrgetter("manager")),
        Column(_("firm"), lambda e: e.firm.name, width=30),
        Column(_("status"), lambda e: status(e.status)),
        Column(_("position"), attrgetter("position")),
        Column(_("start date"), attrgetter("start_date")),
        Column(_("end date"), attrgetter("end_date")),
    ]
