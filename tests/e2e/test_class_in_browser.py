"""Class mode in Chromium: a teacher and three students (four browser contexts, so four owners) through a full round:
start, join, predict, submit, live lanes on the projector, reveal, tally, CSV."""

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from core.classroom.klass import OUTCOMES

pytestmark = pytest.mark.e2e

# the class contour chart's lanes: traces marked meta.lane, with how many points of path each has drawn
LANES = """() => {
  const el = [...document.querySelectorAll('.js-plotly-plot')].find(e => (e._fullData || []).some(t => t.type === 'contour'));
  return el ? el._fullData.filter(t => t.meta && t.meta.lane).map(t => [t.name, t.x.length]) : []; }"""
TALLY_REVEALED = "[...document.querySelectorAll('.js-plotly-plot')].some(e => (e._fullData || []).some(t => t.name === 'happened'))"
STUDENTS = {"Ada": ("0.1", "converges"), "<b>Bo</b>": ("0.2", "oscillates"), "=HYPERLINK(\"x\")": ("0.5", "diverges")}


def join_and_submit(page: Page, server_url: str, code: str, nickname: str, lr: str, prediction: str) -> None:
    page.goto(f"{server_url}/class?code={code}")
    expect(page.get_by_role("textbox", name="Class code")).to_have_value(code, timeout=60_000)
    page.get_by_role("textbox", name="Your nickname").fill(nickname)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("button", name="Submit my lane")).to_be_visible(timeout=30_000)
    page.get_by_role("spinbutton", name="Learning rate η").fill(lr)
    page.get_by_test_id("stRadioGroup").get_by_text(prediction, exact=True).click()  # the tally table below has the same words
    page.get_by_role("button", name="Submit my lane").click()
    expect(page.get_by_text("Submitted:")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"You predicted it {prediction}")).to_be_visible()
    expect(page.get_by_role("button", name="Submit my lane")).to_have_count(0)  # the prediction is locked


def test_a_teacher_and_three_students_run_a_full_round(server_url, browser, tmp_path):
    teacher = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    tp = teacher.new_page()
    tp.goto(f"{server_url}/descent?lesson=good")
    tp.get_by_role("button", name="Start a class").click(timeout=120_000)
    tp.wait_for_url(re.compile(r".*/class\?code=[A-Z2-9]{6}$"), timeout=60_000)
    code = tp.url.rsplit("=", 1)[1]
    expect(tp.get_by_text(f"{server_url}/class?code={code}")).to_be_visible()  # the link, beside the QR code
    expect(tp.get_by_role("img").first).to_be_visible()

    students = []
    for nickname, (lr, prediction) in STUDENTS.items():
        sp = browser.new_context(viewport={"width": 1200, "height": 1000}).new_page()
        join_and_submit(sp, server_url, code, nickname, lr, prediction)
        expect(sp.get_by_role("button", name="Reveal outcomes")).to_have_count(0)  # the link gives no control
        students.append(sp)

    expect(tp.get_by_text("3 submitted · 3 done")).to_be_visible(timeout=60_000)  # the projector follows live
    tp.wait_for_function(f"({LANES})().filter(([n, k]) => k > 1).length == 3", timeout=30_000)
    assert sorted(name for name, _ in tp.evaluate(LANES)) == sorted(["Ada", "&lt;b&gt;Bo&lt;/b&gt;", '=HYPERLINK("x")'])
    expect(tp.locator("b", has_text="Bo")).to_have_count(0)  # a nickname is text, never markup
    assert [n for n, _ in students[0].evaluate(LANES)] == ["Ada"]  # a student sees their own lane

    tp.get_by_role("button", name="Reveal outcomes").click()
    expect(tp.get_by_role("button", name="Hide outcomes")).to_be_visible(timeout=30_000)
    tp.wait_for_function(TALLY_REVEALED, timeout=30_000)
    expect(students[2].get_by_text(re.compile(r"Your lane (converges|slow|oscillates|diverges)"))).to_be_visible(timeout=30_000)

    with tp.expect_download() as download:
        tp.get_by_role("button", name="Class table as CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert [r["nickname"] for r in rows] == ["Ada", "<b>Bo</b>", "'=HYPERLINK(\"x\")"]  # plain text; the formula disarmed
    assert [r["prediction"] for r in rows] == [p for _, p in STUDENTS.values()]
    assert all(r["outcome"] in OUTCOMES for r in rows), rows
    assert rows[2]["outcome"] == "diverges" and rows[2]["epochs to converge"] == ""  # 0.5 is past the limit (0.299)
    tp.screenshot(path=str(tmp_path / "class-teacher.png"), full_page=True)
    teacher.close()
    for sp in students:
        sp.context.close()
