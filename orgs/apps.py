from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "orgs"
    verbose_name = "Tenants and organizations"
    default_auto_field = "django.db.models.BigAutoField"
