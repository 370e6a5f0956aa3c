from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/read/", views.notice_mark_read, name="notice_mark_read"),
    path("notices/export/", views.notice_export, name="notice_export"),
]
