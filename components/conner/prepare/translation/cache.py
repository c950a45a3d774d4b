"""An on-disk translation cache, and an engine wrapper that uses it.

Translations are stored in SQLite (WAL journal) keyed by (engine name,
model, source language, target language, source text). Each batch is
written in one transaction that is committed before the next batch goes to
the engine, so a run killed at any moment (SIGKILL included) loses at most
the batch in flight and, started again, re-translates nothing it finished.
``synchronous=NORMAL`` makes commits survive the process dying; pass
``durable=True`` for ``synchronous=FULL`` to survive power loss too.

Empty translations are not stored: they mean "lost" (a stored engine's
missing sentence, an engine that output nothing) and deserve a new try.
"""

import sqlite3
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

from .engines import TranslationEngine, check_count

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    src TEXT NOT NULL,
    tgt TEXT NOT NULL,
    source TEXT NOT NULL,
    translation TEXT NOT NULL,
    PRIMARY KEY (engine, model, src, tgt, source)
)
"""
_CHUNK = 500  # host parameters per query, well below SQLite's limit


class TranslationCache:
    """SQLite-backed store of translations; counts hits and misses."""

    def __init__(self, path: Union[str, Path], durable: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(str(self.path))
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self.connection.execute(_SCHEMA)
        self.connection.commit()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _key(engine: TranslationEngine) -> tuple:
        return (engine.name, engine.model, engine.src_lang, engine.tgt_lang)

    def get_many(self, engine: TranslationEngine, texts: Iterable[str]) -> Dict[str, str]:
        """Stored translations of those ``texts`` that have one."""
        texts = list(dict.fromkeys(texts))
        found: Dict[str, str] = {}
        for start in range(0, len(texts), _CHUNK):
            chunk = texts[start : start + _CHUNK]
            rows = self.connection.execute(
                "SELECT source, translation FROM translations WHERE engine=? AND model=? "
                f"AND src=? AND tgt=? AND source IN ({','.join('?' * len(chunk))})",
                (*self._key(engine), *chunk),
            )
            found.update(rows)
        self.hits += len(found)
        self.misses += len(texts) - len(found)
        return found

    def put_many(self, engine: TranslationEngine, translations: Dict[str, str]) -> None:
        """Store ``{source: translation}`` in one committed transaction."""
        key = self._key(engine)
        with self.connection:
            self.connection.executemany(
                "INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?, ?)",
                [(*key, source, target) for source, target in translations.items() if target],
            )

    def __len__(self) -> int:
        return self.connection.execute("SELECT COUNT(*) FROM translations").fetchone()[0]

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> "TranslationCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class CachedTranslator:
    """Translate through ``engine``, asking ``cache`` first (if any).

    Each call sends the distinct texts the cache lacks to the engine in one
    ``translate_batch`` call and stores the results before returning.
    """

    def __init__(self, engine: TranslationEngine, cache: Optional[TranslationCache] = None) -> None:
        self.engine = engine
        self.cache = cache
        self.engine_seconds = 0.0
        self.engine_calls = 0
        self.engine_texts = 0

    def translate(self, texts: List[str]) -> List[str]:
        unique = list(dict.fromkeys(texts))
        known = self.cache.get_many(self.engine, unique) if self.cache is not None else {}
        todo = [text for text in unique if text not in known]
        if todo:
            start = time.perf_counter()
            translated = self.engine.translate_batch(todo)
            self.engine_seconds += time.perf_counter() - start
            self.engine_calls += 1
            self.engine_texts += len(todo)
            check_count(self.engine.name, len(todo), len(translated))
            new = dict(zip(todo, translated))
            if self.cache is not None:
                self.cache.put_many(self.engine, new)
            known.update(new)
        return [known[text] for text in texts]
