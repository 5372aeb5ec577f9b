"""Hand-in packs list endorsers by the version they endorsed: an index for reading one
version's named endorsers in order (it also serves the foreign key, whose own index goes)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("openletters", "0003_archived_status"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="endorsement",
            index=models.Index(fields=["version", "is_listed", "id"], name="endorsement_listed_version"),
        ),
        migrations.AlterField(
            model_name="endorsement",
            name="version",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="endorsements",
                to="openletters.openletterversion",
            ),
        ),
    ]
