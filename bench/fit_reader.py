"""Train the reader (issue 32): the top layers (9–12) of the provisioned multilingual-e5-small
and a head, as a cross-encoder over the pairs of bench/reader_pairs.py (rag.reader.training).

Trains on folds 1–4 (by CRUD item), measures and calibrates on fold 0 (answerability AUC,
top-1 sentence accuracy, Platt scaling of the logit), and writes what ships:
``rag/reader/weights/reader.safetensors`` (the layers' change, int8, and the head) and
``reader.json`` (shape, calibration, how it was trained, the held-out figures; the threshold is
set by bench/calibrate_reader.py).
Fixed seeds; resumable: a checkpoint every ``--save-every`` steps in ``--work``, and a run
stopped by ``--max-minutes`` (or killed) goes on from it when started again.

    python bench/fit_reader.py --pairs build/reader/pairs.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from rag.embeddings.provision import ensure_e5_model
from rag.reader import MODEL_DIR, Reader, ReaderConfig
from rag.reader.runtime import CONFIG, WEIGHTS
from rag.reader.training import TrainOptions, train
from rag.settings import Settings


def held_out_figures(logits: np.ndarray, pairs: list[dict]) -> dict:
    from sklearn.metrics import roc_auc_score

    labels = np.array([p["label"] for p in pairs])
    by_q: dict[str, list[int]] = {}
    for i, p in enumerate(pairs):
        if not p["kind"].startswith("twin"):
            by_q.setdefault(p["id"], []).append(i)
    tops = [labels[max(ix, key=lambda i: logits[i])] for ix in by_q.values() if 0 < labels[ix].sum() < len(ix)]
    twins = [i for i, p in enumerate(pairs) if p["kind"].startswith("twin")]
    answers = [i for i, p in enumerate(pairs) if p["kind"] == "answer"]
    twin_auc = roc_auc_score(labels[answers + twins], logits[answers + twins]) if twins else None
    return {
        "pairs": len(pairs),
        "auc": round(float(roc_auc_score(labels, logits)), 4),
        "auc_answer_vs_twin": round(float(twin_auc), 4) if twin_auc is not None else None,
        "top1_sentence": round(float(np.mean(tops)), 4),
        "questions_top1": len(tops),
    }


def platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(C=100.0).fit(logits.reshape(-1, 1), labels)
    return float(m.coef_[0][0]), float(m.intercept_[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=Path, default=Path("build/reader/pairs-v2.jsonl"))
    ap.add_argument("--work", type=Path, default=Path("build/reader"))
    ap.add_argument("--out", type=Path, default=MODEL_DIR, help="where reader.safetensors/.json are written")
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--rank", type=int, default=0, help="LoRA rank (0: train the layers themselves)")
    ap.add_argument("--train-from", type=int, default=2, help="with rank 0: the first layer trained")
    ap.add_argument("--alpha", type=float, default=32.0)
    ap.add_argument("--epochs", type=float, default=5.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1.5e-4)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--seed", type=int, default=32)
    ap.add_argument("--save-every", type=int, default=50)
    ap.add_argument("--max-minutes", type=float, default=0.0, help="stop (checkpointed) after this long")
    ap.add_argument("--limit", type=int, default=0, help="first N training pairs only (a smoke test)")
    ap.add_argument("--held-fold", type=int, default=0)
    ap.add_argument("--evaluate-only", action="store_true", help="measure and calibrate the written weights again")
    args = ap.parse_args()
    if not args.pairs.exists():
        sys.exit(f"error: no pairs at {args.pairs} (run bench/reader_pairs.py first)")
    all_pairs = [json.loads(line) for line in args.pairs.read_text(encoding="utf-8").splitlines() if line.strip()]
    train_pairs = [p for p in all_pairs if p["fold"] != args.held_fold][: args.limit or None]
    held = [p for p in all_pairs if p["fold"] == args.held_fold][: (args.limit // 4) or None]
    e5 = ensure_e5_model(Settings().model_cache)
    options = TrainOptions(
        layers=args.layers,
        rank=args.rank,
        train_from=args.train_from,
        alpha=args.alpha,
        epochs=args.epochs,
        batch=args.batch,
        lr=args.lr,
        max_tokens=args.max_tokens,
        seed=args.seed,
        save_every=args.save_every,
        max_minutes=args.max_minutes,
    )
    if args.evaluate_only:  # the written weights measured and calibrated again (a new runtime build)
        measure(Reader(args.out, e5, cache_dir=args.work / "onnx"), held, args.out)
        return
    done = train(train_pairs, e5, options, args.work)
    if not done.finished:
        return
    model, base, losses = done.model, done.base, done.losses
    config = ReaderConfig(
        layers=args.layers,
        rank=args.rank,
        alpha=args.alpha,
        train_from=args.train_from if args.rank == 0 else 0,
        max_tokens=args.max_tokens,
        trained={
            "pairs": args.pairs.name,
            "train_pairs": len(train_pairs),
            "epochs": args.epochs,
            "seconds": round(done.seconds),
            "loss_first": round(float(np.mean(losses[:20])), 4),
            "loss_last": round(float(np.mean(losses[-20:])), 4),
            "seed": args.seed,
        },
    )
    args.out.mkdir(parents=True, exist_ok=True)
    Reader.write(args.out, model.trained_state(), config, base)
    measure(Reader(args.out, e5, cache_dir=args.work / "onnx"), held, args.out)


def measure(reader: Reader, held: list[dict], out: Path) -> None:
    """Held-out figures and the Platt calibration, written into the reader's settings."""
    from safetensors.torch import load_file

    logits = reader.logits([p["question"] for p in held], [p["passage"] for p in held])
    a, b = platt(logits, np.array([p["label"] for p in held]))
    trained = {**reader.config.trained, "held_out": held_out_figures(logits, held)}
    config = dataclasses.replace(reader.config, calibration=(a, b), trained=trained)
    body = {**config.__dict__, "calibration": list(config.calibration)}
    (out / CONFIG).write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert load_file(str(out / WEIGHTS))  # still readable
    print(json.dumps(trained, ensure_ascii=False))


if __name__ == "__main__":
    main()
