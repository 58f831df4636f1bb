from django.apps import AppConfig


class TaterConfig(AppConfig):
    name = "tater"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tater import checks  # noqa: F401  (registers system checks)
