"""Neural translation with MarianMT (Opus-MT) models through ``transformers``.

``model`` is a hub name (default ``Helsinki-NLP/opus-mt-{src}-{tgt}``) or a
local folder. Texts are sorted by length before batching so that a batch
pads little, and put back in order afterwards. Inputs longer than the
model's positions are cut (counted in ``stats["truncated"]``) rather than
crashing the run; inputs with pieces the vocabulary lacks are counted in
``stats["texts_with_unknown_pieces"]``. A ``model`` that can only be a
local path (absolute, ``./``, ``~`` or more than one ``/``) must be a folder:
otherwise "no such model folder", not a hub-name validation error.
"""
from pathlib import Path
from typing import List, Optional

from .engines import BaseEngine, TranslationError, check_count


def is_local_path(name: str) -> bool:
    """Whether ``name`` can only mean a folder (hub names are ``name`` or ``org/name``)."""
    return Path(name).is_absolute() or name.startswith((".", "~")) or name.count("/") > 1


class OpusMTEngine(BaseEngine):
    """Translate with a MarianMT model on GPU when one is available.

    batch_size: texts per ``generate`` call.
    num_beams: beam size (1 = greedy).
    max_length: longest input in sub-word pieces; default the model's limit.
    max_new_tokens: longest output; default twice the longest input + 10.
    """

    name = "opus-mt"

    def __init__(
        self,
        src_lang: str,
        tgt_lang: str,
        model: Optional[str] = None,
        device: Optional[str] = None,
        batch_size: int = 32,
        num_beams: int = 4,
        max_length: Optional[int] = None,
        max_new_tokens: Optional[int] = None,
    ) -> None:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        model = str(model or f"Helsinki-NLP/opus-mt-{src_lang}-{tgt_lang}")
        source = str(Path(model).expanduser()) if is_local_path(model) else model
        if is_local_path(model) and not Path(source).is_dir():
            raise TranslationError(f"no such model folder: {model}")
        super().__init__(src_lang, tgt_lang, model=model)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.network = AutoModelForSeq2SeqLM.from_pretrained(source).to(self.device).eval()
        limit = getattr(self.network.config, "max_position_embeddings", 512)
        self.max_length = min(max_length or limit, limit)
        self.batch_size = batch_size
        self.num_beams = num_beams
        self.max_new_tokens = max_new_tokens

    def _translate(self, lines: List[str]) -> List[str]:
        import torch

        encoded = self.tokenizer(lines)["input_ids"]
        unk = self.tokenizer.unk_token_id
        self.stats["texts_with_unknown_pieces"] += sum(unk in ids for ids in encoded)
        order = sorted(range(len(lines)), key=lambda i: len(encoded[i]))
        results: List[Optional[str]] = [None] * len(lines)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            ids = [self._truncate(encoded[i]) for i in batch]
            inputs = self.tokenizer.pad({"input_ids": ids}, return_tensors="pt")
            longest = max(len(x) for x in ids)
            max_new = self.max_new_tokens or min(2 * longest + 10, self.max_length)
            with torch.inference_mode():
                output = self.network.generate(
                    input_ids=inputs["input_ids"].to(self.device),
                    attention_mask=inputs["attention_mask"].to(self.device),
                    num_beams=self.num_beams,
                    max_new_tokens=max_new,
                )
            texts = self.tokenizer.batch_decode(output, skip_special_tokens=True)
            check_count(self.name, len(batch), len(texts))
            for i, text in zip(batch, texts):
                results[i] = text
        return [text or "" for text in results]

    def _truncate(self, ids: List[int]) -> List[int]:
        if len(ids) <= self.max_length:
            return ids
        self.stats["truncated"] += 1
        # Keep the end-of-sentence marker the model was trained with.
        return ids[: self.max_length - 1] + ids[-1:]
