"""``Client.search`` against an Elasticsearch that stops answering: readq's own error, never the transport's."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest

from config.settings import Settings
from readq import Client, ServiceUnavailable


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers, as a search server busy with another query."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield f"http://reader:s3cret@127.0.0.1:{server.getsockname()[1]}"


def test_a_search_that_times_out_names_elasticsearch_and_hides_its_password(silent_server: str) -> None:
    with (Client(Settings(es_url=silent_server, es_request_timeout=0.2)) as client,
          pytest.raises(ServiceUnavailable, match=re.escape("Elasticsearch at http://***@127.0.0.1")) as error):
        client.search("Haus", lang="de")

    assert "s3cret" not in str(error.value)
