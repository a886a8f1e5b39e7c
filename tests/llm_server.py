"""A real local HTTP server speaking OpenAI chat completions, with scripted replies (tests only)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    delay: float = 0.0  # seconds before answering
    malformed: bool = False  # send an event that is not JSON
    piece: int = 3  # characters per streamed delta


@dataclass
class ChatServer:
    """``replies`` are served in order (the last one repeats); ``requests`` records every body."""

    replies: list[Reply] = field(default_factory=lambda: [Reply("好的。")])
    requests: list[dict] = field(default_factory=list)

    def next_reply(self) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def start(self) -> str:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                if self.path != "/v1/chat/completions":
                    self.send_error(404)
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"body": body, "auth": self.headers.get("Authorization")})
                reply = server.next_reply()
                time.sleep(reply.delay)
                if reply.status != 200:
                    self._send(reply.status, "application/json", json.dumps({"error": {"message": "boom"}}).encode())
                elif body.get("stream"):
                    self._stream(reply)
                else:
                    msg = {
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply.content},
                                "finish_reason": "stop",
                            }
                        ]
                    }
                    self._send(200, "application/json", b"{oops" if reply.malformed else json.dumps(msg).encode())

            def _send(self, status: int, ctype: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                if reply.malformed:
                    self.wfile.write(b"data: {not json\n\n")
                    return
                text = reply.content
                for i in range(0, len(text), reply.piece):
                    event = {"choices": [{"index": 0, "delta": {"content": text[i : i + reply.piece]}}]}
                    self.wfile.write(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
