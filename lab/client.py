"""What a front end does with a Jupyter server: REST calls and the kernel websocket.

``Rest`` sends JSON requests with the server's token. ``Channels`` is one
connection to ``/api/kernels/ID/channels`` (the JSON form of the protocol, the
one used when no subprotocol is asked for): it sends ``execute_request`` on the
shell channel and reads what arrives, recording every ``execution_state`` in
order, the text streams and the errors, as a front end would receive them.
Every wait has a deadline.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import websocket  # websocket-client

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class Rest:
    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def request(
        self, method: str, path: str, body: Any = None, timeout: float = 60
    ) -> tuple[int, Any]:
        """``(status, JSON reply or None)``; an HTTP error is a reply, not an exception."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    def start_session(self, path: str, kernel: str) -> tuple[int, Any]:
        """What JupyterLab does on opening a notebook: a session, which starts its kernel."""
        body = {"path": path, "name": path, "type": "notebook", "kernel": {"name": kernel}}
        return self.request("POST", "/api/sessions", body)


def plain_text(text: str) -> str:
    return _ANSI.sub("", text)


@dataclass
class Channels:
    """One kernel websocket, and everything it received."""

    url: str
    token: str
    kernel_id: str
    session: str = field(default_factory=lambda: uuid.uuid4().hex)
    statuses: list[str] = field(default_factory=list)
    streams: dict[str, str] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    displays: list[str] = field(default_factory=list)  # text/plain of what cells displayed
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)
    closed: str | None = None
    stream_bytes: int = 0
    sent: set[str] = field(default_factory=set)
    socket: Any = None

    def connect(self, timeout: float = 30) -> Channels:
        address = self.url.replace("http", "ws", 1).rstrip("/")
        self.socket = websocket.create_connection(
            f"{address}/api/kernels/{self.kernel_id}/channels?session_id={self.session}",
            header=[f"Authorization: token {self.token}"],
            timeout=timeout,
        )
        return self

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
            self.socket = None

    def execute(self, code: str) -> str:
        return self._send(
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        )

    def kernel_info(self) -> str:
        """Ask for the kernel's info, as a front end does on connecting: a live kernel answers
        with busy, then idle."""
        return self._send("kernel_info_request", {})

    def _send(self, msg_type: str, content: dict[str, Any]) -> str:
        msg_id = uuid.uuid4().hex
        message = {
            "header": {
                "msg_id": msg_id,
                "msg_type": msg_type,
                "username": "lab",
                "session": self.session,
                "date": datetime.now(UTC).isoformat(),
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": {},
            "content": content,
            "buffers": [],
            "channel": "shell",
        }
        self.sent.add(msg_id)
        self.socket.send(json.dumps(message))
        return msg_id

    def read_until(self, done: Callable[[Channels], bool], timeout: float) -> bool:
        """Read messages until ``done(self)`` or the deadline or the socket closing."""
        deadline = time.monotonic() + timeout
        while not done(self):
            left = deadline - time.monotonic()
            if left <= 0 or self.socket is None:
                return False
            self.socket.settimeout(min(left, 1.0))
            try:
                raw = self.socket.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except (websocket.WebSocketConnectionClosedException, OSError) as error:
                self.closed = type(error).__name__
                self.socket = None
                return done(self)
            if not raw:  # a close frame
                self.closed = f"closed by the server (code {self.socket.status})"
                self.socket = None
                return done(self)
            self._take(json.loads(raw))
        return True

    def run(self, code: str, timeout: float) -> str:
        """Execute ``code`` and read until its reply, a dead state, or the deadline."""
        msg_id = self.execute(code)
        self.read_until(lambda c: msg_id in c.replies or c.died(), timeout)
        return msg_id

    def died(self) -> bool:
        return any(state in ("restarting", "dead") for state in self.statuses)

    def _take(self, message: dict[str, Any]) -> None:
        kind = message.get("msg_type") or message.get("header", {}).get("msg_type")
        content = message.get("content") or {}
        ours = (message.get("parent_header") or {}).get("msg_id") in self.sent
        if kind == "status":
            state = content.get("execution_state")
            if state and (not self.statuses or self.statuses[-1] != state):
                self.statuses.append(state)
        elif kind == "stream" and ours:  # a front end shows output under its cell only
            text = content.get("text", "")
            self.stream_bytes += len(text)
            name = content.get("name", "stdout")
            self.streams[name] = (self.streams.get(name, "") + text)[-4000:]
        elif kind == "error" and ours:
            self.errors.append(
                {
                    "ename": content.get("ename"),
                    "evalue": content.get("evalue"),
                    "traceback": [plain_text(line) for line in content.get("traceback", [])],
                }
            )
        elif kind in ("display_data", "execute_result"):  # some come from threads: no parent
            self.displays.append(str((content.get("data") or {}).get("text/plain", "")))
        elif kind == "execute_reply":
            parent = message.get("parent_header", {}).get("msg_id")
            if parent:
                self.replies[parent] = {"status": content.get("status")}
