"""Training the reader (PyTorch): batches of similar length, AdamW with warm-up and linear decay,
weighted binary cross-entropy, a checkpoint every few steps so a stopped run goes on where it
stopped.  bench/fit_reader.py drives it over the CRUD-RAG pairs; the tests run it briefly on
fictional pairs."""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .inputs import question_text
from .network import PairReader, build, frozen_state
from .runtime import encode_pairs, encoder_tokenizer


@dataclass(frozen=True)
class TrainOptions:
    layers: int = 6
    rank: int = 0  # LoRA rank (0: the layers themselves are trained)
    train_from: int = 2  # with rank 0: layers below this stay frozen (their output computed once)
    alpha: float = 32.0
    epochs: float = 5.0
    batch: int = 32
    lr: float = 1.5e-4  # the head's is ten times this (it starts from random)
    max_tokens: int = 128
    seed: int = 32
    save_every: int = 50
    max_minutes: float = 0.0  # stop, checkpointed, after this long (0: no limit)


@dataclass
class Trained:
    model: PairReader
    base: dict[str, torch.Tensor]  # the e5 weights of the trained names, before training
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    finished: bool = True


def batches(n: int, size: int, lengths: list[int], rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length (less padding): sorted within windows of 50 batches."""
    order = list(range(n))
    rng.shuffle(order)
    out = []
    window = size * 50
    for i in range(0, n, window):
        chunk = sorted(order[i : i + window], key=lambda j: lengths[j])
        out += [chunk[k : k + size] for k in range(0, len(chunk), size)]
    rng.shuffle(out)
    return out


def padded(ids: list[list[int]], table: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Input embeddings (rows of the frozen word table) and the attention mask of a batch."""
    width = max(map(len, ids))
    mat = torch.zeros(len(ids), width, dtype=torch.long)
    mask = torch.zeros(len(ids), width, dtype=torch.long)
    for i, row in enumerate(ids):
        mat[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    return table[mat], mask


def lower_states(
    model: PairReader, table: torch.Tensor, ids: list[list[int]], say: Callable[[str], None]
) -> list[torch.Tensor]:
    """Each pair's hidden states entering the first trained layer (float16, unpadded)."""
    model.eval()
    out: list[torch.Tensor] = []
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    states: dict[int, torch.Tensor] = {}
    for k in range(0, len(order), 64):
        chunk = order[k : k + 64]
        x, mask = padded([ids[i] for i in chunk], table)
        hidden = model.lower(x, mask)
        for j, i in enumerate(chunk):
            states[i] = hidden[j, : len(ids[i])].to(torch.float16).clone()
        if k % 3200 == 0:
            say(f"frozen layers: {k}/{len(ids)} pairs")
    out = [states[i] for i in range(len(ids))]
    return out


def padded_states(states: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(s.shape[0] for s in states)
    hidden = torch.zeros(len(states), width, states[0].shape[1])
    mask = torch.zeros(len(states), width, dtype=torch.long)
    for i, s in enumerate(states):
        hidden[i, : s.shape[0]] = s.float()
        mask[i, : s.shape[0]] = 1
    return hidden, mask


def train(
    pairs: list[dict[str, Any]],
    e5: Path,
    options: TrainOptions,
    work: Path,
    say: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True),
) -> Trained:
    """Train on ``pairs`` (question, passage, label); resumes from ``work/checkpoint.pt``."""
    o = options
    torch.manual_seed(o.seed)
    tok = encoder_tokenizer(e5)
    model, table = build(e5, o.layers, o.rank, o.alpha, o.train_from)
    base = frozen_state(model)
    ids = encode_pairs(tok, [(question_text(p["question"]), p["passage"]) for p in pairs], o.max_tokens)
    cached = lower_states(model, table, ids, say) if model.train_from else None
    labels = torch.tensor([float(p["label"]) for p in pairs])
    rng = random.Random(o.seed)
    rounds = [batches(len(pairs), o.batch, [len(x) for x in ids], rng) for _ in range(int(np.ceil(o.epochs)))]
    plan = [b for r in rounds for b in r][: max(1, int(o.epochs * len(rounds[0])))]
    head = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("encoder.")]
    body = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("encoder.")]
    opt = torch.optim.AdamW([{"params": body, "lr": o.lr}, {"params": head, "lr": o.lr * 10}], weight_decay=0.01)
    warm = min(100, len(plan) // 10 + 1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.05, 1 - s / len(plan)))
    positives = labels.sum().item()
    pos_weight = torch.tensor(min(3.0, (len(pairs) - positives) / max(1.0, positives)))
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    ckpt = work / "checkpoint.pt"
    done = Trained(model, base)
    step = 0
    if ckpt.exists():
        saved = torch.load(ckpt, weights_only=False)
        if saved["plan_size"] == len(plan) and saved["options"] == o.__dict__:
            model.load_trained(saved["state"])
            opt.load_state_dict(saved["opt"])
            sched.load_state_dict(saved["sched"])
            step, done.seconds, done.losses = saved["step"], saved["seconds"], saved["losses"]
            torch.set_rng_state(saved["rng"])
            say(f"resumed at step {step}/{len(plan)}")
    started = time.monotonic()

    def save() -> None:
        work.mkdir(parents=True, exist_ok=True)
        state = {
            "state": model.trained_state(),
            "opt": opt.state_dict(),
            "sched": sched.state_dict(),
            "step": step,
            "seconds": done.seconds + time.monotonic() - started,
            "losses": done.losses,
            "rng": torch.get_rng_state(),
            "plan_size": len(plan),
            "options": o.__dict__,
        }
        torch.save(state, ckpt.with_suffix(".tmp"))
        ckpt.with_suffix(".tmp").replace(ckpt)

    model.train()
    while step < len(plan):
        batch = plan[step]
        if cached is not None:
            hidden, mask = padded_states([cached[i] for i in batch])
            logits = model.upper(hidden, mask)
        else:
            x, mask = padded([ids[i] for i in batch], table)
            logits = model(x, mask)
        loss = loss_fn(logits, labels[batch])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(body + head, 1.0)
        opt.step()
        sched.step()
        done.losses.append(round(loss.item(), 4))
        step += 1
        if step % 20 == 0:
            rate = step * o.batch / max(1e-9, done.seconds + time.monotonic() - started)
            say(f"step {step}/{len(plan)} loss {np.mean(done.losses[-20:]):.4f} ({rate:.1f} pairs/s)")
        if step % o.save_every == 0 or step == len(plan):
            save()
        if o.max_minutes and time.monotonic() - started > o.max_minutes * 60 and step < len(plan):
            save()
            say(f"stopped at step {step}/{len(plan)}; run again to go on")
            done.finished = False
            break
    done.seconds += time.monotonic() - started
    model.eval()
    return done
