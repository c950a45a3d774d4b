"""File helpers shared by the writers of an export folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def write_json(path: Path, payload: object) -> None:
    """Write ``payload`` as indented UTF-8 JSON with a final newline.

    One writer for every JSON file of the export, so they all share one layout
    (the exports are compared byte for byte).
    """
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fileh:
        for chunk in iter(lambda: fileh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
