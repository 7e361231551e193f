"""Set-up the planning tests share: the real local test model (Gemma 3 270M, GGUF), llama-cpp-python's own
OpenAI-compatible server running it on 127.0.0.1, and FAKE HTTP servers for the cloud APIs (which cannot
be reached here)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from desktop_agent.capture.virtual_display import stop_process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    return _free_port()


@pytest.fixture(scope="session")
def llama_server(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server on 127.0.0.1, stopped by its handle."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("server") / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "gemma",
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--chat_format", "gemma"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"llama.cpp server did not start: {Path(log.name).read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture
def serve_http() -> Iterator[Callable[[type[BaseHTTPRequestHandler]], str]]:
    """Starts a FAKE HTTP server on 127.0.0.1 for a handler class, on a thread, and gives its base URL; every
    one started is stopped after the test."""
    running: list[tuple[HTTPServer, threading.Thread]] = []

    def serve(handler: type[BaseHTTPRequestHandler]) -> str:
        server = HTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(5)
