"""Distilling e5-small into static piece vectors: the model2vec recipe, done offline.

Every XLM-R piece that can occur in Chinese news (CJK, full-width forms, ASCII letters, digits,
punctuation: ~102k of 250k) is passed alone through e5 (``<s> piece </s>``, mean pooled) once
(~100 s on two cores).  The table is then centred, its top principal directions removed
("all-but-the-top") and each row weighted by SIF, ``a / (a + p(piece))`` with ``p`` from XLM-R's
own unigram log-probabilities.  ``TOP_DIRECTIONS`` 32 and ``SIF_A`` 1e-5 were chosen on
eval/adversarial/crud.tune.jsonl.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

TOP_DIRECTIONS, SIF_A = 32, 1e-5
RECIPE = {"recipe": "piece-mean-abtt-sif", "version": 1, "top_directions": TOP_DIRECTIONS, "sif_a": SIF_A}
_KEPT_PIECE = re.compile(r"[\u2000-\u206f\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]|^[\u2581\x20-\x7e]+$")
_SPECIAL_IDS = 4  # <s> <pad> </s> <unk>
_BATCH = 1024


def kept_pieces(vocab: Sequence[tuple[str, float]]) -> np.ndarray:
    """Ids of the pieces a Chinese archive can produce (specials excluded)."""
    return np.array([i for i, (piece, _) in enumerate(vocab) if i >= _SPECIAL_IDS and _KEPT_PIECE.search(piece)])


def piece_vectors(transformer, ids: np.ndarray, bos: int = 0, eos: int = 2) -> np.ndarray:
    """e5's mean-pooled output for each piece alone, (len(ids), hidden) float32."""
    import torch

    out = []
    with torch.inference_mode():
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            seq = torch.tensor([[bos, int(i), eos] for i in chunk])
            hidden = transformer(input_ids=seq, attention_mask=torch.ones_like(seq)).last_hidden_state
            out.append(hidden.mean(1).float().numpy())
    return np.concatenate(out) if out else np.zeros((0, transformer.config.hidden_size), np.float32)


def post_process(raw: np.ndarray, log_probs: np.ndarray, top_directions: int, sif_a: float) -> np.ndarray:
    """Centre, drop the top principal directions, weight each row by SIF."""
    centred = raw - raw.mean(0)
    if top_directions:
        _, _, vt = np.linalg.svd(centred[:: max(1, len(centred) // 20_000)], full_matrices=False)
        top = vt[:top_directions]
        centred -= (centred @ top.T) @ top
    weights = sif_a / (sif_a + np.exp(log_probs.astype(np.float64)))
    return (centred * weights[:, None]).astype(np.float32)


def distill(e5_folder: Path, target: Path) -> None:
    """Write ``table.npy`` (float16, one row per vocabulary id, zeros for pieces not kept) and
    the tokenizer into ``target``."""
    import json
    import shutil

    from rag.embeddings.sentence_transformer import load_sentence_transformer

    vocab = json.loads((e5_folder / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    ids = kept_pieces(vocab)
    model = load_sentence_transformer(e5_folder)
    raw = piece_vectors(model[0].auto_model.eval(), ids)
    rows = post_process(raw, np.array([vocab[i][1] for i in ids]), TOP_DIRECTIONS, SIF_A)
    table = np.zeros((len(vocab), rows.shape[1]), dtype=np.float16)
    table[ids] = rows
    np.save(target / "table.npy", table)
    shutil.copy(e5_folder / "tokenizer.json", target / "tokenizer.json")
