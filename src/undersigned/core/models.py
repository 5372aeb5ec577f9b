"""The base model and the audit log every service writes to."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection, models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ActionLog(models.Model):
    """Append-only record of who did what. Never holds personal text: ids and kinds only."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=80)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


def log_action(action: str, obj: models.Model, *, actor: Any = None, **data: Any) -> ActionLog:
    """Write one audit row. Callers pass ids and enum values, never personal text."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return ActionLog.objects.create(
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        actor=user,
        data=data,
    )


def logged_object_id(action: str, **data: str | int) -> str | None:
    """The object of an earlier ``action`` logged with these ``data`` values, or None.

    For idempotent acts that need no column of their own: a duplicate made with a
    form's submission key finds the copy the first submit made.
    """
    found = ActionLog.objects.filter(action=action, **{f"data__{name}": value for name, value in data.items()})
    return found.order_by("id").values_list("object_id", flat=True).first()


def insert_parts(obj: models.Model, skip: str) -> tuple[str, list[str], list[Any]]:
    """Table, quoted columns and database values of a new row, as the ORM would insert it
    (for statements that write several rows at once, e.g. ``letters.services``)."""
    fields = [f for f in obj._meta.concrete_fields if not f.primary_key and f.name != skip]
    q = connection.ops.quote_name
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    return q(obj._meta.db_table), [q(str(f.column)) for f in fields], values


class WorkerHeartbeat(models.Model):
    """One row per running task worker, written by its housekeeping loop (core/heartbeats.py).

    Operators read it on the readiness endpoint: a worker whose ``expected_by`` has
    passed missed its beats and is probably dead. Holds no personal data.
    """

    worker = models.CharField(max_length=255, unique=True)  # "host:pid"
    started_at = models.DateTimeField()
    last_loop_at = models.DateTimeField()
    # last_loop_at plus two loop intervals and a margin: the worker is late after this.
    expected_by = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker}: {self.last_loop_at:%Y-%m-%d %H:%M:%S}"
