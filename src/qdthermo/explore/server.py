"""The explorer's HTTP server: whitelisted static files and the JSON API, one request at a time per thread.

Routes (everything else is 404; no path ever reaches the file system):

``GET /``, ``/app.js``, ``/style.css``
    The page, from the package's ``static`` folder.
``GET /api/presets``
    Presets, their fields, map and cut defaults.
``POST /api/map``, ``POST /api/point`` (JSON body) or ``GET`` with ``?q=JSON``
    The map (uint8 codes, base64) and the point (table, cut, command).
``GET /api/netcdf?q=JSON``
    The map's data as a NetCDF file.

Bad input is a 400 with ``{"error": "one line"}``; anything unexpected a 500
with one line (never a traceback in the response; the server keeps serving).
"""

from __future__ import annotations

import json
import sys
import threading
import webbrowser
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from qdthermo.explore import api
from qdthermo.model.parameters import ParameterError

__all__ = ["make_server", "serve"]

#: the only files served: URL path -> (file in the static folder, content type)
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
#: largest request body or query accepted
MAX_BODY = 64 * 1024

_presets_cache: dict[str, bytes] = {}
_presets_lock = threading.Lock()


def _static(name: str) -> bytes:
    return resources.files("qdthermo.explore").joinpath("static").joinpath(name).read_bytes()


def _presets_json() -> bytes:
    with _presets_lock:
        if "body" not in _presets_cache:
            _presets_cache["body"] = json.dumps(api.presets_payload()).encode()
        return _presets_cache["body"]


class _BadRequest(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    """One request: route, answer, never raise."""

    server_version = "qdthermo-explore"
    quiet = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if not self.quiet:
            super().log_message(format, *args)

    # ------------------------------------------------------------------ answers
    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj, allow_nan=False).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    # ------------------------------------------------------------------ routing
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._guarded(self._get)

    def do_HEAD(self) -> None:  # noqa: N802
        self._guarded(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self._guarded(self._post)

    def _guarded(self, route: Callable[[], None]) -> None:
        try:
            route()
        except _BadRequest as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except (api.QueryError, ParameterError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except ValueError as exc:  # the model's own checks name what is wrong
            self._error(HTTPStatus.BAD_REQUEST, f"cannot solve this point: {exc}")
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # noqa: BLE001 - one request must never stop the server
            try:
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error ({type(exc).__name__}): {exc}")
            except Exception:  # noqa: BLE001
                pass

    def _get(self) -> None:
        parts = urlsplit(self.path)
        if parts.path in STATIC:
            name, ctype = STATIC[parts.path]
            self._send(HTTPStatus.OK, _static(name), ctype)
        elif parts.path == "/api/presets":
            self._send(HTTPStatus.OK, _presets_json(), "application/json")
        elif parts.path in ("/api/map", "/api/point"):
            self._json(HTTPStatus.OK, self._compute(parts.path, self._query_param(parts.query)))
        elif parts.path == "/api/netcdf":
            name, data = api.netcdf_bytes(self._query_param(parts.query))
            self._send(HTTPStatus.OK, data, "application/x-netcdf",
                       {"Content-Disposition": f'attachment; filename="{name}"'})
        else:
            self._error(HTTPStatus.NOT_FOUND, f"not found: {parts.path[:200]}")

    def _post(self) -> None:
        parts = urlsplit(self.path)
        if parts.path not in ("/api/map", "/api/point"):
            self._error(HTTPStatus.NOT_FOUND, f"not found: {parts.path[:200]}")
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise _BadRequest("bad Content-Length") from None
        if not 0 < length <= MAX_BODY:
            raise _BadRequest(f"the request body must be 1 to {MAX_BODY} bytes of JSON")
        self._json(HTTPStatus.OK, self._compute(parts.path, self._parse(self.rfile.read(length))))

    @staticmethod
    def _parse(raw: bytes | str) -> Any:
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise _BadRequest("the request is not valid JSON") from None

    def _query_param(self, query: str) -> Any:
        if len(query) > MAX_BODY:
            raise _BadRequest("query too long")
        q = parse_qs(query).get("q")
        if not q:
            raise _BadRequest("missing ?q=JSON")
        return self._parse(q[0])

    @staticmethod
    def _compute(path: str, query: Any) -> Any:
        return api.compute_map(query) if path == "/api/map" else api.compute_point(query)


def make_server(host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> ThreadingHTTPServer:
    """A bound, not yet serving, explorer server (``port=0``: a free port; ``server.server_address``).

    Parameters
    ----------
    host
        Address to listen on (127.0.0.1: this machine only).
    port
        TCP port; 0 picks a free one.
    quiet
        Do not log each request.

    Returns
    -------
    http.server.ThreadingHTTPServer
        Call ``serve_forever()`` on it (e.g. in a thread) and ``shutdown()`` to stop.

    Examples
    --------
    Bind to a free port of this machine, and close without serving:

    >>> from qdthermo.explore import make_server
    >>> server = make_server(port=0)
    >>> host, port = server.server_address[:2]
    >>> host, port > 0
    ('127.0.0.1', True)
    >>> server.server_close()
    """
    handler = type("ExploreHandler", (Handler,), {"quiet": quiet})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def url_of(server: ThreadingHTTPServer) -> str:
    """``http://HOST:PORT/`` of a bound server."""
    host, port = server.server_address[:2]
    host = str(host)
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"


def serve(host: str = "127.0.0.1", port: int = 8765, *, open_browser: bool = True) -> None:
    """Serve until Ctrl-C, printing the URL (and opening a browser unless ``open_browser`` is False).

    Parameters
    ----------
    host
        Address to listen on (127.0.0.1: this machine only; anything else is warned about).
    port
        TCP port (0: any free port).
    open_browser
        Open the page in the default browser.

    Returns
    -------
    None
        Returns after Ctrl-C, once the server is closed.

    Examples
    --------
    From a script (blocks until Ctrl-C; the ``qdthermo explore`` command does the same):

    >>> from qdthermo.explore import serve
    >>> serve(port=8765, open_browser=False)      # doctest: +SKIP
    """
    server = make_server(host, port)
    url = url_of(server)
    print(f"qdthermo explore: serving on {url} (Ctrl-C to stop)", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}: anyone who can reach this machine can use the explorer",
              file=sys.stderr, flush=True)
    if open_browser:
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nqdthermo explore: stopped", flush=True)
    finally:
        server.server_close()
