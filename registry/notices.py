"""The words of each notice, in the reader's language (rendered when shown or e-mailed)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import Notice

Kind = Notice.Kind


def notice_title(notice: Notice) -> str:
    p = notice.params
    titles = {
        Kind.FILING_SUBMITTED: _("Your %(year)s filing was submitted"),
        Kind.FILING_TO_REVIEW: _("%(name)s's %(year)s filing awaits your review"),
        Kind.FILING_WITHDRAWN: _("%(name)s withdrew the %(year)s filing"),
        Kind.FILING_FORWARDED: _("Your %(year)s filing was forwarded to the bureau"),
        Kind.FILING_RETURNED: _("The %(year)s filing of %(name)s was returned"),
        Kind.FILING_APPROVED: _("The %(year)s filing of %(name)s is approved"),
    }
    template = titles.get(notice.kind)
    if template is None:
        return notice.get_kind_display()
    return template % {"year": p.get("year", ""), "name": p.get("name", "")}


def notice_body(notice: Notice) -> str:
    p = notice.params
    if notice.kind == Kind.FILING_SUBMITTED:
        return _("It now awaits the review of %(firm)s.") % {"firm": p.get("firm", "")}
    if notice.kind == Kind.FILING_TO_REVIEW:
        return _("Submitted for review by %(firm)s.") % {"firm": p.get("firm", "")}
    if notice.kind == Kind.FILING_FORWARDED:
        return _("%(firm)s approved it; it now awaits the housing bureau.") % {
            "firm": p.get("firm", "")
        }
    if notice.kind == Kind.FILING_RETURNED:
        return _("Reason: %(reason)s") % {"reason": p.get("reason", "")}
    if notice.kind == Kind.FILING_APPROVED:
        return _("The filing certificate can be downloaded from the filing page.")
    return ""
