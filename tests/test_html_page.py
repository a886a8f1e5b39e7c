"""E-paper article pages → HtmlArticle: fictional pages (青禾日报, 柳溪县) in the shapes real sites serve."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest.html_page import HtmlArticle, parse_html, read_html
from rag.ingest.loaders import LoadError

FOUNDER = """<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>青禾日报数字报</title></head><body>
<div class="masthead"><img alt="青禾日报"></div>
<founder-pagename>A04</founder-pagename><founder-date>2024-03-15</founder-date>
<founder-title>柳溪县春耕备耕全面展开</founder-title>
<founder-subtitle>全县完成农机检修一千二百台</founder-subtitle>
<founder-author>本报记者 李喆</founder-author>
<founder-content>
<p>　　连日来，柳溪县各乡镇抢抓晴好天气，组织农户  平整土地、检修农机。</p>
<p>　　县农业农村局表示，今年将新增高标准农田三万亩。</p>
</founder-content></body></html>"""

OG_META = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>柳溪县新建三座乡村图书馆 - 青禾日报</title>
<meta property="og:title" content="柳溪县新建三座乡村图书馆 - 青禾日报">
<meta property="og:site_name" content="青禾日报">
<meta property="article:published_time" content="2023-11-02T08:30:00+08:00">
<meta name="author" content="王禾">
</head><body><article><h1>柳溪县新建三座乡村图书馆</h1>
<p>柳溪县三座乡村图书馆近日对外开放，藏书合计两万余册。</p>
<p>图书馆每周开放六天，村民可凭身份证免费借阅。</p>
<p>责任编辑：张三</p></article></body></html>"""

PLAIN = """<html><head><title>柳溪县举办首届稻田音乐节_青禾晚报</title></head><body>
<div class="info">2022年7月5日 星期二 第03版：综合新闻</div>
<h1>柳溪县举办首届稻田音乐节</h1>
<div class="text"><p>本报记者 柳青</p>
<p>七月四日晚，柳溪县首届稻田音乐节在城南稻田公园开幕，吸引游客五千余人。</p>
<p>音乐节持续三天，设有民乐演出和农产品市集。</p></div></body></html>"""

CANONICAL = """<html><head><meta charset="utf-8"><title>柳溪县修复古桥</title>
<link rel="canonical" href="http://epaper.example.cn/qhrb/html/2021-09/18/content_1234.htm"></head>
<body><div class="TRS_Editor">柳溪县文物部门近日完成对百年古桥的修复。<br>修复工程历时八个月，
沿用了传统的石料和工艺。<br>古桥将于国庆节前恢复通行。</div></body></html>"""

NOISY = """<html><head><meta charset="utf-8"><title>柳溪县开通城乡公交专线</title>
<script>var tip = "请在微信中打开本页面，2019年1月1日";</script><style>p { color: red }</style></head><body>
<header><div class="logo">青禾日报</div><p>首页 要闻 民生 文旅</p></header>
<nav><p>第A01版：要闻</p><p>第A02版：民生</p></nav>
<div id="main"><h1>柳溪县开通城乡公交专线</h1><div class="date">2020-06-01</div>
<div class="body"><p>六月一日起，柳溪县开通四条城乡公交专线，覆盖全县十二个乡镇。</p>
<p>专线票价统一为两元，老年人凭卡免费乘坐。</p>
<div class="share-bar"><p>分享到微信朋友圈</p></div>
<p>上一篇：柳溪县举办农民运动会</p><p>下一篇：柳溪县新建污水处理厂</p></div></div>
<aside><p>相关阅读：柳溪县公交车辆全部更新为新能源车型，市民出行更加便捷。</p></aside>
<footer><p>青禾日报社版权所有 © 2020 地址：柳溪县城关镇</p></footer></body></html>"""


def test_founder_page_in_gb2312() -> None:
    art = parse_html(FOUNDER.encode("gbk"))  # 喆 is GBK, not GB2312: the charset is read as GB18030
    assert art == HtmlArticle(
        headline="柳溪县春耕备耕全面展开",
        text="连日来，柳溪县各乡镇抢抓晴好天气，组织农户平整土地、检修农机。\n县农业农村局表示，今年将新增高标准农田三万亩。",
        paper="青禾日报",
        date="2024-03-15",
        page="A04",
        byline="本报记者 李喆",
        subtitle="全县完成农机检修一千二百台",
    )


def test_og_and_article_meta_with_title_suffix() -> None:
    art = parse_html(OG_META)
    assert (art.headline, art.paper, art.date, art.byline) == (
        "柳溪县新建三座乡村图书馆",
        "青禾日报",
        "2023-11-02",
        "王禾",
    )
    assert (
        art.text == "柳溪县三座乡村图书馆近日对外开放，藏书合计两万余册。\n图书馆每周开放六天，村民可凭身份证免费借阅。"
    )
    assert art.page == "" and art.subtitle == ""


def test_plain_page_date_and_page_from_text() -> None:
    art = parse_html(PLAIN.encode("utf-8"))
    assert (art.headline, art.paper, art.date, art.page) == (
        "柳溪县举办首届稻田音乐节",
        "青禾晚报",
        "2022-07-05",
        "03版",
    )
    assert art.byline == "本报记者 柳青"
    assert art.text.splitlines()[0].startswith("七月四日晚") and len(art.text.splitlines()) == 2


def test_date_from_canonical_url_and_file_name(tmp_path: Path) -> None:
    art = parse_html(CANONICAL)
    assert (art.headline, art.date, art.paper, art.page) == ("柳溪县修复古桥", "2021-09-18", "", "")
    assert art.text.splitlines() == [
        "柳溪县文物部门近日完成对百年古桥的修复。",
        "修复工程历时八个月，沿用了传统的石料和工艺。",
        "古桥将于国庆节前恢复通行。",
    ]
    page = tmp_path / "2021-09" / "content_20210917_5.htm"  # no canonical link: the path is the last resort
    page.parent.mkdir()
    page.write_text(CANONICAL.replace('<link rel="canonical"', '<link rel="alternate"'), "utf-8")
    assert read_html(page).date == "2021-09-17"


def test_navigation_scripts_and_footers_do_not_leak() -> None:
    art = parse_html(NOISY)
    assert (
        art.text
        == "六月一日起，柳溪县开通四条城乡公交专线，覆盖全县十二个乡镇。\n专线票价统一为两元，老年人凭卡免费乘坐。"
    )
    assert (art.headline, art.paper, art.date, art.page) == ("柳溪县开通城乡公交专线", "青禾日报", "2020-06-01", "")


def test_page_without_article_text() -> None:
    html = "<html><head><title>青禾日报</title><script>var a='柳溪县新闻很多很多很多很多';</script></head>"
    with pytest.raises(LoadError, match="no article text found in the HTML"):
        parse_html(html + "<body><nav><p>首页 要闻 民生</p></nav><div>Loading…</div></body></html>")
    with pytest.raises(LoadError, match="empty"):
        parse_html(b"  \n")


def test_read_html_limits_and_missing_file(tmp_path: Path) -> None:
    big = tmp_path / "big.html"
    big.write_text(PLAIN + " " * (60_000 - len(PLAIN.encode())), "utf-8")
    with pytest.raises(LoadError, match=r"too large for an HTML page \(0\.06 MB, the limit is 0\.05 MB\)"):
        read_html(big, max_bytes=50_000)
    with pytest.raises(LoadError, match="cannot read: No such file"):
        read_html(tmp_path / "missing.html")
    assert read_html(big).headline == "柳溪县举办首届稻田音乐节"


NAVIGATED = """<html><head><meta charset="utf-8"><title>柳溪县新建两座口袋公园_青禾日报</title></head><body>
<div class="nav"><ul><li><a>第A01版：要闻</a></li><li><a>第A02版：综合</a></li>
<li><a>第A03版：民生</a></li><li><a>第A04版：文体</a></li></ul></div>
<div class="main"><div class="pageinfo">2024年5月8日 第A03版：民生</div>
<div class="wrap"><h1>柳溪县新建两座口袋公园</h1><div class="author">作者：韦晓青</div>
<div class="content"><p>柳溪县城区两座口袋公园近日建成开放，新增绿地四千平方米。</p>
<p>公园设有健身步道和儿童游乐区，周边居民步行五分钟即可到达。</p></div></div></div></body></html>"""


def test_page_number_and_byline_from_the_articles_own_neighbourhood() -> None:
    """Issue 34 item 6: the edition's page list (``<div class="nav">``) holds every page's number; the
    article's is the one printed beside it. A byline in its own ``author`` block beside the body is kept."""
    art = parse_html(NAVIGATED)
    assert (art.headline, art.paper, art.date, art.page) == ("柳溪县新建两座口袋公园", "青禾日报", "2024-05-08", "A03")
    assert art.byline == "韦晓青"
    assert art.text.splitlines()[0].startswith("柳溪县城区两座口袋公园") and "第A01版" not in art.text
