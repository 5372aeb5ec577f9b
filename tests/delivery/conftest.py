"""Fixtures shared by the delivery tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.delivery.test_inbound import Inbound, free_port
from undersigned.delivery.inbound import make_controller


@pytest.fixture
def inbound() -> Iterator[Inbound]:
    """The real ``undersigned inbound`` receiver on a free port."""
    port = free_port()
    controller = make_controller("127.0.0.1", port)
    controller.start()
    try:
        yield Inbound(port)
    finally:
        controller.stop()
