"""The reader's network (PyTorch; loaded only to train it and to export it once to ONNX).

A cross-encoder made from the provisioned multilingual-e5-small: its first ``layers`` encoder
layers, mean pooling and a small head giving one logit — *this sentence answers the question*.
Either the layers from ``train_from`` up are trained themselves (``rank = 0``; the ones below
stay as e5 has them, so training runs them once per pair and keeps their output; what ships is
the change to each trained weight, int8 with a scale per row, and the head: about 7 MB for 4
layers), or every layer stays frozen under LoRA adapters of rank ``rank`` on each linear map
(what ships is the adapters and the head).
The word-embedding table is not part of the network: it is read from the e5 folder's
``model.safetensors`` (memory-mapped, rag.generation.reader) and handed in as ``inputs_embeds``,
so neither training nor the exported model holds a second copy of it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

ADAPTED = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


class LoRALinear(nn.Module):
    """``base(x) + scale · x Aᵀ Bᵀ`` with ``base`` frozen; B starts at zero."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale

    def merged(self) -> nn.Linear:
        out = nn.Linear(self.base.in_features, self.base.out_features)
        with torch.no_grad():
            out.weight.copy_(self.base.weight + (self.lora_b @ self.lora_a) * self.scale)
            out.bias.copy_(self.base.bias)
        return out


class PairReader(nn.Module):
    """Question–sentence pairs (as input embeddings) → one logit per pair."""

    def __init__(
        self, encoder: Any, layers: int, rank: int, alpha: float, train_from: int = 0, dropout: float = 0.1
    ) -> None:
        super().__init__()
        if not 0 <= train_from < layers <= len(encoder.encoder.layer):
            raise ValueError(f"cannot train from layer {train_from} of {layers} (e5 has {len(encoder.encoder.layer)})")
        self.train_from = train_from if rank == 0 else 0
        encoder.encoder.layer = encoder.encoder.layer[:layers]
        encoder.config.num_hidden_layers = layers
        for p in encoder.parameters():
            p.requires_grad = False
        for layer in encoder.encoder.layer[self.train_from :] if rank == 0 else ():
            for p in layer.parameters():
                p.requires_grad = True
        for layer in encoder.encoder.layer if rank > 0 else ():
            for path in ADAPTED:
                owner_path, _, name = path.rpartition(".")
                owner = layer.get_submodule(owner_path)
                setattr(owner, name, LoRALinear(getattr(owner, name), rank, alpha))
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.pool = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state
        return self.head(hidden, attention_mask)

    @torch.no_grad()
    def lower(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The hidden states entering layer ``train_from`` (the frozen part, run once in training)."""
        out = self.encoder(inputs_embeds=inputs_embeds, attention_mask=attention_mask, output_hidden_states=True)
        return out.hidden_states[self.train_from]

    def upper(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The trained layers and the head over ``lower``'s output: ``forward`` in two parts."""
        additive = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        for layer in self.encoder.encoder.layer[self.train_from :]:
            hidden = layer(hidden, attention_mask=additive)
            hidden = hidden[0] if isinstance(hidden, tuple) else hidden
        return self.head(hidden, attention_mask)

    def head(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.out(torch.tanh(self.pool(self.dropout(mean)))).squeeze(-1)

    def trained_state(self) -> dict[str, torch.Tensor]:
        """What was trained (and ships): the adapters and the head."""
        return {k: v.detach().clone().contiguous() for k, v in self.named_parameters() if v.requires_grad}

    def load_trained(self, state: dict[str, torch.Tensor]) -> None:
        own = dict(self.named_parameters())
        wanted = {k for k, v in own.items() if v.requires_grad}
        if set(state) != wanted:
            raise ValueError(f"reader weights do not fit the network ({len(set(state) ^ wanted)} names differ)")
        with torch.no_grad():
            for k, v in state.items():
                if own[k].shape != v.shape:
                    raise ValueError(f"reader weight {k} has shape {tuple(v.shape)}, wanted {tuple(own[k].shape)}")
                own[k].copy_(v.to(own[k].dtype))

    def merge(self) -> PairReader:
        """The adapters folded into the frozen weights (plain linear layers again), for export."""
        for layer in self.encoder.encoder.layer:
            for path in ADAPTED:
                owner_path, _, name = path.rpartition(".")
                owner = layer.get_submodule(owner_path)
                lora = getattr(owner, name)
                if isinstance(lora, LoRALinear):
                    setattr(owner, name, lora.merged())
        return self


def pack(state: dict[str, torch.Tensor], base: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """What ships of trained weights: for a weight the frozen e5 also has (``base``), its change —
    int8 with a float16 scale per row for a matrix, float16 for a vector; the rest as float16."""
    out = {}
    for name, value in state.items():
        if name not in base:
            out[name] = value.to(torch.float16)
            continue
        delta = (value - base[name]).float()
        if delta.dim() == 2:
            scale = (delta.abs().amax(dim=1, keepdim=True) / 127.0).clamp(min=1e-12)
            out[f"{name}.int8"] = torch.round(delta / scale).to(torch.int8)
            out[f"{name}.scale"] = scale.to(torch.float16)
        else:
            out[f"{name}.delta"] = delta.to(torch.float16)
    return out


def unpack(packed: dict[str, torch.Tensor], base: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The trained weights again from ``pack``'s output and the frozen e5 (``base``)."""
    out = {}
    for name, value in packed.items():
        if name.endswith(".scale"):
            continue
        if name.endswith(".int8"):
            key = name[: -len(".int8")]
            out[key] = base[key] + value.float() * packed[f"{key}.scale"].float()
        elif name.endswith(".delta"):
            key = name[: -len(".delta")]
            out[key] = base[key] + value.float()
        else:
            out[name] = value.float()
    return out


def frozen_state(model: PairReader) -> dict[str, torch.Tensor]:
    """The e5 weights of the trainable names, as they were before training."""
    return {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad and k.startswith("encoder.")}


def build(
    e5_folder: Path, layers: int, rank: int, alpha: float, train_from: int = 0
) -> tuple[PairReader, torch.Tensor]:
    """The network over the e5 folder's weights, and the word-embedding table kept beside it."""
    from transformers import BertModel

    encoder = BertModel.from_pretrained(str(e5_folder), add_pooling_layer=False)
    table = encoder.embeddings.word_embeddings.weight.detach()
    return PairReader(encoder, layers, rank, alpha, train_from), table


def export_onnx(model: PairReader, target: Path) -> None:
    """The merged network to ONNX (inputs_embeds, attention_mask → logits), atomically."""
    import os

    model = model.merge().eval()
    hidden = model.encoder.config.hidden_size
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    axes = {0: "batch", 1: "tokens"}
    with torch.inference_mode(False), torch.no_grad():
        torch.onnx.export(
            model,
            (torch.zeros(2, 8, hidden), torch.ones(2, 8, dtype=torch.long)),
            str(tmp),
            dynamo=False,
            opset_version=17,
            input_names=["inputs_embeds", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"inputs_embeds": axes, "attention_mask": axes, "logits": {0: "batch"}},
        )
    os.replace(tmp, target)
