"""Read one e-paper article HTML page (Chinese digital editions serve one article a page) into its parts."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

from rag.ingest.cleaning import CJK
from rag.ingest.dates import real_day
from rag.ingest.loaders import LoadError, os_reason_zh

HTML_MAX_BYTES = 5_000_000
_PAPER = re.compile(rf"[{CJK}]{{2,10}}?(?:日报|晚报|早报|晨报|时报|商报|报)")
_SITE = re.compile(rf"{_PAPER.pattern}|(?:网|数字报|电子报|电子版|客户端|新闻)$")
_SEP = re.compile(r"\s*(?:[|｜_]|\s[-–—－]+\s|[-–—－]{1,2}(?=\S*(?:报|网|版)$))\s*")
_DATE = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
_PATH_DATE = re.compile(r"(?<!\d)(\d{4})[-_/]?(\d{2})[-_/]?(\d{2})(?!\d)")
_PAGE = re.compile(r"(?<![0-9A-Za-z])第?\s*([A-Za-z]{0,2})\s*(\d{1,3})\s*版(?!权|本|式|面设计)")
_BYLINE = re.compile(r"^(?:本报记者|本报通讯员|本报特约|实习记者|特约记者|记者|通讯员|文/|文／|文图/|撰文)\s*\S")
_JUNK = re.compile(
    r"^[【\[（(]?\s*(?:责任编辑|(?:责编|编辑|校对|审核|审校|美编|组版|来源|作者)\s*[:：]|上一篇|下一篇|上一版|下一版|"
    r"上一期|下一期|返回|打印|关闭|分享|收藏|纠错|点击|扫一扫|扫码)|版权所有|Copyright|©|ICP备",
    re.I,
)
_LISTS = "script, style, noscript, template, nav, footer, aside, [class*=footer], [id*=footer]"  # never the article
# lists of the edition's pages and menus: a page number there is every page's, not this article's
_NAVIGATION = "[class*=nav], [id*=nav], [class*=menu], [id*=menu], [class*=pagelist], [id*=pagelist], select"
_AUTHOR = "[class*=author], [class*=byline], [id*=author], [id*=byline], [itemprop=author]"
_NOISE = "header, iframe, button, select, svg, [class*=share], [id*=share]"
_BODIES = ("founder-content", "#ozoom", ".TRS_Editor", ".article-content", "article", "#content", ".content")
_BLOCKS = {"p", "div", "br", "li", "tr", "td", "section", "blockquote", "center", "dd", "dt", "pre", "table"}
_BLOCKS |= {"ul", "ol", "article", "founder-content"} | {f"h{i}" for i in range(1, 7)}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


@dataclass
class HtmlArticle:
    headline: str
    text: str  # paragraphs joined by "\n"
    paper: str = ""
    date: str = ""  # ISO yyyy-mm-dd or ""
    page: str = ""  # as the page says it: "A04", "03版"
    byline: str = ""
    subtitle: str = ""


def read_html(path: Path, max_bytes: int = HTML_MAX_BYTES) -> HtmlArticle:
    """Read and parse one article page; a date in the last folders or the file name is the last resort."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LoadError(
                f"too large for an HTML page ({size / 1e6:.3g} MB, the limit is {max_bytes / 1e6:.3g} MB)",
                zh=f"文件太大，不像一个网页（{size / 1e6:.3g} MB，网页的上限是 {max_bytes / 1e6:.3g} MB）",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}", zh=f"无法读取：{os_reason_zh(exc)}") from None
    return parse_html(data, "/".join(path.parts[-3:]))


def decode_html(data: bytes) -> str:
    """A BOM, else the declared ``<meta>`` charset (GB2312/GBK read as GB18030), else UTF-8, else GB18030."""
    if not data.strip():
        raise LoadError("empty file", zh="文件是空的")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, "replace")
    if b"\x00" in data[:4096]:
        raise LoadError("binary file (NUL bytes), not an HTML page", zh="不是网页（含二进制内容）")
    m = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", data[:8192], re.I)
    declared = ""
    if m:
        declared = m.group(1).decode("ascii").lower()
        declared = (
            "gb18030" if declared.replace("_", "").replace("-", "") in ("gb2312", "gbk", "xgbk", "cp936") else declared
        )
        try:
            declared = codecs.lookup(declared).name
        except LookupError:
            declared = ""
    order = [declared] if declared else []
    for codec in [*order, "utf-8", "gb18030"]:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode(declared or "utf-8", "replace")  # a declared page with a few stray bytes


def parse_html(data: bytes | str, name: str = "") -> HtmlArticle:
    """Split a page into headline, body text and what it says of paper, date, page, byline and subtitle."""
    text = decode_html(data) if isinstance(data, bytes) else data
    tree = LexborHTMLParser(text)
    meta: dict[str, str] = {}
    for node in tree.css("meta"):
        key = node.attributes.get("property") or node.attributes.get("name") or node.attributes.get("itemprop")
        if key and (node.attributes.get("content") or "").strip():
            meta.setdefault(key.strip().lower(), _clean(node.attributes["content"] or ""))
    enp = dict(re.findall(r"<(\w+)>([^<]*)</\1>", "".join(re.findall(r"<!--enpproperty(.*?)-->", text, re.S))))

    def first(*values: str | None) -> str:
        return next((_clean(v) for v in values if v and _clean(v)), "")

    def tag(*names: str) -> str:
        return first(*[(n.text() if (n := tree.css_first(t)) else "") for t in names])

    title = tree.css_first("title")
    title_parts = [p for p in _SEP.split(_clean(title.text() if title is not None else "")) if p]
    site = next((_site(p) for p in title_parts if _SITE.search(p)), "")
    masthead = " ".join(
        n.text(separator=" ") + " " + " ".join(i.attributes.get("alt") or "" for i in n.css("img[alt]"))
        for n in tree.css("header, #header, .header, .masthead, .logo, #logo")
    )
    paper = first(meta.get("og:site_name"), meta.get("application-name"), meta.get("publisher"), meta.get("source"))
    paper = paper or first(meta.get("contentsource"), site, m.group(0) if (m := _PAPER.search(masthead)) else "")

    def headline_of(value: str, strip_always: bool = False) -> str:
        parts = [p for p in _SEP.split(_clean(value)) if p]
        if len(parts) > 1 and (strip_always or any(_SITE.search(p) for p in parts[1:])):
            parts = [p for p in parts if not (_SITE.search(p) and len(p) <= 16)] or parts
        return parts[0] if parts else ""

    for node in reversed(tree.css(_LISTS)):
        node.decompose()
    byline_node = first(*[n.text(separator=" ") for n in tree.css(_AUTHOR)])
    for node in reversed(tree.css(_NAVIGATION)):
        node.decompose()
    h1 = next((h.text() for h in tree.css("h1") if _clean(h.text()) not in ("", paper) and not _masthead(h.text())), "")
    body = _container(tree)
    inner = first(*[n.text() for n in body.css("h2, .title")]) if body is not None else ""
    headline = first(tag("founder-title"), enp.get("title"), headline_of(meta.get("og:title", "")))
    headline = headline or first(*[headline_of(meta.get(k, "")) for k in ("title", "headline", "articletitle")])
    headline = headline or first(h1, inner, headline_of(" _ ".join(title_parts), strip_always=True))
    subtitle = first(tag("founder-subtitle"), enp.get("subtitle"), meta.get("subtitle"), tag(".subtitle, .sub-title"))

    page_text = tree.body.text(separator="\n") if tree.body else ""
    at = page_text.find(headline) if headline else -1
    window = page_text[max(0, at - 300) : at + len(headline) + 300] if at >= 0 else page_text[:2000]
    dates = [meta.get(k) for k in ("article:published_time", "publishdate", "pubdate", "publish_date", "date")]
    dates += [meta.get("dc.date"), first(*[n.attributes.get("datetime") for n in tree.css("time[datetime]")])]
    dates += [tag("founder-date", "founder-pubdate"), enp.get("date")]
    date = next((d for v in dates if v and (d := _iso(v, _DATE) or _iso(v, _PATH_DATE))), "") or _iso(window, _DATE)
    if not date:
        canon = [n.attributes.get("href") or "" for n in tree.css("link[rel=canonical]")] + [meta.get("og:url", "")]
        date = next((d for v in [*canon, name] if v and (d := _iso(v, _PATH_DATE))), "")
    page = first(meta.get("page"), meta.get("pagename"), tag("founder-pagename", "founder-pagenum", "founder-page"))
    nodename = enp.get("nodename", "")
    page = _page(page) if page else _page(nodename) if _PAGE.search(nodename) else _nearest_page(window, at, headline)
    if not page and len(found := {_page(m.group(0)) for m in _PAGE.finditer(page_text)}) == 1:
        page = found.pop()  # a list of every page in the edition says nothing
    byline = first(tag("founder-author"), enp.get("author"))
    if not byline and 0 < len(byline_node := re.sub(r"^(?:作者|记者|文)\s*[:：]\s*", "", byline_node)) <= 30:
        byline = byline_node if not _SITE.search(byline_node) else ""
    if not byline and (author := meta.get("author", "")) and not _SITE.search(author) and len(author) <= 30:
        byline = author

    for node in reversed(tree.css(_NOISE)):
        node.decompose()
    body = _container(tree)
    lines: list[str] = [""]
    if body is not None:
        _lines(body, lines)
    skip = {headline, subtitle, _clean(tag("founder-introtitle"))}
    paras = [ln for ln in map(_clean, lines) if ln and ln not in skip and not _JUNK.search(ln) and _wordy(ln)]
    paras = [p for p in paras if not (len(p) <= 40 and "。" not in p and _DATE.search(p))]
    for i, p in enumerate(paras[:3]):
        if len(p) <= 40 and "。" not in p and _BYLINE.match(p):
            byline = byline or p
            del paras[i]
            break
    body_text = "\n".join(
        re.sub(rf"(?<=[{CJK}\u3000-\u303f\uff00-\uffef]) (?=[{CJK}\u3000-\u303f\uff00-\uffef])", "", p) for p in paras
    )
    if not re.search(f"[{CJK}]", body_text):
        raise LoadError("no article text found in the HTML", zh="网页里没有找到正文")
    return HtmlArticle(headline or paras[0][:60], body_text, paper, date, page, byline, subtitle)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _cjk(text: str) -> int:
    return len(re.findall(f"[{CJK}]", text))


def _wordy(line: str) -> bool:
    return bool(re.search(rf"[{CJK}A-Za-z0-9]", line))


def _masthead(text: str) -> bool:
    return bool(_PAPER.fullmatch(_clean(text)))


def _site(part: str) -> str:
    m = _PAPER.search(part)
    return m.group(0) if m else part


def _iso(text: str, pattern: re.Pattern[str]) -> str:
    for m in pattern.finditer(text):
        if day := real_day(int(m.group(1)), int(m.group(2)), int(m.group(3))):
            return day
    return ""


def _page(text: str) -> str:
    m = _PAGE.search(text) or re.fullmatch(r"\s*([A-Za-z]{0,2})\s*(\d{1,3})\s*", text)
    if not m:
        return _clean(text) if 0 < len(_clean(text)) <= 12 and not _DATE.search(text) and "版" not in text else ""
    return m.group(1).upper() + m.group(2) if m.group(1) else m.group(2) + "版"


def _nearest_page(window: str, at: int, headline: str) -> str:
    """The page label nearest the headline in the text around it (a label before it, or after it)."""
    if at < 0:
        return _page(window)
    centre = min(at, 300) + len(headline) // 2
    found = sorted(_PAGE.finditer(window), key=lambda m: abs((m.start() + m.end()) // 2 - centre))
    return _page(found[0].group(0)) if found else ""


def _container(tree: LexborHTMLParser) -> LexborNode | None:
    """The known body containers first, else the element whose ``<p>``/``<br>`` children hold the most Chinese."""
    for selector in _BODIES:
        best = max(tree.css(selector), key=lambda n: _cjk(n.text()), default=None)
        if best is not None and _cjk(best.text()) >= 10:
            return best
    scores: dict[int, tuple[LexborNode, int]] = {}
    for node in tree.css("p, br"):
        parent, src = node.parent, node if node.tag == "p" else node.prev
        if parent is not None and src is not None:
            prev = scores.get(parent.mem_id, (parent, 0))[1]
            scores[parent.mem_id] = (
                parent,
                prev + _cjk((src.text_content if src.tag == "-text" else src.text()) or ""),
            )
    if not scores:
        return None
    node, score = max(scores.values(), key=lambda s: s[1])
    return node if score >= 10 else None


def _lines(node: LexborNode, out: list[str]) -> None:
    """Text of ``node`` split into lines at block elements and ``<br>``."""
    for child in node.iter(include_text=True):
        if child.tag == "-text":
            out[-1] += child.text_content or ""
        elif child.tag in _BLOCKS:
            out.append("")
            _lines(child, out)
            out.append("")
        elif child.tag not in ("-comment", "img"):
            _lines(child, out)
