"""Training pairs for the reader (issue 32): (question, sentence in its context, label).

From ``../shared/train/crud_qa_train.jsonl`` (CRUD-RAG, Apache-2.0; disjoint by item from every
set the product is measured on) and the articles in ``news.jsonl.xz``:

- **positive**: a sentence of an answer article that holds the answer verbatim (compacted; a
  number not inside a longer one); for a question whose answer is paraphrased, a sentence of a
  source article holding ≥ 85 % of the answer's character bigrams (answers of ≥ 4 characters);
  either way it must also share ≥ 20 % of the question's bigrams (question words left out);
- **negative**: the other sentences of that article nearest the question (by shared bigrams)
  and one at random; sentences of the top BM25 articles that lack the answer (the first stage's
  near misses);
- **unanswerable**: one-change twins of the question (bench/perturb.py: year, date, ordinal,
  place, person, unit, role; what the change introduces is absent from the article) against
  the sentence that answered the original.

Every pair carries its question's ``fold`` (a hash of the CRUD item, 0–4): the reader trains on
folds 1–4 and is calibrated and measured on fold 0.  Deterministic for a seed.

    python bench/reader_pairs.py build/reader/pairs.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import random
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from perturb import pool_of, twin

from rag.reader import pair_text
from rag.text.normalize import compact
from rag.text.sentences import sentences

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FOLDS = 5
DISTRACTORS = 6000  # random articles beside the questions' own in the BM25 pool


# a positive must share this much of the question (its bigrams, question words left out) besides
# holding the answer: "1%" inside "占比41%", or 第一名 in a sentence about something else, is no answer
MIN_OVERLAP = 0.2
ASKING = re.compile(r"什么|哪些|哪个|哪里|哪儿|哪一|多少|是否|如何|为什么|为何|怎样|怎么|是谁|谁|几|吗|呢|[？?，,。]")


def bounded(answer: str, sentence: str) -> bool:
    """``answer`` in ``sentence``, a number not as part of a longer number."""
    edge = r"(?<![\d.])" if answer[:1].isdigit() else ""
    tail = r"(?![\d.]\d)" if answer[-1:].isdigit() else ""
    return re.search(edge + re.escape(answer) + tail, sentence) is not None


def fold_of(item: str) -> int:
    return int(hashlib.sha1(item.encode()).hexdigest(), 16) % FOLDS


def bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def overlap(q: set[str], s: str) -> float:
    return len(q & bigrams(s)) / (len(q) or 1)


def read_articles(path: Path, wanted: set[str], extra: int, rng: random.Random) -> dict[str, dict]:
    """The wanted articles and ``extra`` random others (reservoir over the file)."""
    out: dict[str, dict] = {}
    others: list[dict] = []
    seen = 0
    with lzma.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            a = json.loads(line)
            if a["id"] in wanted:
                out[a["id"]] = a
                continue
            seen += 1
            if len(others) < extra:
                others.append(a)
            elif (j := rng.randrange(seen)) < extra:
                others[j] = a
    out.update({a["id"]: a for a in others})
    return out


def article_sentences(article: dict) -> list[str]:
    return [s for s in sentences(article["text"], min_chars=6) if len(compact(s)) >= 6]


class Pool:
    """BM25 (bm25s over the archive's jieba tokens) over the articles, for near-miss negatives."""

    def __init__(self, articles: dict[str, dict]) -> None:
        import bm25s

        from rag.text.tokenize import tokenize

        self.ids = sorted(articles)
        self.tokenize = tokenize
        self.model = bm25s.BM25()
        self.model.index([tokenize(articles[i]["text"][:1500]) for i in self.ids], show_progress=False)

    def top(self, question: str, k: int = 6) -> list[str]:
        import numpy as np

        scores = self.model.get_scores(self.tokenize(question))
        return [self.ids[i] for i in np.argsort(-scores)[:k]]


def pairs_for(
    row: dict, articles: dict[str, dict], pool: Pool, names: dict, rng: random.Random, twins: int = 2
) -> list[dict]:
    q, answer = row["question"], compact(row["answer"])
    if not answer:
        return []
    positives: list[tuple[dict, str]] = []
    negatives: list[tuple[dict, str]] = []
    qb = bigrams(compact(q))
    docs = [d for d in row["answer_doc_ids"] if d in articles]
    fuzzy = not docs
    if fuzzy:
        if len(answer) < 4:
            return []
        docs = [d for d in row["source_doc_ids"] if d in articles]
    ab = bigrams(answer)
    asked = bigrams(ASKING.sub("", compact(q)))
    for d in docs[:2]:
        ss = article_sentences(articles[d])
        holding = [s for s in ss if (overlap(ab, compact(s)) >= 0.85 if fuzzy else bounded(answer, compact(s)))]
        near = [s for s in holding if overlap(asked, compact(s)) >= MIN_OVERLAP]
        hold = sorted(near, key=lambda s: -overlap(asked, compact(s)))
        if not hold:
            continue
        positives += [(articles[d], s) for s in hold[:2]]
        if len(negatives) < 4:
            rest = sorted((s for s in ss if s not in holding), key=lambda s: -overlap(qb, compact(s)))
            negatives += [(articles[d], s) for s in rest[:3]]
            if rest[3:]:
                negatives.append((articles[d], rng.choice(rest[3:])))
    if not positives:
        return []
    own = set(row["source_doc_ids"]) | set(row["answer_doc_ids"])
    far = 0
    for d in pool.top(q):
        text = compact(articles[d]["text"])
        if d in own or answer in text or (fuzzy and overlap(ab, text) >= 0.85):
            continue
        ss = sorted(article_sentences(articles[d]), key=lambda s: -overlap(qb, compact(s)))
        negatives += [(articles[d], s) for s in ss[:1]]
        far += 1
        if far == 2:
            break
    out = [_pair(row, q, a, s, 1, "answer") for a, s in positives[:2]]
    out += [_pair(row, q, a, s, 0, "other") for a, s in negatives]
    article = positives[0][0]
    made = {twin(q, article["text"], names, rng) for _ in range(2 * twins - 1)} - {None}
    for change, twin_q in sorted(made)[:twins]:  # different twins, each against every positive
        out += [_pair(row, twin_q, a, s, 0, f"twin:{change}") for a, s in positives[: 2 if twins > 2 else 1]]
    return out


def sibling_pairs(rows: list[dict], made: dict[str, list[dict]], rng: random.Random) -> list[dict]:
    """The sentence that answers another question of the same CRUD item, where it lacks this
    question's answer: same story, another ask — the cited sentence that does not answer."""
    by_item: dict[str, list[dict]] = {}
    for r in rows:
        by_item.setdefault(r["item"], []).append(r)
    out = []
    for r in rows:
        answer = compact(r["answer"])
        if r["id"] not in made or not answer:
            continue
        others = [
            p
            for o in by_item[r["item"]]
            if o["id"] != r["id"] and compact(o["answer"]) != answer
            for p in made.get(o["id"], [])
            if p["label"] == 1 and p["kind"] == "answer" and answer not in p["passage"]
        ]
        for p in rng.sample(others, min(2, len(others))):
            out.append({**p, "id": r["id"], "question": r["question"], "label": 0, "kind": "sibling"})
    return out


def _pair(row: dict, question: str, article: dict, sentence: str, label: int, kind: str) -> dict:
    return {
        "id": row["id"],
        "fold": fold_of(row["item"]),
        "question": question,
        "passage": pair_text(sentence, "", article.get("date", "")),
        "label": label,
        "kind": kind,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--train", type=Path, default=SHARED / "train" / "crud_qa_train.jsonl")
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "crud_rag" / "news.jsonl.xz")
    ap.add_argument("--seed", type=int, default=32)
    ap.add_argument("--limit", type=int, default=0, help="first N questions only (a quick look)")
    ap.add_argument("--twins", type=int, default=4, help="one-change twins per question (3+: against both positives)")
    args = ap.parse_args()
    if not args.train.exists():
        sys.exit(f"error: no training questions at {args.train}")
    rng = random.Random(args.seed)
    rows = [json.loads(line) for line in args.train.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = rows[: args.limit or None]
    wanted = {d for r in rows for d in (*r["source_doc_ids"], *r["answer_doc_ids"])}
    articles = read_articles(args.corpus, wanted, DISTRACTORS, rng)
    pool = Pool(articles)
    names = pool_of(r["question"] for r in rows)
    made = {row["id"]: pairs_for(row, articles, pool, names, rng, args.twins) for row in rows}
    out = [p for ps in made.values() for p in ps] + sibling_pairs(rows, made, rng)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        for p in out:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    kinds = Counter(p["kind"] for p in out)
    print(json.dumps({"pairs": len(out), "questions": len({p["id"] for p in out}), "kinds": kinds}, ensure_ascii=False))


if __name__ == "__main__":
    main()
