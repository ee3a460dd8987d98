"""A real HTTP server on 127.0.0.1 for tests: ``http.server.ThreadingHTTPServer`` in a thread, serving
canned replies per path and recording every request it received.

    with LocalServer() as srv:
        srv.add("/list.zip", Reply(body=data))
        srv.add("/api", Reply(429, headers={"Retry-After": "3"}), Reply(200, body=b"{}"))  # in turn
        httpx.get(srv.url("/list.zip"))

A path answers its replies in order, then repeats the last one. ``Reply.cut_at`` sends only that many
bytes of the body while announcing the full Content-Length, then closes: a truncated transfer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut_at: int | None = None


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # http.server names handlers do_<METHOD>
                server._answer(self)

            def log_message(self, *args) -> None:
                return None

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self.routes[path] = list(replies)

    def hits(self, path_prefix: str = "") -> list[Request]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    def _next_reply(self, raw_path: str) -> Reply:
        with self._lock:
            queue = self.routes.get(raw_path) or self.routes.get(urlsplit(raw_path).path)
            if not queue:
                return Reply(404, b'{"error": "no such path"}', {"Content-Type": "application/json"})
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests.append(Request(handler.command, handler.path, dict(handler.headers.items())))
        reply = self._next_reply(handler.path)
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        if reply.cut_at is not None:
            handler.send_header("Connection", "close")
        handler.end_headers()
        body = reply.body if reply.cut_at is None else reply.body[: reply.cut_at]
        try:
            handler.wfile.write(body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        if reply.cut_at is not None:
            handler.close_connection = True
