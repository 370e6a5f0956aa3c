from django.urls import path

from . import views

app_name = "registry"

urlpatterns = [
    path("me/filing/", views.my_filing, name="my_filing"),
    path("me/filing/start/", views.filing_start, name="filing_start"),
    path("filings/<int:pk>/proofs/", views.proof_upload, name="proof_upload"),
    path(
        "filings/<int:pk>/proofs/transcript/", views.proof_use_transcript, name="proof_transcript"
    ),
    path("filings/<int:pk>/proofs/reuse/", views.proof_reuse, name="proof_reuse"),
    path("filings/<int:pk>/submit/", views.filing_submit, name="filing_submit"),
    path("filings/<int:pk>/withdraw/", views.filing_withdraw, name="filing_withdraw"),
    path("filings/<int:pk>/certificate/", views.filing_certificate, name="filing_certificate"),
    path("proofs/<int:pk>/", views.proof_file, name="proof_file"),
    path("firm/filings/", views.firm_queue, name="firm_queue"),
    path("firm/filings/export/", views.firm_queue_export, name="firm_queue_export"),
    path("firm/filings/approve/", views.firm_bulk_approve, name="firm_bulk_approve"),
    path("firm/filings/<int:pk>/", views.firm_filing_detail, name="firm_filing_detail"),
    path("firm/filings/<int:pk>/approve/", views.firm_filing_approve, name="firm_filing_approve"),
    path("firm/filings/<int:pk>/return/", views.firm_filing_return, name="firm_filing_return"),
    path("me/credit/", views.credit_record, name="credit_record"),
    path("conduct/<int:pk>/evidence/", views.conduct_evidence, name="conduct_evidence"),
    path("lookup/", views.lookup, name="lookup"),
    path("verify/", views.verify, name="verify_form"),
    path("verify/<str:code>/", views.verify, name="verify"),
]
