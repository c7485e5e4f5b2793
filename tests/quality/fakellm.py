"""A fake model server on 127.0.0.1 speaking Anthropic's Messages API and OpenAI's chat completions.

Real HTTP: the official SDKs talk to it as they would to the real services. Each request's raw
body is recorded; each answer is taken from a script of steps (default: a good answer), where a
step is one of

    "good"        a valid review naming the first sampled row
    "malformed"   text that is not JSON
    "schema"      JSON that breaks the schema (an unknown severity)
    "invented"    a valid shape naming a row that was never sent
    "truncated"   cut off at the output limit (stop_reason max_tokens / finish_reason length)
    429, 500...   that HTTP status (429 with Retry-After: 0)
    "slow"        answers only after `slow_seconds` (longer than the client's timeout)
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

INPUT_TOKENS = 1500
OUTPUT_TOKENS = 400


class FakeLLM:
    def __init__(self) -> None:
        self.script: list[Any] = []
        self.requests: list[dict[str, Any]] = []  # {"path", "body" (raw text), "json"}
        self.slow_seconds = 3.0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeLLM:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def sent(self) -> str:
        """Every request body received, concatenated (for 'was this ever sent?')."""
        return "\n".join(request["body"] for request in self.requests)

    def _next_step(self) -> Any:
        with self._lock:
            return self.script.pop(0) if self.script else "good"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                payload = json.loads(raw)
                with fake._lock:
                    fake.requests.append({"path": self.path, "body": raw, "json": payload})
                step = fake._next_step()
                anthropic = self.path.endswith("/messages")
                if isinstance(step, int):
                    return self._send(step, {"error": {"type": "error", "message": f"status {step}"}},
                                      {"retry-after": "0"} if step == 429 else {})
                if step == "slow":
                    time.sleep(fake.slow_seconds)
                    step = "good"
                answer, truncated = _answer(step, sent_rows(payload, anthropic))
                self._send(200, _anthropic(answer, truncated) if anthropic else _openai(answer, truncated))

            def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout)

        return Handler


def sent_rows(payload: dict, anthropic: bool) -> list[int]:
    """The sampled row numbers a request carried."""
    if anthropic:
        text = payload["messages"][0]["content"]
    else:
        text = next(m["content"] for m in payload["messages"] if m["role"] == "user")
    data = json.loads(text.split("\n", 1)[1].split("\n\nYour previous answer was rejected")[0])
    return [row["row"] for row in data["sample_rows"]]


def _answer(step: str, rows: list[int]) -> tuple[Any, bool]:
    good = {"summary": "The sheet is mostly consistent; one amount looks wrong.",
            "findings": [{"row": rows[0], "column": "E", "severity": "warning", "category": "suspicious",
                          "message": "This amount does not fit the customer's other orders."}]}
    if step == "good":
        return good, False
    if step == "malformed":
        return '{"summary": "oops", "findings": [', False
    if step == "schema":
        return {**good, "findings": [{**good["findings"][0], "severity": "fatal"}]}, False
    if step == "invented":
        return {**good, "findings": [{**good["findings"][0], "row": 999_999}]}, False
    if step == "truncated":
        return '{"summary": "The sheet is mostly consistent; one am', True
    raise ValueError(step)


def _anthropic(answer: Any, truncated: bool) -> dict:
    if isinstance(answer, dict):
        content = [{"type": "tool_use", "id": "toolu_1", "name": "report_review", "input": answer}]
    else:
        content = [{"type": "text", "text": answer}]
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "fake-model", "content": content,
            "stop_reason": "max_tokens" if truncated else ("tool_use" if isinstance(answer, dict) else "end_turn"),
            "stop_sequence": None, "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS}}


def _openai(answer: Any, truncated: bool) -> dict:
    text = json.dumps(answer) if isinstance(answer, dict) else answer
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "fake-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "length" if truncated else "stop"}],
            "usage": {"prompt_tokens": INPUT_TOKENS, "completion_tokens": OUTPUT_TOKENS,
                      "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS}}
