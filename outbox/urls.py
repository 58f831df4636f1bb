from __future__ import annotations

from django.urls import path

from outbox import views

urlpatterns = [
    path("", views.outbox_list, name="tenant_outbox"),
    path("<str:message_id>/", views.outbox_detail, name="tenant_outbox_message"),
]
