# Blocks by email address keep a keyed hash and a masked hint instead of the address.

from typing import Any

from django.db import migrations, models

from undersigned.core.security import masked_email
from undersigned.discussion.links import blocked_email_hash


def hash_blocked_addresses(apps: Any, schema_editor: Any) -> None:
    """Each email block's address becomes its keyed hash, with a masked hint beside it."""
    Block = apps.get_model("discussion", "Block")
    for block in Block.objects.filter(kind="email", value__contains="@").iterator(chunk_size=500):
        block.hint = masked_email(block.value)
        block.value = blocked_email_hash(block.value)
        block.save(update_fields=["hint", "value"])


class Migration(migrations.Migration):
    dependencies = [
        ("discussion", "0002_open_letter_discussions"),
    ]

    operations = [
        migrations.AddField(
            model_name="block",
            name="hint",
            field=models.CharField(blank=True, max_length=80),
        ),
        migrations.AlterField(
            model_name="block",
            name="kind",
            field=models.CharField(
                choices=[("email", "Email address (keyed hash)"), ("ip", "IP address (salted hash)")], max_length=10
            ),
        ),
        # Not reversible into addresses, by design: going back leaves the hashes (which
        # the older code would no longer match).
        migrations.RunPython(hash_blocked_addresses, migrations.RunPython.noop),
    ]
