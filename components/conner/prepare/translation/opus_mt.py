"""Neural translation with MarianMT (Opus-MT) models through ``transformers``.

``model`` is a hub name (default ``Helsinki-NLP/opus-mt-{src}-{tgt}``) or a
local folder. Texts are sorted by length before batching so that a batch
pads little, and put back in order afterwards. Inputs longer than the
model's positions are cut (counted in ``stats["truncated"]``) rather than
crashing the run; inputs with pieces the vocabulary lacks are counted in
``stats["texts_with_unknown_pieces"]``. A ``model`` that can only be a
local path (absolute, ``./``, ``~`` or more than one ``/``) must be a folder:
otherwise "no such model folder", not a hub-name validation error. A hub
name that cannot be loaded (offline and not in the Hugging Face cache, or
no such model) is one :class:`TranslationError` line saying so and how to
give a local folder; the numeric options are checked before anything loads.
"""

import os
from pathlib import Path
from typing import List, Optional

from .engines import BaseEngine, TranslationError, check_count


def check_positive(name: str, value, optional: bool = False) -> None:
    """Raise TranslationError unless ``value`` is an int >= 1 (or None, if ``optional``)."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TranslationError(f"opus-mt option {name} must be a whole number >= 1, got {value!r}")


def offline() -> bool:
    """Whether the Hugging Face hub is switched off (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)."""
    return any(
        os.environ.get(var, "").upper() in ("1", "ON", "YES", "TRUE")
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


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

        for name, value, optional in (
            ("batch_size", batch_size, False),
            ("num_beams", num_beams, False),
            ("max_length", max_length, True),
            ("max_new_tokens", max_new_tokens, True),
        ):
            check_positive(name, value, optional)
        model = str(model or f"Helsinki-NLP/opus-mt-{src_lang}-{tgt_lang}")
        source = str(Path(model).expanduser()) if is_local_path(model) else model
        local = is_local_path(model) or Path(source).is_dir()
        if is_local_path(model) and not Path(source).is_dir():
            raise TranslationError(f"no such model folder: {model}")
        super().__init__(src_lang, tgt_lang, model=model)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            torch.device(self.device)
        except (RuntimeError, TypeError):
            raise TranslationError(
                f"opus-mt option device must name a torch device, got {device!r}"
            ) from None
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source)
            network = AutoModelForSeq2SeqLM.from_pretrained(source)
        except OSError as err:  # not cached offline, no such hub name, no network
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            if local:
                raise TranslationError(
                    f"cannot load the Opus-MT model folder {model}: {reason}"
                ) from None
            why = (
                " offline: HF_HUB_OFFLINE is set and it is not in the Hugging Face cache"
                if offline()
                else f": it is not in the Hugging Face cache and the hub did not provide it ({reason})"
            )
            raise TranslationError(
                f"could not load the Opus-MT model {model!r}{why}; give a local folder of a MarianMT "
                "model with --option model=PATH"
            ) from None
        try:
            self.network = network.to(self.device).eval()
        except (RuntimeError, AssertionError) as err:  # e.g. "cuda" on a machine without one
            raise TranslationError(f"opus-mt cannot use device {self.device!r}: {err}") from None
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
