"""Choose the first stage's settings on held-out folds; print JSON with every fold's numbers.

    python bench/tune_fusion.py [--folds 5] [--grid small|full]

The first stage is swept as a whole: BM25 k1/b, which words leave the BM25 query (none, the
question words, also the archive's most common words), a character-bigram BM25 channel beside
the jieba-word one (its RRF weight), the BM25 weight against dense, the RRF k, and RM3-style
pseudo-relevance feedback (expansion words from the top articles), and BM25 over whole
articles as a further channel.  Each question's dense
list (400 deep) is computed once; each BM25 variant is built once per index from the stored
chunk tokens (jieba) or texts (bigrams).

Selection is nested: for every fold the setting with the best pooled MRR@10 + hit@5 on the
*other* folds is chosen and scored on this fold, so the "selected" row is a held-out estimate
of the selection procedure itself; the default row is today's setting on the same folds.
Ranks are of articles (each article's best passage counts), with the evaluation harness's
relevance rules (evidence in the passage, or a gold article); later steps of the retrieve
step (reranking, merging neighbours, near-duplicates) are left out, so `rag eval` gives the
final numbers.  Question sets: crud_dev over index/crud6k, dev and the adversarial tuning
half over index/seeds, the adversarial crud tuning half over index/crud6k, the sample set;
the adversarial report halves are never read here.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import RANKING_SETS, machine

from rag.assistant import Assistant
from rag.evaluation.metrics import evidence_in
from rag.evaluation.questions import load_questions
from rag.evaluation.relevance import _basename
from rag.retrieval.hybrid import rrf_fuse
from rag.settings import Settings
from rag.text.normalize import compact, normalize_query
from rag.text.terms import QUESTION_WORDS

STOP_MODES = ("none", "question", "common")
COMMON_SHARE = 0.1  # a word in more than this share of the passages is the archive's stop word
_QUESTION_RE = re.compile("|".join(sorted(map(re.escape, QUESTION_WORDS), key=len, reverse=True)))
_WORD_RUN = re.compile(r"\w+")


def query_words(tokens: Sequence[str], stop: str, df: Mapping[str, int] | None = None, n: int = 0) -> list[str]:
    """Distinct query tokens, in order, without the ``stop`` words: ``none``; ``question``
    (多少, 什么, 哪些, 是否, 请问, 如何 … and particles); ``common`` (also words in more than
    ``COMMON_SHARE`` of the ``n`` passages, by document frequency ``df``)."""
    words = list(dict.fromkeys(tokens))
    if stop == "none":
        return words
    words = [w for w in words if w not in QUESTION_WORDS]
    if stop == "common" and df and n:
        words = [w for w in words if df.get(w, 0) <= COMMON_SHARE * n]
    return words


def bigrams(text: str, question: bool = False) -> list[str]:
    """Overlapping character bigrams of each run of letters and digits (a one-character run is
    kept as itself); a question's question words are cut out first, and its bigrams are
    distinct."""
    text = compact(text)
    if question:
        text = _QUESTION_RE.sub(" ", text)
    out = []
    for run in _WORD_RUN.findall(text):
        out += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return list(dict.fromkeys(out)) if question else out


SETS = [(name, path, index) for name, path, index, role in RANKING_SETS if role != "report"]
DEPTH = 400
DEFAULT = {
    "k1": 1.5,
    "b": 0.75,
    "stop": "none",
    "bigram": 0.0,
    "bm25_weight": 1.0,
    "rrf_k": 60,
    "prf": 0,
    "article": 0.0,
}


@dataclass
class Corpus:
    ids: np.ndarray  # chunk ids in BM25 order
    article: np.ndarray  # article id per chunk
    tokens: list[list[str]]
    grams: list[list[str]]
    relevant: dict  # question id -> set of chunk positions
    engines: dict
    df: Counter
    first_chunk: set  # the position of each article's first chunk (an article found only as a whole)


def open_corpus(index: Path, questions) -> tuple[Corpus, Assistant]:
    bot = Assistant(Settings.load(index=index))
    con = sqlite3.connect(index / "rag.sqlite")
    rows = con.execute(
        "SELECT c.id, c.tokens, c.text, a.headline, a.id, a.doc_id, s.path FROM chunks c "
        "JOIN articles a ON a.id = c.article_id JOIN sources s ON s.id = a.source_id ORDER BY c.id"
    ).fetchall()
    tokens = [r[1].split() for r in rows]
    relevant = {}
    for q in questions:
        if q.gold_doc_ids:
            gold = set(q.gold_doc_ids)
            relevant[q.id] = {i for i, r in enumerate(rows) if r[5] in gold}
        else:
            names = [_basename(s) for s in q.sources]
            relevant[q.id] = {
                i
                for i, r in enumerate(rows)
                if (not names or _basename(r[6]) in names) and any(evidence_in(r[2], ev) for ev in q.evidence)
            }
    df = Counter(t for toks in tokens for t in set(toks))
    corpus = Corpus(
        np.array([r[0] for r in rows]),
        np.array([r[4] for r in rows]),
        tokens,
        [bigrams(f"{r[3]}\n{r[2]}") for r in rows],
        relevant,
        {},
        df,
        {i for i, r in enumerate(rows) if i == 0 or rows[i - 1][4] != r[4]},
    )
    return corpus, bot


def article_docs(corpus: Corpus) -> tuple[np.ndarray, list[list[str]]]:
    """Article ids and each article's tokens (its chunks' tokens, in order)."""
    order = list(dict.fromkeys(corpus.article.tolist()))
    bags: dict[int, list[str]] = {a: [] for a in order}
    for a, toks in zip(corpus.article.tolist(), corpus.tokens, strict=True):
        bags[a].extend(toks)
    return np.array(order), [bags[a] for a in order]


def engine(corpus: Corpus, kind: str, k1: float, b: float):
    import bm25s

    key = (kind, k1, b)
    if key not in corpus.engines:
        if kind == "articles":
            corpus.engines["article_ids"], docs = article_docs(corpus)
        else:
            docs = corpus.tokens if kind == "words" else corpus.grams
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(t, len(vocab)) for t in d] for d in docs]
        model = bm25s.BM25(k1=k1, b=b)
        model.index((ids, vocab), show_progress=False)
        corpus.engines[key] = model
    return corpus.engines[key]


def top(scores: np.ndarray, depth: int = DEPTH) -> list[int]:
    pos = np.flatnonzero(scores > 0)
    if len(pos) > depth:
        pos = pos[np.argpartition(-scores[pos], depth - 1)[:depth]]
    return list(pos[np.lexsort((pos, -scores[pos]))])


def scores_of(model, words: list[str], weights: list[float] | None = None) -> np.ndarray:
    known = [(w, x) for w, x in zip(words, weights or [1.0] * len(words), strict=True) if w in model.vocab_dict]
    if not known:
        return np.zeros(model.scores["num_docs"])
    if weights is None or all(x == 1.0 for _, x in known):
        return model.get_scores([w for w, _ in known])
    return sum(x * model.get_scores([w]) for w, x in known)


def expansion(corpus: Corpus, ranked: list[int], words: list[str], n_docs: int, n_words: int = 10) -> list[str]:
    """RM3-style: the words most typical of the top ``n_docs`` articles (tf × idf), not already asked."""
    seen, counts = set(), Counter()
    for pos in ranked:
        if corpus.article[pos] in seen:
            continue
        seen.add(corpus.article[pos])
        counts.update(t for t in corpus.tokens[pos] if len(t) >= 2)
        if len(seen) >= n_docs:
            break
    n = len(corpus.tokens)
    score = {t: c * math.log(n / (1 + corpus.df[t])) for t, c in counts.items() if t not in words}
    return [t for t, _ in sorted(score.items(), key=lambda p: -p[1])[:n_words]]


def article_rank(corpus: Corpus, qid: str, ranked: list[int]) -> int | None:
    seen = []
    for pos in ranked:
        a = corpus.article[pos]
        if a in seen:
            continue
        seen.append(a)
        if pos in corpus.relevant[qid]:
            return len(seen)
        if len(seen) >= 10:
            return None
    return None


def run_setting(corpus: Corpus, bot: Assistant, q, dense: list[int], tokenizer, s: dict) -> int | None:
    query = normalize_query(q.question)
    words = query_words(tokenizer(query), s["stop"], corpus.df, len(corpus.tokens))
    model = engine(corpus, "words", s["k1"], s["b"])
    lexical = top(scores_of(model, words))
    if s["prf"]:
        first = [corpus_pos for corpus_pos, _ in rrf_fuse({"d": dense, "l": lexical}, s["rrf_k"])[:50]]
        extra = expansion(corpus, first, words, s["prf"])
        lexical = top(scores_of(model, words + extra, [1.0] * len(words) + [0.3] * len(extra)))
    lists = {"dense": dense, "bm25": lexical}
    weights = {"dense": 1.0, "bm25": s["bm25_weight"]}
    if s["bigram"]:
        lists["bigram"] = top(scores_of(engine(corpus, "grams", s["k1"], s["b"]), bigrams(query, question=True)))
        weights["bigram"] = s["bigram"]
    fused = rrf_fuse(lists, s["rrf_k"], weights)
    if s.get("article"):  # BM25 over whole articles: every chunk of the n-th article gets w / (k + n)
        model = engine(corpus, "articles", s["k1"], s["b"])
        ids = corpus.engines["article_ids"]
        bonus = {int(ids[i]): s["article"] / (s["rrf_k"] + r) for r, i in enumerate(top(scores_of(model, words)), 1)}
        pool = {pos for pos, _ in fused} | {
            p for p in range(len(corpus.article)) if int(corpus.article[p]) in bonus and p in corpus.first_chunk
        }
        score = dict(fused)
        fused = sorted(
            ((p, score.get(p, 0.0) + bonus.get(int(corpus.article[p]), 0.0)) for p in pool), key=lambda x: -x[1]
        )
    return article_rank(corpus, q.id, [pos for pos, _ in fused])


def grid(name: str) -> list[dict]:
    if name == "article":
        base = {**DEFAULT}
        return [{**base, "k1": k1, "article": w} for k1 in (1.2, 1.5) for w in (0.0, 0.5, 1.0, 1.5, 2.0)]
    axes = {
        "k1": (1.2, 1.5) if name == "small" else (0.9, 1.2, 1.5, 2.0),
        "b": (0.75,) if name == "small" else (0.5, 0.75, 0.9),
        "stop": ("none", "question", "common"),
        "bigram": (0.0, 0.5, 1.0),
        "bm25_weight": (1.0,) if name == "small" else (0.75, 1.0, 1.5),
        "rrf_k": (60,) if name == "small" else (20, 60),
        "prf": (0, 3),
        "article": (0.0, 1.0),
    }
    return [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())]


def measure(ranks: list) -> dict:
    n = len(ranks) or 1
    return {
        "n": len(ranks),
        "hit@1": round(sum(1 for r in ranks if r == 1) / n, 3),
        "hit@5": round(sum(1 for r in ranks if r and r <= 5) / n, 3),
        "mrr": round(sum(1 / r for r in ranks if r) / n, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--grid", choices=("small", "full", "article"), default="small")
    args = ap.parse_args()
    started = time.perf_counter()
    settings = grid(args.grid)
    if DEFAULT not in settings:
        settings.append(DEFAULT)
    ranks: dict[tuple, list] = {}  # (set, question id) -> rank per setting
    for name, path, index in SETS:
        questions = [q for q in load_questions(path) if q.answerable]
        corpus, bot = open_corpus(index, questions)
        dense_retriever = bot.retriever("dense")
        positions = {int(c): i for i, c in enumerate(corpus.ids)}
        for q in questions:
            found = dense_retriever.candidates(normalize_query(q.question), DEPTH)
            dense = [positions[c] for c, _ in found if c in positions]
            ranks[(name, q.id)] = [run_setting(corpus, bot, q, dense, bot.index.tokenizer, s) for s in settings]
        bot.close()
        print(f"{name}: {len(questions)} questions, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    keys = list(ranks)
    rng = np.random.default_rng(17)
    fold = {k: i % args.folds for i, k in enumerate(rng.permutation(len(keys)))}
    fold = {keys[j]: f for j, f in fold.items()}

    def objective(rows: list[tuple], s: int) -> float:
        m = measure([ranks[k][s] for k in rows])
        return m["mrr"] + m["hit@5"]

    default = settings.index(DEFAULT)
    folds = []
    chosen_ranks, default_ranks = {}, {}
    for f in range(args.folds):
        train = [k for k in keys if fold[k] != f]
        held = [k for k in keys if fold[k] == f]
        best = max(range(len(settings)), key=lambda s: objective(train, s))
        for k in held:
            chosen_ranks[k], default_ranks[k] = ranks[k][best], ranks[k][default]
        folds.append(
            {
                "fold": f,
                "chosen": settings[best],
                "held_out": measure([ranks[k][best] for k in held]),
                "default_held_out": measure([ranks[k][default] for k in held]),
            }
        )
    per_set = {
        name: {
            "selected": measure([chosen_ranks[k] for k in keys if k[0] == name]),
            "default": measure([default_ranks[k] for k in keys if k[0] == name]),
        }
        for name, _, _ in SETS
    }
    overall = max(range(len(settings)), key=lambda s: objective(keys, s))
    print(
        json.dumps(
            {
                "machine": machine(),
                "settings_tried": len(settings),
                "seconds": round(time.perf_counter() - started, 1),
                "per_set_held_out": per_set,
                "folds": folds,
                "best_on_everything": settings[overall],
                "all": [{**s, **measure([ranks[k][i] for k in keys])} for i, s in enumerate(settings)],
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
