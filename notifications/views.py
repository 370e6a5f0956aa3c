"""The user's notices. Reading the list changes nothing; marking read is a POST."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from accounts.roles import Role, roles_of
from core.exports import xlsx_export

from . import exports, selectors, services
from .wording import notice_body, notice_title

_EVERYONE = (Role.MANAGER, Role.FIRM, Role.BUREAU, Role.PROVIDER, Role.ADMIN)


@role_required(*_EVERYONE, complete_profile=False)
def notice_list(request):
    """The user's notices, newest first; the unread ones are marked as new."""
    page = Paginator(selectors.notice_list_for(user=request.user), 30).get_page(
        request.GET.get("page")
    )
    for notice in page:
        notice.title, notice.body = notice_title(notice), notice_body(notice)
    unread = [n.pk for n in page if n.read_at is None]
    return render(
        request,
        "notifications/notice_list.html",
        {
            "page": page,
            "unread": set(unread),
            "unread_ids": ",".join(map(str, unread)),
            "can_export": roles_of(request.user).role in _EXPORTERS,
        },
    )


#: Firm reviewers and officials download their notices (a manager reads his on the page).
_EXPORTERS = (Role.FIRM, Role.BUREAU, Role.ADMIN)


@role_required(*_EXPORTERS)
def notice_export(request):
    """The user's notices as .xlsx, newest first (core.exports)."""
    day = timezone.localdate().isoformat()
    return xlsx_export(
        _("Notices") + f"-{day}.xlsx",
        exports.own_notice_columns(),
        selectors.notice_list_for(user=request.user),
    )


@role_required(*_EVERYONE, complete_profile=False)
@require_POST
def notice_mark_read(request):
    """Mark the notices shown on the page (or every unread one) as read."""
    raw = request.POST.get("ids", "")
    ids = [int(part) for part in raw.split(",") if part.strip().isdigit()] if raw else None
    count = services.notices_mark_read(user=request.user, ids=ids)
    if count:
        messages.success(request, _("Marked as read."))
    return redirect("notifications:notice_list")
