"""The "my data" magic link: signed, expiring after ``MY_DATA_LINK_MINUTES`` and good
for one use. Its use is recorded by its nonce in the audit log (no address there); the
page it opens then lives in a signed cookie that expires as the link would have."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction

from undersigned.core.models import ActionLog
from undersigned.supporters.services import supporter_email

SALT = "undersigned.privacy.my-data-link"
COOKIE = "my_data"
COOKIE_SALT = "undersigned.privacy.my-data-cookie"
USED = "personal_data.link_used"


def max_age() -> int:
    return settings.MY_DATA_LINK_MINUTES * 60


def make_token(email: str) -> str:
    return signing.dumps({"e": supporter_email(email), "n": secrets.token_urlsafe(16)}, salt=SALT, compress=True)


def use_token(token: str) -> str | None:
    """The address the link was made for, once: None for a tampered, expired or used link."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age())
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), str) or not isinstance(data.get("n"), str):
        return None
    # Two clicks at once: the cache's atomic add lets one through (a key of the nonce,
    # nothing personal); the audit row is the lasting record of the use.
    if not cache.add(f"my-data-link:{data['n']}", 1, timeout=max_age()):
        return None
    with transaction.atomic():
        if ActionLog.objects.filter(action=USED, data__nonce=data["n"]).exists():
            return None
        ActionLog.objects.create(action=USED, object_type="", object_id="", data={"nonce": data["n"]})
    return str(data["e"])
