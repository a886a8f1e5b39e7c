"""Raw OCR page text → articles with headline, byline, dateline and source offsets.

The page is read as lines, page furniture and mastheads are folded into a ``PageHeader``, the rest
is grouped into blocks (runs of non-blank lines) and classified: body text, headline lines, credits.
Body blocks broken mid-sentence by the columns are rejoined into paragraphs.  Article boundaries
come from openings (本报讯, datelines, （上接一版）, ●), closings (credits such as （白靖杰 黄福兴）,
本报记者 X, a photo caption's 徐宏星 摄) and headline lines between dissimilar text; a caption sharing
little wording with the article around it is its own article.  Headlines are then matched to
articles by their shared wording, since these pages print a headline before *or* after its article.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from rag.ingest.bylines import BYLINE, CREDIT, OPEN_CREDIT, TRAILING_CREDIT, as_printed, byline_text
from rag.ingest.cleaning import (
    PHOTO_CREDIT,
    TRAILING_PHOTO_CREDIT,
    PageHeader,
    clean_line,
    photo_end,
    printed_line,
    section_for,
)
from rag.ingest.mastheads import page_furniture, read_furniture, settle_paper
from rag.models import Article

TERMINAL = (*tuple("。！？!?…”」』）)"), "——")
_OPENING = re.compile(
    r"^(?:本报讯|本报[^\s，。]{0,6}电|(?:新华社|中新社)[^\s，。（(]{1,12}电"
    r"|[（(]上接[^）)]{1,6}[）)]|●)"
)
_DATELINE = re.compile(r"^((?:新华社|中新社)[^\s，。（(]{1,12}电)")
_HEADLINE_MAX = 40
_CAPTION_MAX = 160  # a photo caption is a sentence or three; a longer paragraph before a photo credit is an article
_CAPTION_OVERLAP = 0.3  # share of a caption's bigrams an article must hold for the caption to be its photo's
_SIM_BOUNDARY = 0.14  # bigram cosine under which text around headline lines is two articles (tuned on the seeds)


@dataclass
class Line:
    text: str
    start: int
    end: int
    printed: str = ""  # the line with its spaces (cleaning.printed_line), for names a space parts


@dataclass
class Item:
    """A paragraph, a headline group or a credit, with the lines it came from."""

    kind: str  # para | head | credit
    lines: list[Line]
    text: str
    opens: bool = False  # paragraph that opens an article
    closes: bool = False  # paragraph followed by a closing credit
    photo: bool = False  # a photo caption closed by its credit (… 徐宏星 摄)
    byline: str = ""
    dateline: str = ""

    @property
    def start(self) -> int:
        return self.lines[0].start

    @property
    def end(self) -> int:
        return self.lines[-1].end


@dataclass
class Draft:
    items: list[Item] = field(default_factory=list)
    headline: str = ""
    headline_items: list[Item] = field(default_factory=list)
    byline: str = ""
    dateline: str = ""
    host: Draft | None = None  # for a caption printed inside another article: that article


def read_lines(text: str) -> list[Line]:
    out, pos = [], 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        out.append(Line(clean_line(body), pos, pos + len(body), printed_line(body)))
        pos += len(raw)
    return out


def split_furniture(lines: list[Line]) -> tuple[list[Line], PageHeader]:
    """Remove header, masthead and furniture lines (blank lines stay to keep blocks apart)."""
    header, kept = PageHeader(), []
    for line, kind in zip(lines, page_furniture([x.text for x in lines])):
        if kind:
            read_furniture(header, kind, line.text)
            kept.append(Line("", line.start, line.end))
        else:
            kept.append(line)
    settle_paper(header)
    return kept, header


def blocks_of(lines: list[Line]) -> list[list[Line]]:
    """Runs of non-blank lines; an opening line or one-character lines start a block, a photo credit ends one."""
    blocks: list[list[Line]] = []
    cur: list[Line] = []
    for line in lines:
        if not line.text:
            if cur:
                blocks.append(cur)
            cur = []
            continue
        vertical = len(line.text) <= 2
        prev_vertical = bool(cur) and len(cur[-1].text) <= 2
        if cur and (
            photo_end(cur[-1].text)
            or _OPENING.match(line.text)
            or BYLINE.match(line.text)
            or (vertical != prev_vertical and _is_vertical_run([*cur, line]))
        ):
            blocks.append(cur)
            cur = []
        cur.append(line)
    if cur:
        blocks.append(cur)
    return blocks


def _is_vertical_run(lines: list[Line]) -> bool:
    return sum(len(x.text) <= 2 for x in lines) >= 3


def _printed_len(text: str) -> float:
    """Length in column units: ASCII digits and letters print half as wide as Chinese."""
    return sum(0.5 if ord(c) < 128 else 1.0 for c in text)


def _is_headline_block(block: list[Line], width: float) -> bool:
    texts = [x.text for x in block]
    joined = "".join(texts)
    if len(texts) >= 2 and len(texts[0]) >= 0.85 * width and len(texts[0]) > 2:
        return False  # a full column line: body text cut by the layout
    if joined.count("，") + joined.count(",") > 1:
        return False
    if any(re.search(r"[，,].", t) and _printed_len(t) <= width + 1 for t in texts):
        return False  # a comma inside a column-wide line: a sentence, not a title
    if _OPENING.match(joined) or CREDIT.match(joined):
        return False
    if any(len(t) <= 2 for t in texts) and len(texts) >= 3:  # vertical headline
        return all(len(t) <= 2 for t in texts) and "。" not in joined
    if len(texts) > 3 or len(joined) > _HEADLINE_MAX * (1 + (len(texts) > 1)):
        return False
    if "。" in joined or re.search(r"[！？!?；;]", joined[:-1]):
        return False
    return not joined.endswith(("，", "、", "；", ",", ";"))


def _complete(text: str) -> bool:
    return text.endswith(TERMINAL) or bool(CREDIT.match(text))


def column_widths(blocks: list[list[Line]], window: int = 6) -> list[float]:
    """The typical body line length around each block: the median of nearby full lines."""
    lengths = [[len(x.text) for x in b[:-1] if len(x.text) > 2] if len(b) >= 3 else [] for b in blocks]
    out = []
    for i in range(len(blocks)):
        near = sorted(n for b in lengths[max(0, i - window) : i + window + 1] for n in b)
        out.append(float(near[len(near) // 2]) if near else 20.0)
    return out


def items_of(blocks: list[list[Line]]) -> list[Item]:
    """Classify blocks and rejoin paragraphs broken by columns or blank lines."""
    items: list[Item] = []
    widths = column_widths(blocks)
    for block, width in zip(blocks, widths):
        joined = "".join(x.text for x in block)
        prev = items[-1] if items else None
        if prev is not None and prev.photo and len(items) >= 2:
            prev = items[-2]  # a sentence broken by a photo caption goes on after it
        continues = prev is not None and prev.kind == "para" and not prev.closes and not _complete(prev.text)
        dateline = _DATELINE.match(joined)
        if PHOTO_CREDIT.match(joined) and items and items[-1].kind == "para" and not items[-1].closes:
            items[-1].closes, items[-1].photo = True, len(items[-1].text) <= _CAPTION_MAX  # 赵春营 摄 under it
            items.append(Item("credit", block, joined))
        elif CREDIT.match(joined) or (dateline and dateline.group(1) == joined):
            items.append(Item("credit", block, joined))
        elif BYLINE.match(joined):
            items.append(Item("credit", block, joined, byline=byline_text(as_printed(joined, block))))
        elif not continues and _is_headline_block(block, width):
            sep = "" if len(block) >= 3 and all(len(x.text) <= 2 for x in block) else " "
            items.append(Item("head", block, sep.join(x.text for x in block)))
        elif continues and prev is not None and not _OPENING.match(joined):
            prev.lines += block
            prev.text += joined
        else:
            items.append(Item("para", block, joined, opens=bool(_OPENING.match(joined))))
        for item in items[-2:]:  # the last item, or a paragraph continued after a caption
            _take_trailing_credit(item)
    return items


def _take_trailing_credit(item: Item) -> None:
    if item.kind != "para" or item.closes:
        return
    m = TRAILING_PHOTO_CREDIT.search(item.text) or TRAILING_CREDIT.search(item.text)
    if m:
        item.byline = byline_text(as_printed(m.group(1), item.lines).strip("（）()"))
        item.photo = bool(PHOTO_CREDIT.match(m.group(1))) and m.start() <= _CAPTION_MAX
        item.text = item.text[: m.start()].rstrip()
        item.closes = True


def _bigrams(text: str) -> Counter:
    t = re.sub(r"[^\w]", "", text)
    return Counter(t[i : i + 2] for i in range(len(t) - 1))


def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b[k] for k, v in a.items() if k in b)
    return dot / ((sum(v * v for v in a.values()) * sum(v * v for v in b.values())) ** 0.5)


def drafts_of(items: list[Item]) -> tuple[list[Draft], list[tuple[int, list[Item]]]]:
    """Group items into article drafts; return the drafts and the headline runs between them.

    A headline run is recorded with the index of the draft that follows it.
    """
    drafts: list[Draft] = []
    runs: list[tuple[int, list[Item]]] = []
    pending: list[Item] = []  # headline/credit items since the last paragraph
    for i, item in enumerate(items):
        if item.kind != "para":
            if item.kind == "credit" and not pending and drafts and not item.byline:
                _close(drafts[-1], item)  # a closing credit or dateline of the article above
            else:
                pending.append(item)
            continue
        cur = drafts[-1] if drafts else None
        host = cur.host if cur is not None and not pending and not item.opens and not item.photo else None
        if host is not None and not _closed(host) and not _new_topic(host, items, i):
            cur = host  # the article a foreign caption was printed inside goes on
        boundary_heads = [p for p in pending if not p.text.endswith("——")]
        if item.photo and cur and not pending and not _closed(cur) and _share(item.text, cur) < _CAPTION_OVERLAP:
            target = Draft([item], host=cur)  # the caption of another article's photo: an article of its own
            drafts.append(target)
        elif cur is None or item.opens or _closed(cur) or (boundary_heads and _new_topic(cur, items, i)):
            if pending:
                runs.append((len(drafts), pending))
            target = Draft([item])
            drafts.append(target)
        else:
            if pending:  # sub-heads inside one article stay in its text
                cur.items += [p for p in pending if p.kind == "head"]
            target = cur
            cur.items.append(item)
        if item.byline:
            target.byline = target.byline or item.byline
        pending = []
    if pending:
        runs.append((len(drafts), pending))
    return drafts, runs


def _close(draft: Draft, credit: Item) -> None:
    m = _DATELINE.match(credit.text)
    if m:
        draft.dateline = m.group(1)
    else:
        draft.byline = draft.byline or byline_text(as_printed(credit.text, credit.lines).strip("（）()□"))
    draft.items.append(credit)


def _closed(draft: Draft) -> bool:
    last = draft.items[-1]
    return last.kind == "credit" or last.closes


def _share(text: str, draft: Draft) -> float:
    """The share of the text's bigrams that the draft's paragraphs hold."""
    grams, body = _bigrams(text), _bigrams("".join(x.text for x in draft.items if x.kind == "para"))
    return sum(1 for g in grams if g in body) / len(grams) if grams else 0.0


def _new_topic(cur: Draft, items: list[Item], i: int) -> bool:
    before = "".join(x.text for x in cur.items if x.kind == "para")
    after: list[str] = []
    for item in items[i:]:
        if item.kind != "para" or (after and item.opens):
            break
        after.append(item.text)
    return _cosine(_bigrams(before), _bigrams("".join(after))) < _SIM_BOUNDARY


def headline_groups(run: list[Item]) -> list[list[Item]]:
    """Split a run of headline lines into groups; a short kicker joins the title after it."""
    groups: list[list[Item]] = []
    for item in run:
        if item.kind == "credit":
            if groups:
                groups[-1].append(item)
            continue
        if groups and _is_kicker(groups[-1]) and (not _is_vertical(groups[-1][-1]) or _is_vertical(item)):
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _is_vertical(item: Item) -> bool:
    return len(item.lines) >= 3 and all(len(x.text) <= 2 for x in item.lines)


def _is_kicker(group: list[Item]) -> bool:
    heads = [g for g in group if g.kind == "head"]
    if heads and _is_vertical(heads[-1]):
        return True  # a vertical title broken into columns continues
    return len(heads) == 1 and (len(heads[0].text) <= 10 or heads[0].text.endswith(("：", ":")))


def assign_headlines(drafts: list[Draft], runs: list[tuple[int, list[Item]]]) -> None:
    """Match headline groups to articles by shared wording, preferring neighbours."""
    candidates = []
    for after_idx, run in runs:
        for group in headline_groups(run):
            title = " ".join(g.text for g in group if g.kind == "head")
            grams = _bigrams(title)
            if not grams:
                continue
            for j, draft in enumerate(drafts):
                overlap = _share(title, draft)
                if j in (after_idx - 1, after_idx):
                    distance = 0
                else:
                    distance = min(abs(j - after_idx), abs(j - after_idx + 1))
                score = overlap + (0.15 if distance == 0 else -0.05 * distance)
                if any(g.byline for g in group):
                    score += 0.5  # a title printed with its reporter's byline
                candidates.append((score, id(group), j, title, group))
    used_groups, used_drafts = set(), set()
    for score, gid, j, title, group in sorted(candidates, key=lambda c: -c[0]):
        if score < 0.3 or gid in used_groups or j in used_drafts:
            continue
        used_groups.add(gid)
        used_drafts.add(j)
        drafts[j].headline = title
        for g in group:
            if g.kind == "credit" and g.byline:
                drafts[j].byline = drafts[j].byline or g.byline
        drafts[j].headline_items = group


def segment_page(text: str, source: str, meta: dict | None = None) -> list[Article]:
    """Segment one raw OCR page file into articles."""
    lines, header = split_furniture(read_lines(text))
    meta = meta or {}
    items = items_of(blocks_of(lines))
    drafts, runs = drafts_of(items)
    assign_headlines(drafts, runs)
    articles = []
    for n, draft in enumerate(drafts, 1):
        paras = [x for x in sorted(draft.items, key=lambda x: x.start) if x.kind in ("para", "head")]
        body = "\n".join(x.text for x in paras)
        if not body.strip():
            continue
        first = next(x for x in paras if x.kind == "para")
        dateline = draft.dateline
        m = _DATELINE.match(first.text)
        if m:
            dateline = dateline or m.group(1)
        m = OPEN_CREDIT.match(first.text)
        byline = byline_text(m.group(1) or m.group(2)) if m else draft.byline
        spans = [x for x in draft.items if x.kind == "para"]
        articles.append(
            Article(
                doc_id=f"{source}#{n}",
                source=source,
                text=body,
                headline=draft.headline,
                paper=meta.get("paper") or header.paper,
                date=meta.get("date") or header.date,
                page=meta.get("page") or header.page,
                section=meta.get("section") or section_for(draft.headline + body, header.sections),
                byline=re.sub(r"\s+", " ", byline).strip(),
                dateline=dateline,
                start=min(x.start for x in spans),
                end=max(x.end for x in spans),
            )
        )
    return articles
