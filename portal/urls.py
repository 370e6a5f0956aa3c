from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from . import views

admin.site.site_header = _("Housing bureau administration — property manager registry")
admin.site.site_title = _("Property manager registry")
admin.site.index_title = _("Supervision")
# The admin uses the portal's login (allauth): the same rate limits and two-factor authentication.
admin.autodiscover()
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("overview.urls")),
    path("", include("notifications.urls")),
    path("", include("accounts.urls")),
    path("", include("training.urls")),
    path("", include("registry.urls")),
    path("", include("credit.urls")),
    path("", include("disclosure.urls")),
]

if settings.PORTAL_BARE_VIEW:
    # The machine's limit for `make loadtest` and wrk: a template and the middleware, no query.
    urlpatterns.append(path("__bare__/", views.bare, name="bare"))
