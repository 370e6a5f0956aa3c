"""The public disclosure pages (公示): no login, limited per client address like the lookup
(`PUBLIC_DISCLOSURE_RATE`, core/throttle.py), public facts only (see `selectors`)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from accounts.models import Jurisdiction
from core.throttle import throttled
from registry.models import reasons_display

from . import selectors
from .forms import DisclosurePlaceForm, DisclosureSearchForm

PER_PAGE = 50

_INDENT = {
    Jurisdiction.Level.PROVINCE: "",
    Jurisdiction.Level.PREFECTURE: "\u3000",
    Jurisdiction.Level.COUNTY: "\u3000\u3000",
}


def _places() -> list[tuple[str, str]]:
    return [(j.code, _INDENT.get(j.level, "") + j.name) for j in selectors.public_jurisdictions()]


@require_GET
def index(request):
    """Choose a jurisdiction and a year."""
    years = selectors.disclosure_years()
    form = DisclosurePlaceForm(request.GET or None, places=_places(), years=years)
    if form.is_bound and form.is_valid():
        return redirect(
            "disclosure:list", code=form.cleaned_data["place"], year=form.cleaned_data["year"]
        )
    return render(request, "disclosure/index.html", {"form": form, "years": years})


@require_GET
def disclosure_list(request, code: str, year: int):
    """A jurisdiction's public lists for a year: the abnormal managers or the key-supervision
    list (`?list=`), searchable by name or firm, 50 a page, with the grade distribution."""
    if over := throttled(request, setting="PUBLIC_DISCLOSURE_RATE", scope="public-disclosure"):
        return over
    jurisdiction = get_object_or_404(Jurisdiction, code=code)
    form = DisclosureSearchForm(request.GET)
    valid = form.is_valid()
    which = (form.cleaned_data.get("list") if valid else "") or "abnormal"
    search = form.cleaned_data.get("q", "") if valid else ""
    if not valid and form.has_error("q", "id_number"):
        # Never searched, never echoed: back to the list without it (the page says why).
        messages.warning(request, form.errors["q"][0])
        wanted = request.GET.get("list")
        clean = {"list": wanted} if wanted in dict(DisclosureSearchForm.LISTS) else {}
        return redirect(request.path + ("?" + urlencode(clean) if clean else ""))
    if which == "supervision":
        rows = selectors.supervision_list(jurisdiction=jurisdiction, year=year, search=search)
    else:
        rows = selectors.abnormal_list(jurisdiction=jurisdiction, year=year, search=search)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    if which == "abnormal":
        for status in page.object_list:
            status.shown_reasons = reasons_display(status.public_reasons)
    return render(
        request,
        "disclosure/list.html",
        {
            "jurisdiction": jurisdiction,
            "year": year,
            "which": which,
            "form": form,
            "search": search,
            "page": page,
            "grades": selectors.grade_distribution(jurisdiction=jurisdiction, year=year),
            "query": urlencode({k: v for k, v in (("list", which), ("q", search)) if v}),
            "tabs": [
                (name, label, "?" + urlencode({"list": name, **({"q": search} if search else {})}))
                for name, label in DisclosureSearchForm.LISTS
            ],
        },
    )
