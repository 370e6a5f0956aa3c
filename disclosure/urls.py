from django.urls import path

from . import views

app_name = "disclosure"

urlpatterns = [
    path("disclosure/", views.index, name="index"),
    path("disclosure/<str:code>/<int:year>/", views.disclosure_list, name="list"),
]
