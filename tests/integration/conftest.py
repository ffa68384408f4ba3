"""Fixtures of the integration tests beside the session's (tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from config.settings import Settings
from readq import Client
from tests.support.services import drop_indices


@pytest.fixture
def idle(settings: Settings) -> Iterator[Client]:
    """A namespace of its own (index prefix, Redis keys) that no worker serves; removed afterwards."""
    own = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-idle{uuid.uuid4().hex[:6]}"})
    with Client(own) as client:
        client.install_templates()
        try:
            yield client
        finally:
            drop_indices(client)
            keys = list(client.runtime.redis.scan_iter(match=f"{own.index_prefix}:*"))
            if keys:
                client.runtime.redis.delete(*keys)
