"""Exports a local sentence-transformers model's transformer to ONNX, for query embedding on
ONNX Runtime (services/ingester/embeddings/onnx_local.py).

Runs as its own process (`python -m services.ingester.embeddings.onnx_export MODEL OUT`): the
exporter traces the model and leaves global tracing state behind in the process that ran it,
and the ingester's own torch model must not see any of that. The file is written next to OUT
and renamed into place, so a crash never leaves half a model behind.

The example inputs are a padded batch of two (one row shorter than the other): traced with an
all-ones mask, the exporter would drop the mask arithmetic and batches with padding would come
out wrong. "eager" attention traces to plain matrix operations that ONNX Runtime fuses itself."""

import os
import sys

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "last_hidden_state"
OPSET = 17


def export(model_path: str, out_path: str) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(model_path, attn_implementation="eager").eval()

    class HiddenStates(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                              token_type_ids=token_type_ids).last_hidden_state
            return hidden

    ids = torch.tensor([[101, 7592, 2088, 3231, 102], [101, 7592, 102, 0, 0]])
    mask = (ids != 0).long()
    partial = f"{out_path}.partial-{os.getpid()}"
    with torch.inference_mode():
        torch.onnx.export(
            HiddenStates(), (ids, mask, torch.zeros_like(ids)), partial,
            input_names=list(INPUTS), output_names=[OUTPUT], opset_version=OPSET,
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*INPUTS, OUTPUT)},
            dynamo=False)
    os.replace(partial, out_path)


if __name__ == "__main__":
    export(sys.argv[1], sys.argv[2])
