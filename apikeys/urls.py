from __future__ import annotations

from django.urls import path

from apikeys import views

urlpatterns = [
    path("", views.key_list, name="apikey_list"),
    path("new/", views.key_create, name="apikey_create"),
    path("bulk/", views.key_bulk, name="apikey_bulk"),
    path("<str:key_id>/", views.key_detail, name="apikey_detail"),
    path("<str:key_id>/edit/", views.key_edit, name="apikey_edit"),
    *(
        path(f"<str:key_id>/{action}/", views.key_action, {"action": action}, name=f"apikey_{action}")
        for action in views.ACTIONS
    ),
]
