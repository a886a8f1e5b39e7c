"""The chat's latency as a user meets it, in a real browser; prints JSON.

    python bench/ui_latency.py [--index index/sample] [--questions eval/questions.jsonl] [-n 10]
                               [--generator extractive]

Starts `rag serve` on a free loopback port and drives /usr/bin/chromium with Playwright:
* start: seconds from starting the process until the page answers (``page_s``) and until the
  models are loaded (``ready_s``: the page's 正在加载模型… notice is gone);
* first answer: the first question, asked once ready, from the click on 提问 to the final answer;
* warm: the first n answerable questions one after another, from the click to the first
  streamed text (not the placeholder) and to the full answer with its sources panel.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import machine
from serving import served

from rag.evaluation.questions import load_questions

FIRST_TEXT = """n => { const m = document.querySelectorAll('#chat .message');
  if (m.length < n + 2) return false; const t = m[m.length - 1].innerText.trim();
  return t.length > 0 && t !== '……'; }"""
DONE = """turn => document.querySelector(`#sources .turn-sources[data-turn="${turn}"][data-final]`) !== null"""
READY = """() => { const s = document.querySelector('#model-status');
  return !s || s.offsetParent === null || !s.innerText.includes('正在加载模型'); }"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default="index/sample")
    ap.add_argument("--questions", default="eval/questions.jsonl")
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--generator", default="extractive")
    args = ap.parse_args()
    questions = [q.question for q in load_questions(args.questions) if q.answerable][: args.n]
    t_start = time.perf_counter()
    with served(args.index, {"RAG_GENERATOR": args.generator}) as url:
        from playwright.sync_api import sync_playwright

        page_s = time.perf_counter() - t_start
        first, full = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(url, wait_until="load")
            page.wait_for_selector("#question textarea")
            page.wait_for_function(READY, timeout=300000, polling=50)
            ready_s = time.perf_counter() - t_start
            for i, q in enumerate([questions[0], *questions]):  # the first one: the first answer once ready
                n = page.locator("#chat .message").count()
                page.fill("#question textarea", q)
                t0 = time.perf_counter()
                page.click("#send")
                page.wait_for_function(FIRST_TEXT, arg=n, timeout=120000, polling=10)
                t1 = time.perf_counter()
                page.wait_for_function(DONE, arg=i, timeout=120000, polling=10)
                t2 = time.perf_counter()
                if i:
                    first.append((t1 - t0) * 1000)
                    full.append((t2 - t0) * 1000)
                else:
                    first_answer_ms = (t2 - t0) * 1000
            browser.close()
    print(
        json.dumps(
            {
                "machine": machine(),
                "index": args.index,
                "generator": args.generator,
                "questions": len(first),
                "start": {"page_s": round(page_s, 1), "ready_s": round(ready_s, 1)},
                "first_answer_once_ready_ms": round(first_answer_ms, 1),
                "first_text_ms": {"median": round(statistics.median(first), 1), "max": round(max(first), 1)},
                "full_answer_ms": {"median": round(statistics.median(full), 1), "max": round(max(full), 1)},
                "note": "browser-side: click → DOM, incl. Gradio queue, SSE and rendering (10 ms polling)",
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
