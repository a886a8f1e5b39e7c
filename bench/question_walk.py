"""The walk of a question through the code (JSON on stdout): every call that is handed the
question — as a string (as asked, checked, normalised or compacted) or as a read ``Question`` — in the
order made, for `rag ask`'s path (``Assistant.ask``) and the chat's (``ChatApp.chat``).

    python bench/question_walk.py --index index/sample [--question 鹭江引水工程柳溪段的输水管线有多长？]

Run it with another checkout first on ``PYTHONPATH`` to walk that code (before → after).

* ``stops``: calls handed the question (not its sub-questions); ``functions``: distinct
  functions among them;
* ``readers``: calls of the question readers (read_intent, places_in, specific_words,
  content_terms, asks_for, focus_of, predicate_of, asked_unit, asked_role, yesno_claim);
* ``returns``: stops in a module left earlier for another one (back-and-forth);
* ``climbs``: stops in rag.generation or rag.retrieval right after one in rag.text (the
  question going back up a layer to be read again).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
READERS = {
    "read_intent",
    "places_in",
    "specific_words",
    "content_terms",
    "asks_for",
    "focus_of",
    "predicate_of",
    "asked_unit",
    "asked_role",
    "yesno_claim",
}


def walk(run, forms: set[str]) -> dict:
    """Trace ``run()``; a call is a stop when an argument is one of ``forms`` or a Question of one
    (sub-questions — a 分别 question's parts — are other questions, in both codes)."""
    stops: list[tuple[str, str]] = []

    def handed(frame) -> bool:
        code = frame.f_code
        for name in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]:
            if name == "self":
                continue  # the value's own properties and an object's methods' receiver
            value = frame.f_locals.get(name)
            if isinstance(value, str) and value in forms:
                return True
            if type(value).__name__ == "Question" and value.text in forms:  # not its sub-questions
                return True
        return False

    def profile(frame, event, arg):
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if (module.startswith("rag") or module.startswith("app")) and handed(frame):
            stops.append((module, frame.f_code.co_name))

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    returns = climbs = 0
    seen: set[str] = set()
    previous = ""
    for module, _ in stops:
        if module != previous:
            if module in seen:
                returns += 1
            if previous.startswith("rag.text") and module.startswith(("rag.generation", "rag.retrieval")):
                climbs += 1
            seen.add(module)
            previous = module
    return {
        "stops": len(stops),
        "functions": len(set(stops)),
        "readers": sum(name in READERS for _, name in stops),
        "returns": returns,
        "climbs": climbs,
        "modules": sorted(seen),
        "function_names": sorted({f"{m}.{f}" for m, f in stops}),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--question", default="鹭江引水工程柳溪段的输水管线有多长？")
    args = p.parse_args(argv)

    from app.chat_app import ChatApp
    from rag.assistant import Assistant
    from rag.settings import Settings
    from rag.text.normalize import compact, normalize_query

    bot = Assistant(Settings.load(index=args.index))
    bot.ask(args.question)  # warm: models loaded, caches filled as a served question finds them
    forms = {args.question, args.question.strip(), normalize_query(args.question), compact(args.question)}
    ui = ChatApp(bot)

    def chat() -> None:
        for _ in ui.chat(args.question, [], None, "extractive", 5, "混合（推荐）", "", "", "全部", "全部"):
            pass

    out = {
        "code": str(Path(sys.modules["rag"].__file__).parents[1]),
        "question": args.question,
        "rag ask": walk(lambda: bot.ask(args.question), forms),
        "chat": walk(chat, forms),
    }
    bot.close()
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
