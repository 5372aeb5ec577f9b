"""Settings for the bare Django reference: the product's settings with the reference's URLs.

Same middleware, templates engine, database and cache as the product, so the difference
bench/letters.py measures is what the product's own views and services cost.
"""

from undersigned.settings import *  # noqa: F403

ROOT_URLCONF = "reference_app"
