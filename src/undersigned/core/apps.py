from django.apps import AppConfig
from django.core.signals import got_request_exception


class CoreConfig(AppConfig):
    name = "undersigned.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from .db_faults import note_lost_connection  # noqa: PLC0415 (models must be loaded first)
        from .url_tables import share_across_languages  # noqa: PLC0415

        got_request_exception.connect(note_lost_connection, dispatch_uid="undersigned.db_faults")
        # Before any URL is resolved or reversed: our routes are not translated, so one
        # set of reverse tables serves every language (url_tables.py).
        share_across_languages()
