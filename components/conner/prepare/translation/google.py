"""Google Cloud Translation (v2 REST API), standard library only.

One ``POST {base_url}?key=...`` per chunk of at most ``max_per_request``
texts (the API allows 128) and ``max_chars_per_request`` characters, body
``{"q": [...], "source": "es", "target": "en", "format": "text"}``. HTTP 429
and 5xx answers and network errors are retried with exponential backoff
(honouring ``Retry-After``); after the last retry a ``TranslationError``
names the status and the number of attempts.
"""

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterator, List, Optional

from .engines import BaseEngine, TranslationError, check_count

DEFAULT_URL = "https://translation.googleapis.com/language/translate/v2"
API_KEY_ENV = "GOOGLE_TRANSLATE_API_KEY"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class GoogleEngine(BaseEngine):
    """Google Cloud Translation v2.

    api_key: defaults to the environment variable ``GOOGLE_TRANSLATE_API_KEY``.
    base_url: the endpoint (tests point it at a local fake server).
    max_retries: retries after the first attempt of each request.
    backoff: seconds before the first retry; doubled for each further one.
    """

    name = "google"

    def __init__(
        self,
        src_lang: str,
        tgt_lang: str,
        api_key: Optional[str] = None,
        base_url: str = DEFAULT_URL,
        max_per_request: int = 128,
        max_chars_per_request: int = 30000,
        max_retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        timeout: float = 60.0,
        model: str = "nmt",
    ) -> None:
        api_key = api_key or os.environ.get(API_KEY_ENV)
        if not api_key:
            raise TranslationError(
                f"The google engine needs an API key: set {API_KEY_ENV} or pass api_key."
            )
        if not 1 <= max_per_request <= 128:
            raise ValueError("max_per_request must be between 1 and 128 (the v2 limit)")
        super().__init__(src_lang, tgt_lang, model=f"google-v2/{model}")
        self.url = f"{base_url}?{urllib.parse.urlencode({'key': api_key})}"
        self.base_url = base_url
        self.max_per_request = max_per_request
        self.max_chars_per_request = max_chars_per_request
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.api_model = model

    def _translate(self, lines: List[str]) -> List[str]:
        translations: List[str] = []
        for chunk in self._chunks(lines):
            data = self._post(
                {
                    "q": chunk,
                    "source": self.src_lang,
                    "target": self.tgt_lang,
                    "format": "text",
                    "model": self.api_model,
                }
            )
            try:
                got = [t["translatedText"] for t in data["data"]["translations"]]
            except (KeyError, TypeError) as err:
                raise TranslationError(f"Unexpected Google response: {str(data)[:300]}") from err
            check_count(self.name, len(chunk), len(got))
            translations.extend(got)
        return translations

    def _chunks(self, lines: List[str]) -> Iterator[List[str]]:
        chunk: List[str] = []
        chars = 0
        for line in lines:
            if chunk and (
                len(chunk) >= self.max_per_request or chars + len(line) > self.max_chars_per_request
            ):
                yield chunk
                chunk, chars = [], 0
            chunk.append(line)
            chars += len(line)
        if chunk:
            yield chunk

    def _post(self, body: Dict[str, Any]) -> Dict[str, Any]:
        payload = json.dumps(body).encode("utf-8")
        last_error = ""
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(
                self.url,
                data=payload,
                method="POST",
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
            retry_after = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as err:
                detail = err.read().decode("utf-8", "replace")[:300]
                last_error = f"HTTP {err.code}: {detail}"
                if err.code not in RETRY_STATUSES:
                    # 400/403 (bad key, bad language) will not get better.
                    raise TranslationError(
                        f"Google Translate request failed: {last_error}"
                    ) from err
                retry_after = err.headers.get("Retry-After")
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                last_error = f"network error: {err}"
            if attempt < self.max_retries:
                self.stats["http_retries"] += 1
                time.sleep(self._delay(attempt, retry_after))
        raise TranslationError(
            f"Google Translate request failed after {self.max_retries + 1} attempts; "
            f"last error: {last_error}"
        )

    def _delay(self, attempt: int, retry_after: Optional[str]) -> float:
        delay = self.backoff * (2**attempt)
        if retry_after:
            try:
                delay = max(delay, float(retry_after))
            except ValueError:
                pass  # an HTTP date; the exponential delay will do
        return min(delay, self.max_backoff)
