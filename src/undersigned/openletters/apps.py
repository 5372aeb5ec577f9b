from django.apps import AppConfig


class OpenLettersConfig(AppConfig):
    name = "undersigned.openletters"
    label = "openletters"
    verbose_name = "Open letters"

    def ready(self) -> None:
        # Hand-in packs are print jobs of their own kind: bulk_print claims, watches and
        # finishes them, and calls this module to build the PDF.
        from undersigned.delivery import bulk_print
        from undersigned.delivery.models import PrintJobKind

        from . import handin

        bulk_print.register_builder(PrintJobKind.HAND_IN, handin.build_job)
