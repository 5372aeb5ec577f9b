"""The dashboard's cast (an organiser by membership) for the results pages' fences."""

from tests.dashboard.conftest import member

__all__ = ["member"]
