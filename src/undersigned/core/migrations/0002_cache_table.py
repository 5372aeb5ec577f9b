"""Create the database cache table, so `migrate` alone prepares a database.

The default cache (UNDERSIGNED_CACHE_URL unset) is a table in the database; Django
creates it only with `createcachetable`, which people forget. With Redis or locmem
configured this does nothing.
"""

from typing import Any

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps: Any, schema_editor: Any) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
