"""Stand-ins for translation engines, shared by the translation tests."""

import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Deque, List, Optional
from urllib.parse import parse_qs, urlparse

from conner.prepare.translation.engines import BaseEngine


def fake_translate(text: str) -> str:
    """A deterministic "translation": Spanish function words to English."""
    table = {"el": "the", "la": "the", "en": "in", "de": "of", "y": "and", "nació": "was born"}
    return " ".join(table.get(word, word) for word in text.split(" "))


class FunctionEngine(BaseEngine):
    """Translates each line with ``function``; records every batch it gets."""

    name = "fake"

    def __init__(
        self,
        src_lang: str = "es",
        tgt_lang: str = "en",
        function: Callable[[str], str] = fake_translate,
        model: str = "fake-1",
    ) -> None:
        super().__init__(src_lang, tgt_lang, model=model)
        self.function = function
        self.batches: List[List[str]] = []

    def _translate(self, lines: List[str]) -> List[str]:
        self.batches.append(list(lines))
        return [self.function(line) for line in lines]


class ShortEngine(FunctionEngine):
    """Loses the last line of every batch, like a broken engine."""

    def _translate(self, lines: List[str]) -> List[str]:
        return super()._translate(lines)[:-1]


class SlowLoggingEngine(FunctionEngine):
    """Sleeps per batch and logs each batch to a file (for the kill/resume test)."""

    name = "slow-fake"

    def __init__(self, src_lang: str, tgt_lang: str, log: str = "", delay: float = 0.0) -> None:
        super().__init__(src_lang, tgt_lang, model="slow-1")
        self.log = Path(log)
        self.delay = delay

    def _translate(self, lines: List[str]) -> List[str]:
        with self.log.open("a", encoding="utf-8") as file:
            file.write(json.dumps({"event": "start", "lines": lines}) + "\n")
            file.flush()
        time.sleep(self.delay)
        return super()._translate(lines)


def mangle(text: str) -> str:
    """What a careless engine does to placeholders."""
    text = text.replace("SPAN0", "span 0").replace("SPAN1", "(SPAN1)")
    return text.replace("SPAN2", "").replace("SPAN3", "SPAN3 SPAN3")


class FakeGoogle:
    """A local HTTP server speaking the Translation v2 protocol.

    ``script`` holds what the next requests get: "ok", "mangle", "short"
    (one translation too few), or an HTTP status code; when empty, "ok".
    """

    def __init__(self) -> None:
        self.script: Deque = deque()
        self.requests: List[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                query = parse_qs(urlparse(self.path).query)
                fake.requests.append({"body": body, "key": query.get("key", [None])[0]})
                action = fake.script.popleft() if fake.script else "ok"
                if isinstance(action, int):
                    self._send(action, {"error": {"code": action, "message": "busy"}})
                    return
                texts = body["q"]
                if action == "short":
                    texts = texts[:-1]
                out = [mangle(t) if action == "mangle" else fake_translate(t) for t in texts]
                self._send(200, {"data": {"translations": [{"translatedText": t} for t in out]}})

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/language/translate/v2"
        self.thread: Optional[threading.Thread] = None

    def __enter__(self) -> "FakeGoogle":
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def placeholder_free(text: str) -> bool:
    return re.search(r"(?i)span\s*\d", text) is None
