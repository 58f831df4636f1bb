from django.apps import AppConfig


class LeaksConfig(AppConfig):
    """Leaked keys (SPEC §14): GitHub's secret-scanning partner endpoint revokes keys
    found in public by their value."""

    name = "leaks"
    verbose_name = "Leaked keys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from leaks import checks  # noqa: F401  (registers system checks)
