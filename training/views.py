from django.shortcuts import render

from accounts.decorators import role_required
from accounts.roles import Role, roles_of


@role_required(Role.PROVIDER)
def provider_dashboard(request):
    staff = roles_of(request.user).provider_staff
    return render(request, "training/provider_dashboard.html", {"provider": staff.provider})
