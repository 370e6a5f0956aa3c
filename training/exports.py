"""The columns of the exported study records (the admin's list, core.exports)."""

from __future__ import annotations

from operator import attrgetter

from django.utils.translation import gettext_lazy as _

from accounts.exports import manager_identity_columns
from core.exports import Column, choice_labels

from .models import StudyRecord


def study_record_columns(*, full_ids: bool) -> list[Column]:
    """Study records (rows: `StudyRecord` with `manager` and `course` selected)."""
    assessment = choice_labels(StudyRecord.Assessment.choices)
    source = choice_labels(StudyRecord.Source.choices)
    status = choice_labels(StudyRecord.Status.choices)
    return [
        *manager_identity_columns(full_ids=full_ids, manager=attrgetter("manager")),
        Column(_("course code"), lambda r: r.course.code if r.course else ""),
        Column(_("course"), attrgetter("title"), width=36),
        Column(_("completed on"), attrgetter("completed_on")),
        Column(_("study hours"), attrgetter("hours"), width=8),
        Column(_("assessment"), lambda r: assessment(r.assessment), width=10),
        Column(_("score"), attrgetter("score"), width=8),
        Column(_("source"), lambda r: source(r.source), width=16),
        Column(_("status"), lambda r: status(r.status), width=12),
        Column(_("verified at"), attrgetter("verified_at"), width=18),
        Column(_("reason for rejection"), attrgetter("rejection_reason"), width=30),
    ]
