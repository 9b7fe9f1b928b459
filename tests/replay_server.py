"""A real HTTP server on loopback that answers with recorded exchanges and keeps what each request carried.

For tests of what a client *sends*: its headers, its query string, its path, as they arrive over a socket (a
client's own ``http_client`` or transport is not involved, so what a copy of the client drops shows up here).
The responses are the recordings' (tests/recordings/, each saying where it was recorded), served in order; the
server checks nothing about the request, the test reads ``server.requests``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class ReplayServer:
    """``with ReplayServer(exchanges) as server:`` serves at ``server.url``; ``server.requests`` lists each request as
    ``{"method", "path", "query", "headers", "json"}`` (header names lower-cased)."""

    def __init__(self, exchanges: list[dict[str, Any]]):
        self.exchanges = list(exchanges)
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                with owner._lock:
                    index = len(owner.requests)
                    owner.requests.append({"method": "POST", "path": split.path, "query": parse_qs(split.query),
                                           "headers": {name.lower(): value for name, value in self.headers.items()},
                                           "json": json.loads(body) if body else None})
                if index >= len(owner.exchanges):
                    self.send_error(500, "no recorded response left")
                    return
                recorded = owner.exchanges[index]["response"]
                payload = recorded["body"].encode("utf-8")
                self.send_response(recorded["status"])
                self.send_header("content-type", recorded.get("headers", {}).get("content-type", "application/json"))
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass  # quiet: the test reads server.requests

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
