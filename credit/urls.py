from django.urls import path

from . import views

app_name = "credit"

urlpatterns = [
    path("me/credit/file/", views.my_credit, name="my_credit"),
    path("me/credit/objections/", views.objection_submit, name="objection_submit"),
    path("me/credit/records/<int:pk>/repair/", views.repair_submit, name="repair_submit"),
    path(
        "credit/objections/<int:pk>/evidence/", views.objection_evidence, name="objection_evidence"
    ),
    path("credit/repairs/<int:pk>/proof/", views.repair_proof, name="repair_proof"),
    path("bureau/credit/", views.bureau_queue, name="bureau_queue"),
    path(
        "bureau/credit/objections/<int:pk>/decide/", views.objection_decide, name="objection_decide"
    ),
    path("bureau/credit/repairs/<int:pk>/decide/", views.repair_decide, name="repair_decide"),
    path("bureau/supervision/", views.bureau_supervision, name="bureau_supervision"),
    path("bureau/supervision/add/", views.supervision_add, name="supervision_add"),
    path(
        "bureau/supervision/<int:pk>/delist/", views.supervision_delist, name="supervision_delist"
    ),
]
