"""The Chinese interface in Chromium: a lesson plays, a refused CSV says why in Chinese, Streamlit's own uploader
words are ours, and the CJK font the page asks for is on this machine (.ci/run installs fonts-noto-cjk)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PLAY_FIG = "[...document.querySelectorAll('.js-plotly-plot')].find(el => el._transitionData && el._transitionData._frames.length)"
EPOCH = f"""() => {{ const t = [...({PLAY_FIG}).querySelectorAll('text.slider-label')].find(t => t.textContent.startsWith('轮次'));
  return t ? Number(t.textContent.replace('轮次', '').trim()) : -1; }}"""
# the width of Latin text in the CJK face against a fallback: equal when the face is missing and the browser substitutes
HAS_FONT = """(face) => { const c = document.createElement('canvas').getContext('2d');
  c.font = `40px "${face}", monospace`; const a = c.measureText('Descent Lab 0.01').width;
  c.font = '40px monospace'; return a !== c.measureText('Descent Lab 0.01').width; }"""


def test_a_chinese_lesson_plays_in_the_browser(server_url, page: Page):
    page.goto(f"{server_url}/descent?lang=zh&lesson=good&view=play&speed=10")
    expect(page.get_by_role("heading", name="梯度下降")).to_be_visible(timeout=30_000)
    page.wait_for_function(f"!!({PLAY_FIG})", timeout=120_000)  # the lesson trained: its frames are in the figure
    page.set_viewport_size({"width": 1400, "height": 1900})
    page.wait_for_timeout(1000)
    assert page.evaluate(EPOCH) == 0
    page.get_by_text("▶ 播放", exact=True).click()
    page.wait_for_function(f"({EPOCH})() >= 8", timeout=30_000)  # the slider reads 轮次 8, 9, … as the run plays
    page.get_by_text("❚❚ 暂停", exact=True).click()
    expect(page.get_by_text("首页", exact=True)).to_be_visible()  # the navigation, in Chinese
    assert "Noto Sans CJK SC" in page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert page.evaluate(HAS_FONT, "Noto Sans CJK SC"), "no CJK font on this machine: install fonts-noto-cjk"


def test_a_refused_csv_says_why_in_chinese_and_the_uploader_speaks_chinese(server_url, page: Page):
    page.goto(f"{server_url}/data?lang=zh")
    expect(page.get_by_role("heading", name="预处理")).to_be_visible(timeout=30_000)
    page.get_by_text("CSV 文件", exact=True).click()
    button = page.locator("[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer'] p")
    expect(button).to_be_visible()
    assert page.evaluate("(el) => getComputedStyle(el, '::after').content", button.element_handle()) == '"上传"'
    page.locator("input[type=file]").set_input_files(str(ROOT / "tests" / "unit" / "data" / "fixtures" / "bad_csv" / "binary.csv"))
    expect(page.get_by_text("这是二进制文件，不是 CSV 文本")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("仍在使用之前的数据集。")).to_be_visible()
    expect(page.get_by_text("This is a binary file")).to_have_count(0)


def test_a_first_visit_follows_the_browsers_language_and_the_url_keeps_it_across_pages(server_url, browser):
    context = browser.new_context(locale="zh-CN")  # the browser says Accept-Language: zh-CN, navigator.language zh-CN
    try:
        page = context.new_page()
        page.goto(server_url)
        expect(page.get_by_text("从这里开始")).to_be_visible(timeout=30_000)
        page.wait_for_url(re.compile(r"[?&]lang=zh"))  # a link copied from here opens in Chinese for anyone
        page.get_by_test_id("stSidebarNav").get_by_text("训练记录", exact=True).click()
        expect(page.get_by_role("heading", name="训练记录")).to_be_visible(timeout=30_000)
        page.wait_for_url(re.compile(r"/runs\?(.*&)?lang=zh"))
        page.get_by_text("English", exact=True).click()  # the switch
        expect(page.get_by_role("heading", name="Runs")).to_be_visible(timeout=30_000)
        page.wait_for_url(re.compile(r"[?&]lang=en"))
    finally:
        context.close()
