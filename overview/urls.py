from django.urls import path

from . import views

app_name = "overview"

urlpatterns = [
    path("me/", views.manager_dashboard, name="manager_dashboard"),
    path("managers/<int:pk>/", views.manager_detail, name="manager_detail"),
    path("firm/", views.firm_dashboard, name="firm_dashboard"),
    path("firm/managers/", views.firm_managers, name="firm_managers"),
    path("firm/employment/<int:pk>/review/", views.employment_review, name="employment_review"),
    path("firm/managers/export/", views.firm_managers_export, name="firm_managers_export"),
    path("bureau/", views.bureau_dashboard, name="bureau_dashboard"),
    path("bureau/statistics/", views.bureau_statistics, name="bureau_statistics"),
]
