"""Writes for open letters, one module a job: ``versions``, ``endorsing`` (with its
``counters``), ``moderation``, ``files`` (campaign-file import and export) and
``hand_in``. Callers import the module they need, e.g.
``from undersigned.openletters.services import endorsing``.
"""
