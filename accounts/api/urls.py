from __future__ import annotations

from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/login", views.LoginView.as_view(), name="api-auth-login"),
    path("auth/verify-2fa", views.VerifyTwoFactorView.as_view(), name="api-auth-verify-2fa"),
    path("auth/webauthn/options", views.WebAuthnOptionsView.as_view(), name="api-auth-webauthn-options"),
    path("auth/logout", views.LogoutView.as_view(), name="api-auth-logout"),
    path("auth/token", views.TokenExchangeView.as_view(), name="api-auth-token"),
    path("me", views.MeView.as_view(), name="api-me"),
    path("me/", views.MeView.as_view()),
]
