from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles import Role, roles_of

from . import health

_HOME_BY_ROLE = {
    Role.MANAGER: "overview:manager_dashboard",
    Role.FIRM: "overview:firm_dashboard",
    Role.BUREAU: "overview:bureau_dashboard",
    Role.PROVIDER: "training:provider_dashboard",
    Role.ADMIN: "admin:index",
}


def home(request):
    """The landing page: anonymous visitors see the public page, everyone else their own."""
    target = _HOME_BY_ROLE.get(roles_of(request.user).role)
    if target:
        return redirect(target)
    return render(request, "portal/landing.html")


@require_GET
def bare(request):
    """A minimal template through the whole middleware stack: what serving a page costs before
    the portal does any work (mounted only with PORTAL_BARE_VIEW, see portal/urls.py)."""
    return render(request, "portal/bare.html")


@never_cache
@require_GET
def healthz(request):
    """JSON state of each dependency: 200 when PostgreSQL and Redis answer, 503 otherwise,
    naming what is down. Anyone gets those two checks, answered in milliseconds (each bounded
    under a second). The Celery workers are checked only for staff and for a request with the
    `HEALTHZ_TOKEN` in its X-Health-Token header, the answer cached for 30 s (see health.py);
    they do not decide the status (pages are served without them)."""
    db_ok, db_detail = health.check_database()
    redis_ok, redis_detail = health.check_redis()
    checks = {
        "database": {"ok": db_ok, "detail": db_detail},
        "redis": {"ok": redis_ok, "detail": redis_detail},
    }
    if redis_ok and health.may_check_workers(request):
        celery_ok, celery_detail = health.check_celery_cached()
        checks["celery"] = {"ok": celery_ok, "detail": celery_detail}
    healthy = db_ok and redis_ok
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    if not healthy:
        body["down"] = [name for name, check in checks.items() if check["ok"] is False]
    return JsonResponse(body, status=200 if healthy else 503)
