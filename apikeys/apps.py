from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "apikeys"
    verbose_name = "API keys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apikeys import keycheck, reactions
        from apikeys.secrets_in_text import holds_api_key
        from tater.secret_detectors import register_secret_detector

        register_secret_detector(holds_api_key)

        keycheck.connect_receivers()
        reactions.connect_receivers()
