"""What a reader of the ingest report should know about a scanned page the OCR reads less well:
a page read turned a quarter, a page set vertically, a page printed in traditional characters
(issue 34).

RapidOCR's recogniser (PP-OCRv4 Chinese) reads horizontal lines of mostly simplified text; no
offline traditional-character or vertical-text model ships on a package registry.  Such pages
are still read — a page set vertically is usually read turned a quarter, its columns then lines
(rag.ingest.orientation), else a character cell at a time, right to left — and the report says
so, page by page, so nobody mistakes their text for a faithful copy.
"""

from __future__ import annotations

import re

from rag.ingest.cleaning import CJK
from rag.ingest.reading_order import TextBox, vertical_page
from rag.models import Said

# Characters printed only in traditional text (their simplified forms differ, and simplified
# text never uses these): a page where they are common is a traditional-character page.
TRADITIONAL_ONLY = frozenset(
    "們這個為國會說來時後對過還學動發現點經與長開關門間見記話語請讀車東樂書產業電網號幾變從當"
    "應議樣總邊處體實際讓專場術輕連進運達選錢鐵陽隊雙難雲頭題風飛館馬魚鳥黃齊龍報將舉無興萬歲"
    "歷觀聽廣廠劇園圖價錄務區衛師爾們麼張強圓夠擔擊據斷暫權歡氣漢濟灣燈爭爺狀獨環產畫異療監盡"
    "碼禮稅穩積競筆範簡紀約紅級給絕統絲綠維緊線編練縣績續總繼聯聲職膽興艦藝蘇蘭號術補裝認詞試"
    "詩該誤說誰調談論諸證識護讀貝負貨質費賣賽趕躍軍輪輸辦農這遠遲郵鄉醫釋針銀鍋鐘長門問閱陰陣陸險隨"
)
TRADITIONAL_SHARE = 0.05  # of a page's Chinese characters
MIN_CHARACTERS = 40


def traditional_share(text: str) -> float:
    """The share of the Chinese characters in ``text`` that only traditional text uses (0.0
    under ``MIN_CHARACTERS`` characters: too little to say)."""
    chars = re.findall(f"[{CJK}]", text)
    if len(chars) < MIN_CHARACTERS:
        return 0.0
    return sum(c in TRADITIONAL_ONLY for c in chars) / len(chars)


def page_notes(number: int, boxes: list[TextBox], turned: float = 0.0) -> list[Said]:
    """The notes for page ``number`` of a scan, from its OCR boxes and the degrees it was turned."""
    notes = []
    if round(turned / 90) % 2:
        notes.append(
            Said(
                f"page {number} was read turned a quarter: a page scanned on its side, or a page set "
                "vertically, whose columns read as lines once turned (right to left, as printed); it is "
                "shown turned the same way; vertical text reads less accurately than horizontal, check its articles",
                f"第 {number} 页转过 90° 后识别：可能是放倒扫描的页面，或是竖排版面（转过来后每一竖行按一行读，"
                "仍按从右到左的顺序）；页面图片也按此方向显示。竖排文字的识别准确度低于横排，请核对这一页的文章",
            )
        )
    elif vertical_page(boxes):
        notes.append(
            Said(
                f"page {number} is set vertically (columns top to bottom, right to left): its columns are "
                "read a character cell at a time, less accurately than horizontal text; check its articles",
                f"第 {number} 页是竖排版面（从上到下、从右到左）：竖排文字逐字识别，准确度低于横排，请核对这一页的文章",
            )
        )
    share = traditional_share("".join(b.text for b in boxes))
    if share >= TRADITIONAL_SHARE:
        notes.append(
            Said(
                f"page {number} is printed in traditional characters ({share:.0%} of its characters are "
                "traditional-only): the OCR model reads simplified Chinese best and may replace or drop "
                "traditional characters",
                f"第 {number} 页为繁体字印刷：识别模型以简体中文为主，繁体字可能被识别成简体字或漏字",
            )
        )
    return notes
