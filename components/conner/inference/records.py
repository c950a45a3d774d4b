"""Documents as JSON records: plain text and JSON lines in, entities out.

A plain-text file holds one document a line (blank lines skipped); a
``.jsonl`` file one object a line with a string ``"text"`` whose other keys
travel with the document. A tagged document goes out as its record's keys,
its text and its entities with character offsets.
"""

import json
from pathlib import Path
from typing import Dict, List

from spacy.tokens import Doc


def read_records(path: Path) -> List[Dict]:
    """The documents of a ``.jsonl`` or plain-text file as ``{"text": ..., ...}`` records."""
    records = []
    with path.open(encoding="utf8") as file_:
        for number, line in enumerate(file_, 1):
            if not line.strip():
                continue
            if path.suffix != ".jsonl":
                records.append({"text": line.rstrip("\r\n")})
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{number}: not JSON ({err.msg})") from None
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise ValueError(f'{path}:{number}: expected an object with a string "text"')
            records.append(record)
    if not records:
        raise ValueError(f"{path}: holds no document; nothing to tag")
    return records


def entity_record(doc: Doc, extra: Dict) -> Dict:
    """The JSON line of a tagged Doc: the input's keys, its text and its entities."""
    entities = [
        {"start": e.start_char, "end": e.end_char, "label": e.label_, "text": e.text}
        for e in doc.ents
    ]
    return {**extra, "text": doc.text, "entities": entities}
