from django.urls import path, re_path

from . import views

app_name = "accounts"

urlpatterns = [
    path("me/profile/", views.profile_edit, name="profile"),
    path("me/registration/resubmit/", views.registration_resubmit, name="registration_resubmit"),
    path("me/phone/code/", views.phone_code_send, name="phone_code_send"),
    path("me/phone/verify/", views.phone_code_check, name="phone_code_check"),
    path("me/phone/sms/", views.sms_opt_out, name="sms_opt_out"),
    path("me/work-history/add/", views.work_history_edit, name="work_history_add"),
    path("me/work-history/<int:pk>/edit/", views.work_history_edit, name="work_history_edit"),
    path("me/work-history/<int:pk>/delete/", views.work_history_delete, name="work_history_delete"),
    path("me/employment/", views.manager_employment, name="manager_employment"),
    re_path(
        r"^employment/(?P<pk>[0-9]+)/(?P<action>confirm|decline|cancel|end)/$",
        views.employment_action,
        name="employment_action",
    ),
    path("firm/managers/find/", views.firm_manager_find, name="firm_manager_find"),
    path("firm/employment/", views.firm_employment, name="firm_employment"),
    path("firm/reviewers/", views.firm_reviewers, name="firm_reviewers"),
    path(
        "firm/reviewers/<int:pk>/remove/", views.firm_reviewer_remove, name="firm_reviewer_remove"
    ),
    path(
        "firm/invitations/<int:pk>/revoke/",
        views.firm_invitation_revoke,
        name="firm_invitation_revoke",
    ),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path(
        "staff-invitations/<str:token>/",
        views.staff_invitation_accept,
        name="staff_invitation_accept",
    ),
]
