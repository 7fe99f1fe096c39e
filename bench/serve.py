"""Local servers for the built site, each in its own process.

- ``plain``: ``python -m http.server``, exactly as the reference page weights were measured.
- ``gzip``: the same files, with text-like responses gzip-compressed the way a real static host
  (GitHub Pages, Netlify, nginx with ``gzip_types``) sends them.

Run ``python bench/serve.py --gzip --directory DIR PORT`` to get the gzip server on its own.
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import gzip
import http.server
import mimetypes
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

# Types a static host compresses; images, fonts in woff2 and archives are already compressed.
COMPRESSIBLE = (
    "text/",
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "application/xml",
    "image/svg+xml",
    "application/wasm",
    "font/ttf",
    "font/otf",
)
GZIP_LEVEL = 6  # nginx and most hosts use a middle level, not the smallest output


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files like ``http.server`` but gzips compressible ones for clients that accept it.

    Like a static host, it compresses each file once (nginx's ``gzip_static``, a CDN's edge
    cache), not on every request, and answers a conditional request (``If-None-Match``,
    ``If-Modified-Since``) with 304 when the file is unchanged. Like nginx's defaults it sends
    ``ETag`` and ``Last-Modified`` but no ``Cache-Control``: how long a browser may reuse a
    response without asking is its own heuristic."""

    def send_head(self):  # type: ignore[override]
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            index = path / "index.html"
            if not self.path.split("?", 1)[0].endswith("/") or not index.is_file():
                return super().send_head()
            path = index
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        ctype = self.guess_type(str(path))
        if not (accepts and path.is_file() and ctype.startswith(COMPRESSIBLE)):
            return super().send_head()
        stat = path.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}-gzip"'
        modified = int(stat.st_mtime)
        if self._unchanged(etag, modified):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Vary", "Accept-Encoding")
            self.end_headers()
            return None
        body = compressed(path)
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", self.date_time_string(modified))
        self.end_headers()
        return _BytesFile(body)

    def _unchanged(self, etag: str, modified: int) -> bool:
        """Whether the request's validators still match the file (RFC 9110, 13.1)."""
        tags = self.headers.get("If-None-Match")
        if tags is not None:
            return etag in (tag.strip().removeprefix("W/") for tag in tags.split(","))
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            return modified <= email.utils.parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False

    def log_message(self, format: str, *args: object) -> None:
        pass


_COMPRESSED: dict[tuple[Path, int, int], bytes] = {}


def compressed(path: Path) -> bytes:
    """The gzip body of ``path``, compressed once per version of the file."""
    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _COMPRESSED:
        _COMPRESSED[key] = gzip.compress(path.read_bytes(), compresslevel=GZIP_LEVEL, mtime=0)
    return _COMPRESSED[key]


def precompress(directory: Path) -> None:
    """Compress every compressible file under ``directory`` before any reader asks, as a
    host that stores the compressed copies (or a CDN that has seen them) does."""
    for path in directory.rglob("*"):
        if path.is_file() and (mimetypes.guess_type(path)[0] or "").startswith(COMPRESSIBLE):
            compressed(path)


class _BytesFile:
    """The file-like object ``SimpleHTTPRequestHandler.do_GET`` copies to the socket."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        data, self.data = (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        return data

    def close(self) -> None:
        self.data = b""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local server on port {port} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the local server on port {port} did not start in {timeout:g} s")


@contextlib.contextmanager
def serve(directory: Path, *, compressed: bool) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 and yield its base URL (ending in ``/``)."""
    port = free_port()
    if compressed:
        command = [sys.executable, __file__, "--gzip"]
    else:
        command = [sys.executable, "-m", "http.server"]
    command += ["--bind", "127.0.0.1", "--directory", str(directory), str(port)]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ}
    )
    try:
        _wait_for(port, process)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gzip", action="store_true", help="compress like a static host")
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--directory", default=os.getcwd())
    parser.add_argument("port", type=int, nargs="?", default=8000)
    args = parser.parse_args(argv)
    handler = GzipHandler if args.gzip else http.server.SimpleHTTPRequestHandler

    class Handler(handler):  # type: ignore[misc, valid-type]
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=args.directory, **kw)

    with http.server.ThreadingHTTPServer((args.bind, args.port), Handler) as httpd:
        httpd.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
