"""On PostgreSQL, a trigram index for the public endorser search (``search_text`` LIKE '%…%').

Only on PostgreSQL: SQLite has no such index and scans the letter's rows, which is fine
at the sizes SQLite is meant for. Without the index, a search over a million
endorsements would read them all on every request.
"""

from typing import Any

from django.db import migrations

INDEX = "endorsement_search_trgm"


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON openletters_endorsement "
        "USING gin (search_text gin_trgm_ops) WHERE is_listed"
    )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("openletters", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
