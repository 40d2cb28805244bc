"""The gradient-descent classroom in Chromium: every lesson preset drawn from its sharing URL, and Play animating in the browser."""

import pytest
from playwright.sync_api import Page, expect

from core.classroom import LESSONS

pytestmark = pytest.mark.e2e

STEP = 10  # open each lesson at this epoch (through the URL), so the path has points to draw

CHARTS = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .map(el => (el.data || []).map(t => [t.name || '', (t.x || []).length]))"""

# the play figure: the one chart that carries animation frames
PLAY_FIG = "[...document.querySelectorAll('.js-plotly-plot')].find(el => el._transitionData && el._transitionData._frames.length)"
# what each of the three views shows right now: the epoch label, the path's last point, the current point, the loss marker
PLAY_STATE = f"""() => {{
  const el = {PLAY_FIG};
  const lab = [...el.querySelectorAll('text.slider-label')].find(t => t.textContent.startsWith('Epoch'));
  const moving = el._transitionData._frames[0].traces.map(i => el.data[i]);
  const [path, now, fit, soFar, lossNow] = moving;
  return {{epoch: lab ? Number(lab.textContent.replace('Epoch ', '')) : -1, pathN: path.x.length, pathEnd: path.x[path.x.length - 1],
          nowX: now.x[0], fitY: fit.y, lossX: lossNow.x[0], lossN: soFar.x.length,
          surface: el.querySelectorAll('.scatterlayer .trace path.js-fill').length}};
}}"""


def open_lesson(page: Page, server_url: str, key: str, **extra: str) -> None:
    query = "&".join(f"{k}={v}" for k, v in {"lesson": key, "step": STEP, **extra}.items())
    page.goto(f"{server_url}/descent?{query}")
    expect(page.locator('input[aria-label="Epoch"]')).to_be_visible(timeout=120_000)  # the lanes have trained
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=30_000)
    page.set_viewport_size({"width": 1400, "height": 2600})  # Streamlit scrolls inside the page: a tall window shows it all
    page.wait_for_timeout(1500)  # let Plotly finish laying out before the screenshot


@pytest.mark.parametrize("key", list(LESSONS))
def test_every_lesson_draws_surface_fit_and_loss(server_url, page: Page, tmp_path, key):
    open_lesson(page, server_url, key)
    shot = tmp_path / f"descent-{key}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    charts = page.evaluate(CHARTS)
    names = [dict(c) for c in charts]
    lanes = len(LESSONS[key].lanes)
    # surface, fit, loss; a race adds one small surface per lane and the race's loss chart
    assert len(charts) == 3 + (lanes + 1 if lanes > 1 else 0), names
    surface, fit, loss = names[0], names[1], names[2]
    assert surface.get("path", 0) >= 2, surface  # the trainer's path up to epoch STEP
    assert any(n.startswith(("model at epoch", "rows at epoch")) for n in fit), fit  # one feature: a line; two: prediction against actual
    assert loss.get("train loss", 0) > STEP, loss
    expect(page.get_by_text(f"The update at epoch {STEP}")).to_be_visible()


def test_play_animates_the_three_views_together_in_the_browser(server_url, page: Page, tmp_path):
    """▶ Play in the chart steps through the frames client-side; paused mid-run, every view shows the same epoch.

    Speed is measured by benchmarks/play_fps.py, not asserted here.
    """
    page.goto(f"{server_url}/descent?lesson=good&view=play&speed=10")
    page.wait_for_function(f"!!({PLAY_FIG})", timeout=120_000)
    page.set_viewport_size({"width": 1400, "height": 1900})
    page.wait_for_timeout(1000)
    before = page.evaluate(PLAY_STATE)
    assert before["epoch"] == 0 and before["pathN"] == 1 and before["surface"] >= 10, before
    page.get_by_text("▶ Play", exact=True).click()
    page.wait_for_function(f"() => ({PLAY_STATE})().epoch >= 8", timeout=30_000)
    page.get_by_text("❚❚ Pause").click()
    page.wait_for_timeout(300)
    mid = page.evaluate(PLAY_STATE)
    k = mid["epoch"]
    assert 8 <= k < 60, mid
    assert mid["pathN"] == k + 1 and mid["pathEnd"] == mid["nowX"]  # the path ends at the current point
    assert mid["lossX"] == k and mid["lossN"] == k + 1  # the loss marker and curve at the same epoch
    assert mid["fitY"] != before["fitY"]  # the fitted line moved
    assert mid["surface"] == before["surface"]  # the loss surface is still drawn (a contour trace would vanish here)
    shot = tmp_path / "play-good-paused.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot} (paused at epoch {k})")
    page.wait_for_timeout(500)
    assert page.evaluate(PLAY_STATE)["epoch"] == k  # paused means paused
    page.get_by_text("⟲ From the start").click()
    page.wait_for_function(f"() => ({PLAY_STATE})().epoch == 60", timeout=60_000)  # and it reaches the last epoch


# the bottom edge, in the window, of a figure's plotting area (the lowest panel's, without ▶ Play and the slider)
PANELS_BOTTOM = """el => { const r = el.getBoundingClientRect(), L = el._fullLayout;
  return r.top + Math.max(...Object.keys(L).filter(k => /^yaxis\\d*$/.test(k)).map(k => L[k]._offset + L[k]._length)); }"""


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080)])
def test_projector_mode_fits_the_charts_above_the_fold(server_url, browser, tmp_path, width, height):
    """A projector shows the window, not the page: the play figure's panels and the step view's surface start and end
    inside it, with no sidebar."""
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    try:
        page.goto(f"{server_url}/descent?lesson=lr_race&view=play&projector=1")
        page.wait_for_function(f"!!({PLAY_FIG})", timeout=120_000)
        page.wait_for_timeout(1000)
        expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
        bottom = page.evaluate(f"({PANELS_BOTTOM})({PLAY_FIG})")
        assert bottom <= height, f"the play figure's panels end at {bottom:.0f} px in a {height} px window"
        bg = page.evaluate(f"() => ({PLAY_FIG})._fullLayout.paper_bgcolor")
        assert bg in ("#ffffff", "white", "rgb(255, 255, 255)"), bg
        page.screenshot(path=str(tmp_path / f"projector-play-{width}x{height}.png"))
        page.get_by_text("▶ Play", exact=True).click()
        page.wait_for_function(f"() => ({PLAY_STATE})().epoch >= 20", timeout=30_000)
        page.goto(f"{server_url}/descent?lesson=good&view=step&step={STEP}&projector=1")
        expect(page.get_by_text(f"The update at epoch {STEP}")).to_be_attached(timeout=120_000)
        page.wait_for_timeout(1500)
        surface = page.locator(".js-plotly-plot").first
        top = surface.bounding_box()["y"]
        assert top < height / 2, f"the step view's surface starts at {top:.0f} px"
        bottom = surface.evaluate(PANELS_BOTTOM)
        assert bottom <= height, f"the step view's surface ends at {bottom:.0f} px in a {height} px window"
        shot = tmp_path / f"projector-step-{width}x{height}.png"
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}")
    finally:
        page.context.close()


def test_a_later_visitor_sees_the_lessons_own_settings_not_the_widgets_defaults(server_url, browser):
    """With warm workers a lesson's lanes end before the browser has drawn the controls, and the page reruns at once:
    the browser used to send the widgets' defaults back (η = 1e-12, the first lesson, projector off)."""
    for _ in range(2):  # the second visitor meets warm workers
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        try:
            page.goto(f"{server_url}/descent?lesson=oscillates&view=step&d3=1")
            expect(page.get_by_text("The update at epoch 0")).to_be_attached(timeout=120_000)
            page.wait_for_timeout(1500)
            assert page.locator("[data-testid=stNumberInput] input").first.input_value() == "0.2686"
            assert page.get_by_role("combobox", name="Lesson").input_value() == "Too big: oscillates"
            expect(page.get_by_role("switch", name="3-D surface")).to_be_checked()
        finally:
            page.context.close()


def test_exports_download_csv_png_and_an_animated_gif(server_url, page: Page, tmp_path):
    import csv
    import importlib.util

    open_lesson(page, server_url, "good")
    page.get_by_text("Export and share").click()
    with page.expect_download() as d:
        page.get_by_role("button", name="History as CSV").click()
    rows = list(csv.DictReader(open(d.value.path(), encoding="utf-8")))
    assert len(rows) == LESSONS["good"].epochs and {"lane", "lr", "b", "w:x"} <= set(rows[0])
    if importlib.util.find_spec("kaleido") is None:
        pytest.skip("kaleido is not installed: no PNG/GIF export")
    from PIL import Image

    with page.expect_download(timeout=60_000) as d:
        page.get_by_role("button", name="Surface as PNG").click()
    assert Image.open(d.value.path()).format == "PNG"
    with page.expect_download(timeout=120_000) as d:
        page.get_by_role("button", name="Run as animated GIF").click()
    gif = tmp_path / "run.gif"
    d.value.save_as(gif)
    im = Image.open(gif)
    print(f"GIF: {im.n_frames} frames, {im.size}, {gif.stat().st_size // 1024} kB at {gif}")
    assert im.format == "GIF" and im.n_frames > 10
