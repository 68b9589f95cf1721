"""A tiny OpenAI-compatible chat server on loopback, for testing the LLM answer path offline.

`OpenAIStub` serves `POST …/chat/completions` (JSON, or server-sent events when the request asks
for `"stream": true`) from a `ThreadingHTTPServer` on 127.0.0.1 with a free port. Its behaviour
is set by attributes, changeable between requests:

* `answer`: the reply text, or a function of the request body returning it (a "naive model");
* `chunks`: how many SSE deltas a streamed reply is cut into;
* `delay_s`: seconds to wait before answering (for timeouts);
* `status`: an HTTP status other than 200 answers with an OpenAI-style error body;
* `raw`: when set, sent verbatim with status 200 (garbage that is not the API's format).

Every request is recorded in `requests` (body and headers). `make_passages` builds retrieved
passages to answer from.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from regiostrat.types import Chunk, DocumentMeta, Passage

Responder = Callable[[dict[str, Any]], str]


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    def content(self, role: str) -> str:
        """The text of all messages with this role, joined."""
        return "\n".join(str(m.get("content", "")) for m in self.messages if m.get("role") == role)


@dataclass
class OpenAIStub:
    answer: str | Responder = "Keine Antwort konfiguriert."
    chunks: int = 4
    delay_s: float = 0.0
    status: int = 200
    raw: str | None = None
    model: str = "stub-model"
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"_invalid": raw.decode("utf-8", "replace")}
                stub.requests.append(RecordedRequest(self.path, dict(self.headers), body))
                # a client that gave up (timeout) closes the socket: nothing to do then
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    stub._respond(self, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()  # wakes handlers that are delaying
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OpenAIStub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def last(self) -> RecordedRequest:
        return self.requests[-1]

    # -- responses -------------------------------------------------------------------------------
    def reply_text(self, body: dict[str, Any]) -> str:
        return self.answer(body) if callable(self.answer) else self.answer

    def _respond(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        if not handler.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(handler, 404, {"error": {"message": "not found", "type": "invalid"}})
            return
        if self.delay_s and self._stop.wait(self.delay_s):
            return
        if self.status != 200:
            error = {"error": {"message": "stub failure", "type": "server_error", "code": None}}
            self._send_json(handler, self.status, error)
            return
        if self.raw is not None:
            data = self.raw.encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return
        text = self.reply_text(body)
        if body.get("stream"):
            self._send_stream(handler, text)
        else:
            self._send_json(handler, 200, self._completion(text))

    def _completion(self, text: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-stub",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def _send_stream(self, handler: BaseHTTPRequestHandler, text: str) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Connection", "close")
        handler.end_headers()
        events = [self._chunk({"role": "assistant", "content": ""})]
        events += [self._chunk({"content": piece}) for piece in split_pieces(text, self.chunks)]
        events.append(self._chunk({}, "stop"))
        for event in events:
            handler.wfile.write(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
            handler.wfile.flush()
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()
        handler.close_connection = True

    @staticmethod
    def _send_json(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def split_pieces(text: str, count: int) -> list[str]:
    """`text` cut into up to `count` non-empty pieces at word boundaries."""
    if not text:
        return []
    words = text.split(" ")
    count = max(1, min(count, len(words)))
    size = -(-len(words) // count)
    groups = [words[i : i + size] for i in range(0, len(words), size)]
    return [" ".join(g) + (" " if i < len(groups) - 1 else "") for i, g in enumerate(groups)]


# -- passages for the answerer ------------------------------------------------------------------
TEXTS = [
    "Die Region setzt auf Windenergie und Wasserstoff. Ein Elektrolyseur mit 30 Megawatt ist "
    "an der Westküste geplant.",
    "An der Online-Umfrage haben sich 1.240 Menschen beteiligt. Die Themenwerkstätten fanden "
    "am 18. Februar 2025 in Heide statt.",
    "Der Rufbus verbindet 22 Ortschaften mit dem Mittelzentrum. Die Fahrgastzahlen stiegen im "
    "ersten Jahr um 18 Prozent.",
]


def make_passages(texts: list[str] = TEXTS) -> list[Passage]:
    return [
        Passage(
            chunk=Chunk(
                id=f"chunk-{i}",
                doc_id=f"doc-{i}",
                source=f"docs/dokument-{i}.md",
                title=f"Zwischenbericht {i}",
                text=text,
                page_start=i,
                page_end=i,
                char_start=0,
                char_end=len(text),
                content_hash=f"h{i}",
                meta=DocumentMeta(project=f"mv0{i}", doc_type="Zwischenbericht"),
            ),
            score=1.0 / i,
        )
        for i, text in enumerate(texts, 1)
    ]
