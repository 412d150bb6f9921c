"""A live explorer server on a free port, in a thread, for the API and browser tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from qdthermo.explore.server import make_server, url_of


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url_of(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
