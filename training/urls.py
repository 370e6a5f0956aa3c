from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("provider/", views.provider_dashboard, name="provider_dashboard"),
]
