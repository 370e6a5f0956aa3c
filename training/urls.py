from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("me/hours/", views.study_hours, name="study_hours"),
    path("me/hours/add/", views.study_record_edit, name="study_record_add"),
    path("me/hours/<int:pk>/edit/", views.study_record_edit, name="study_record_edit"),
    path("me/hours/<int:pk>/delete/", views.study_record_delete, name="study_record_delete"),
    path("me/hours/transcript/<int:year>/", views.transcript_pdf, name="transcript"),
    path("records/<int:pk>/certificate/", views.study_record_certificate, name="certificate"),
    path("me/hours/audits/<int:pk>/", views.audit_answer, name="audit_answer"),
    path("audits/<int:pk>/evidence/", views.audit_evidence, name="audit_evidence"),
    path("bureau/audits/", views.audit_overview, name="audit_overview"),
    path("bureau/audits/draw/", views.audit_draw, name="audit_draw"),
    path("bureau/audits/records/", views.audit_item_list, name="audit_item_list"),
    path("bureau/audits/records/<int:pk>/", views.audit_item_detail, name="audit_item_detail"),
    path(
        "bureau/audits/records/<int:pk>/decide/",
        views.audit_item_decide,
        name="audit_item_decide",
    ),
    path("courses/", views.course_catalogue, name="catalogue"),
    path("firm/compliance/", views.firm_compliance, name="firm_compliance"),
    path("firm/compliance/export/", views.firm_compliance_export, name="firm_compliance_export"),
    path("provider/", views.provider_dashboard, name="provider_dashboard"),
    path("provider/template/", views.provider_template, name="provider_template"),
    path("provider/reports/<int:pk>/errors/", views.provider_report_errors, name="report_errors"),
]
