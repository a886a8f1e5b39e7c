"""Questions answered while an upload is being added (the UI's handlers, in one process); JSON.

    python bench/ask_during_upload.py [--index index/sample] [--records 40]
        [--question 鹭江引水工程柳溪段的输水管线有多长？ --expect 46.5公里]

Copies the index, warms up, times 10 questions alone, then uploads a JSONL of generated
records through ``ChatApp.upload`` in one thread while another asks the question in a loop;
reports how many questions were answered during the upload and their latency.  Uploads write
through their own writer (rag/store/lock.py), so questions should not wait for them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import machine, percentiles_ms


def records(count: int) -> str:
    rows = [
        json.dumps(
            {
                "id": f"bench-{i}",
                "title": f"第{i}号工作简报",
                "date": "2024-07-01",
                "text": f"青禾县第{i}号工作简报：县里第{i}批次民生项目于本月完工，涉及道路"
                f"{i % 17 + 3}公里、路灯{i % 29 + 10}盏，由县住建局牵头。",
            },
            ensure_ascii=False,
        )
        for i in range(count)
    ]
    return "\n".join(rows) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default="index/sample")
    ap.add_argument("--records", type=int, default=40)
    ap.add_argument("--question", default="鹭江引水工程柳溪段的输水管线有多长？")
    ap.add_argument("--expect", default="46.5公里")
    args = ap.parse_args()

    from app.ui import ChatApp
    from rag.assistant import Assistant
    from rag.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="ask-upload-"))
    index = work / "idx"
    shutil.copytree(args.index, index)
    ui = ChatApp(Assistant(Settings.load(index=index)))
    ui.ask_api(args.question)  # load the model and open the index outside the clock
    alone = []
    for _ in range(10):
        t0 = time.perf_counter()
        ui.ask_api(args.question)
        alone.append(time.perf_counter() - t0)
    upload = work / "upload" / "briefs.jsonl"
    upload.parent.mkdir()
    upload.write_text(records(args.records), encoding="utf-8")
    result: list = []
    adding = threading.Thread(target=lambda: result.append(ui.upload([str(upload)])))
    started = time.perf_counter()
    adding.start()
    during: list[tuple[float, bool]] = []
    while adding.is_alive():
        t0 = time.perf_counter()
        ok = args.expect in ui.ask_api(args.question)["answer"]
        during.append((time.perf_counter() - t0, ok))
    adding.join()
    upload_s = time.perf_counter() - started
    seconds = [s for s, _ in during]
    print(
        json.dumps(
            {
                "index": args.index,
                "records": args.records,
                "upload_seconds": round(upload_s, 2),
                "upload_result": result[0][0][0] if result else None,
                "alone": percentiles_ms(alone),
                "during_upload": {
                    "answered": len(during),
                    "all_correct": all(ok for _, ok in during),
                    **(percentiles_ms(seconds) if seconds else {}),
                },
                "machine": machine(),
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
