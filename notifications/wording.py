"""The words of each notice, in the reader's language (rendered when shown or e-mailed).

The reasons of a registry status are stored as codes in the params; their labels belong to the
registry, which hands them over once at start-up (`reason_labels_register`), so that this module
needs nothing from above it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import formats
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from .models import Notice

Kind = Notice.Kind


_reason_labels: dict[str, object] = {}


def reason_labels_register(choices) -> None:
    """The labels of the reason codes that status notices carry (lazy, translated when read)."""
    _reason_labels.update(dict(choices))


def reasons_text(reasons) -> str:
    """The reasons as one line in the reader's language ("；" between them in Chinese)."""
    return _("; ").join(str(_reason_labels.get(reason, reason)) for reason in reasons or [])


def _date(value: str) -> str:
    """A date (or a timestamp) stored as ISO text in the params, in the reader's format."""
    if not value:
        return ""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    return formats.date_format(parsed.date(), "DATE_FORMAT")


def _hours(value) -> str:
    return formats.number_format(Decimal(str(value or 0)).normalize(), use_l10n=True)


def _sentences(*parts: str) -> str:
    """Sentences one after the other: with a space in English, without one in Chinese."""
    return ("" if (get_language() or "").startswith("zh") else " ").join(parts)


def notice_title(notice: Notice) -> str:
    p = notice.params
    titles = {
        Kind.FILING_SUBMITTED: _("Your %(year)s filing was submitted"),
        Kind.FILING_TO_REVIEW: _("%(name)s's %(year)s filing awaits your review"),
        Kind.FILING_WITHDRAWN: _("%(name)s withdrew the %(year)s filing"),
        Kind.FILING_FORWARDED: _("Your %(year)s filing was forwarded to the bureau"),
        Kind.FILING_RETURNED: _("The %(year)s filing of %(name)s was returned"),
        Kind.FILING_APPROVED: _("The %(year)s filing of %(name)s is approved"),
        Kind.FILING_EXTENDED: _("Your %(year)s filing deadline was extended"),
        Kind.REMIND_NOT_SUBMITTED: _("Reminder: submit your %(year)s annual filing"),
        Kind.REMIND_HOURS_SHORT: _("Reminder: your %(year)s study hours are short"),
        Kind.REMIND_RETURNED: _("Reminder: your returned %(year)s filing awaits you"),
        Kind.REMIND_FIRM_DIGEST: _("%(year)s filings awaiting your firm's review"),
        Kind.REMIND_STUDY_HOURS: _("There is still time to complete your %(year)s study hours"),
        Kind.STATUS_ABNORMAL: _("Your %(year)s registry status is abnormal"),
        Kind.STATUS_NORMAL: _("Your %(year)s registry status is normal again"),
        Kind.FIRM_ABNORMAL: _("Managers of your firm are abnormal for %(year)s"),
        Kind.REGISTRATION_TO_REVIEW: _("The registration of %(name)s awaits your review"),
        Kind.REGISTRATION_ISSUED: _("Your registration number is %(number)s"),
        Kind.REGISTRATION_REFUSED: _("Your registration was refused"),
        Kind.REGISTRATION_CANCELLED: _("The registration of %(name)s was cancelled"),
        Kind.FILING_REVOKED: _("The approval of the %(year)s filing of %(name)s was revoked"),
        Kind.FIRM_STATUS_CHANGED: _("The %(year)s registry status of %(name)s changed"),
        Kind.FIRM_GRADE_CHANGED: _("Credit grades of your firm's managers changed"),
        Kind.SUPERVISION_LISTED: _("You are on the key-supervision list"),
        Kind.ASSESSMENT_FAILED: _("A failed assessment was written to your credit file"),
        Kind.SUPERVISION_ENDED: _("You are off the key-supervision list"),
        Kind.FIRM_SUPERVISION: _("Managers of your firm are on the key-supervision list"),
        Kind.FIRM_SUPERVISION_ENDED: _("Managers of your firm are off the key-supervision list"),
        Kind.BUREAU_SUPERVISION: _("Managers put on the key-supervision list"),
        Kind.OBJECTION_SUBMITTED: _("%(name)s's objection awaits your decision"),
        Kind.OBJECTION_DECIDED: _("Your objection is decided"),
        Kind.REPAIR_SUBMITTED: _("%(name)s's credit repair request awaits your decision"),
        Kind.REPAIR_DECIDED: _("Your credit repair request is decided"),
        Kind.AUDIT_REQUESTED: _("Your %(year)s study records were selected for audit"),
        Kind.AUDIT_UPHELD: _("Audit of your study record: upheld"),
        Kind.AUDIT_REJECTED: _("Audit of your study record: rejected"),
    }
    template = titles.get(notice.kind)
    if template is None:
        return notice.get_kind_display()
    return template % {
        "year": p.get("year", ""),
        "name": p.get("name", ""),
        "number": p.get("number", ""),
    }


def _deadline(p: dict) -> str:
    days = int(p.get("days_left") or 0)
    closes = _date(p.get("closes_on", ""))
    if days == 0:
        return _("Today, %(date)s, is the last day of the filing window.") % {"date": closes}
    return ngettext(
        "The filing window closes on %(date)s, in %(days)s day.",
        "The filing window closes on %(date)s, in %(days)s days.",
        days,
    ) % {"date": closes, "days": days}


def notice_body(notice: Notice) -> str:
    p = notice.params
    kind = notice.kind
    if kind == Kind.FILING_SUBMITTED:
        return _("It now awaits the review of %(firm)s.") % {"firm": p.get("firm", "")}
    if kind == Kind.FILING_TO_REVIEW:
        return _("Submitted for review by %(firm)s.") % {"firm": p.get("firm", "")}
    if kind == Kind.FILING_FORWARDED:
        return _("%(firm)s approved it; it now awaits the housing bureau.") % {
            "firm": p.get("firm", "")
        }
    if kind == Kind.FILING_RETURNED:
        return _("Reason: %(reason)s") % {"reason": p.get("reason", "")}
    if kind in (Kind.REGISTRATION_REFUSED, Kind.REGISTRATION_CANCELLED, Kind.FILING_REVOKED):
        return _("Reason: %(reason)s") % {"reason": p.get("reason", "")}
    if kind == Kind.FIRM_STATUS_CHANGED:
        return _("Now: %(status)s.") % {
            "status": _("Abnormal") if p.get("status") == "abnormal" else _("Normal")
        }
    if kind == Kind.FIRM_GRADE_CHANGED:
        count = int(p.get("count") or 0)
        return ngettext(
            "The grade of %(count)s manager employed by your firm changed: %(names)s.",
            "The grades of %(count)s managers employed by your firm changed: %(names)s.",
            count,
        ) % {"count": count, "names": _("; ").join(p.get("names") or [])}
    if kind == Kind.REGISTRATION_ISSUED:
        return _("The public can now look you up by this number and your name.")
    if kind == Kind.REGISTRATION_TO_REVIEW:
        return _("The firm has confirmed the employment; approve or refuse the registration.")
    if kind == Kind.FILING_APPROVED:
        return _("The filing certificate can be downloaded from the filing page.")
    if kind == Kind.FILING_EXTENDED:
        return _("New deadline: %(date)s. Reason: %(reason)s") % {
            "date": _date(p.get("until", "")),
            "reason": p.get("reason", ""),
        }
    if kind == Kind.REMIND_NOT_SUBMITTED:
        return _sentences(
            _deadline(p),
            _("Without an approved filing your registry status for the year becomes abnormal."),
        )
    if kind == Kind.REMIND_HOURS_SHORT:
        return _sentences(
            _("You still need %(hours)s study hours for the year.")
            % {"hours": _hours(p.get("needed"))},
            _deadline(p),
        )
    if kind == Kind.REMIND_STUDY_HOURS:
        courses = [str(title) for title in p.get("courses") or []]
        return _sentences(
            _(
                "You still need %(hours)s study hours for %(year)s; the year's study ends on 31 December."
            )
            % {"hours": _hours(p.get("needed")), "year": p.get("year", "")},
            _("Courses still open to you: %(courses)s.") % {"courses": _("; ").join(courses)}
            if courses
            else _("See the course catalogue for the courses still open to you."),
        )
    if kind == Kind.REMIND_RETURNED:
        return _sentences(
            _("Reason for the return: %(reason)s.")
            % {"reason": str(p.get("reason", "")).strip().rstrip("。.！!")},
            _("Correct it and submit it again."),
            _deadline(p),
        )
    if kind == Kind.REMIND_FIRM_DIGEST:
        count = int(p.get("count") or 0)
        return ngettext(
            "%(count)s filing awaits your review; the oldest was submitted on %(date)s.",
            "%(count)s filings await your review; the oldest was submitted on %(date)s.",
            count,
        ) % {"count": count, "date": _date(p.get("oldest", ""))}
    if kind == Kind.STATUS_ABNORMAL:
        return _("Reasons: %(reasons)s. This is recorded in your credit record.") % {
            "reasons": reasons_text(p.get("reasons"))
        }
    if kind == Kind.STATUS_NORMAL:
        return _("The change is recorded in your credit record.")
    if kind == Kind.SUPERVISION_LISTED:
        return _sentences(
            _("Cause: %(cause)s; until %(date)s.")
            % {
                "cause": p.get("public_reason") or reasons_text([p.get("cause")]),
                "date": _date(p.get("until", "")),
            },
            _("If this is wrong you can object on your credit file page."),
        )
    if kind == Kind.ASSESSMENT_FAILED:
        return _sentences(
            _("Course: %(course)s, completed on %(date)s.")
            % {"course": p.get("course", ""), "date": _date(p.get("date", ""))},
            _("A second failed assessment within two years puts you on the key-supervision list."),
        )
    if kind == Kind.SUPERVISION_ENDED:
        return _("The entry stays in your credit file's history.")
    if kind == Kind.FIRM_SUPERVISION_ENDED:
        count = int(p.get("count") or 0)
        return ngettext(
            "%(count)s manager was taken off the key-supervision list.",
            "%(count)s managers were taken off the key-supervision list.",
            count,
        ) % {"count": count}
    if kind in (Kind.FIRM_SUPERVISION, Kind.BUREAU_SUPERVISION):
        count = int(p.get("count") or 0)
        return ngettext(
            "%(count)s manager was put on the key-supervision list.",
            "%(count)s managers were put on the key-supervision list.",
            count,
        ) % {"count": count}
    if kind in (Kind.OBJECTION_SUBMITTED, Kind.REPAIR_SUBMITTED):
        return _("Decide by %(date)s.") % {"date": _date(p.get("due_on", ""))}
    if kind in (Kind.OBJECTION_DECIDED, Kind.REPAIR_DECIDED):
        decision = {
            "upheld": _("Upheld: the credit file is corrected."),
            "approved": _("Approved: the record no longer counts from today."),
        }.get(p.get("status"), _("Rejected."))
        return _sentences(decision, _("Reason: %(reason)s") % {"reason": p.get("reason", "")})
    if kind == Kind.AUDIT_REQUESTED:
        count = int(p.get("count") or 0)
        return _sentences(
            ngettext(
                "%(count)s of your study records was selected for audit.",
                "%(count)s of your study records were selected for audit.",
                count,
            )
            % {"count": count},
            _(
                "Upload the evidence on your study hours page by %(date)s; a record not answered "
                "by then is rejected and its hours stop counting."
            )
            % {"date": _date(p.get("due_on", ""))},
        )
    if kind == Kind.AUDIT_UPHELD:
        return _("“%(title)s” (%(hours)s hours) was upheld and keeps counting.") % {
            "title": p.get("title", ""),
            "hours": _hours(p.get("hours")),
        }
    if kind == Kind.AUDIT_REJECTED:
        first = _("“%(title)s” (%(hours)s hours) was rejected and no longer counts.") % {
            "title": p.get("title", ""),
            "hours": _hours(p.get("hours")),
        }
        if p.get("expired"):
            return _sentences(
                first,
                _("No evidence was given by %(date)s.") % {"date": _date(p.get("due_on", ""))},
            )
        return _sentences(first, _("Note: %(note)s") % {"note": p.get("note", "")})
    if kind == Kind.FIRM_ABNORMAL:
        count = int(p.get("count") or 0)
        return ngettext(
            "%(count)s manager employed by your firm is abnormal for the year.",
            "%(count)s managers employed by your firm are abnormal for the year.",
            count,
        ) % {"count": count}
    return ""
