from django.apps import AppConfig


class OpenLettersConfig(AppConfig):
    name = "undersigned.openletters"
    label = "openletters"
    verbose_name = "Open letters"

    def ready(self) -> None:
        # Hand-in packs are print jobs of their own kind: bulk_print claims, watches and
        # finishes them, and calls handin.build_job to build the PDF. Registered by path:
        # the web workers never import the PDF machinery.
        from undersigned.delivery import printing  # noqa: PLC0415 (apps must be ready first)
        from undersigned.delivery.models import PrintJobKind  # noqa: PLC0415 (models load after the apps)

        printing.register_builder(PrintJobKind.HAND_IN, "undersigned.openletters.handin.build_job")
        printing.register_builder(PrintJobKind.SECTIONS, "undersigned.openletters.handin.build_batch")
        # A member's pack by email: the delivery engine asks this module for the message.
        from undersigned.delivery import sending  # noqa: PLC0415 (apps must be ready first)

        sending.register_pack_message("undersigned.openletters.pack_mail.build_message")
        # An organisation's update to one supporter, the same way.
        sending.register_update_message("undersigned.openletters.update_mail.build_message")
