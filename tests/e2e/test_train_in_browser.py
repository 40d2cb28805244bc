"""The walking skeleton end to end: a real server, real worker processes, real Plotly in Chromium."""

import re
import time

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

LAST_EPOCH_DRAWN = """() => {
  const plot = document.querySelector('.js-plotly-plot');
  if (!plot || !plot._fullData || !plot._fullData.length) return 0;
  const x = plot._fullData[0].x;  // decoded: plot.data keeps the typed-array spec the server sent
  return x.length ? x[x.length - 1] : 0;
}"""


def set_number(page: Page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")


def test_train_watch_it_converge_then_stop_a_second_run(server_url, page: Page):
    page.goto(server_url)
    page.get_by_role("link", name="Train").click()
    expect(page.get_by_role("heading", name="Train")).to_be_visible(timeout=30_000)
    set_number(page, "Learning rate", "0.1")
    set_number(page, "Epochs", "300000")  # ~6 s: long enough to watch it grow
    page.get_by_role("button", name="Train", exact=True).click()

    # the chart gains points while the run is going
    drawn = []
    deadline = time.monotonic() + 120
    while not page.get_by_text(re.compile("Completed 300,000 epochs")).is_visible():
        assert time.monotonic() < deadline, f"run did not finish; last epochs drawn {drawn[-5:]}"
        drawn.append(page.evaluate(LAST_EPOCH_DRAWN))
        time.sleep(0.25)
    growing = sorted({d for d in drawn if 0 < d < 300000})
    assert len(growing) >= 2, f"the chart never showed a run in progress: {drawn}"
    expect(page.get_by_text("Coefficients (original units)")).to_be_visible()
    expect(page.get_by_text(re.compile("exact optimum of the MSE on the same training rows"))).to_be_visible()
    page.wait_for_function(f"({LAST_EPOCH_DRAWN})() === 300000")  # the final epoch is on screen

    # a second run, stopped midway
    set_number(page, "Epochs", "1000000")
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function(f"({LAST_EPOCH_DRAWN})() > 0 && ({LAST_EPOCH_DRAWN})() < 300000", timeout=30_000)
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile(r"Stopped by request after [\d,]+ of 1,000,000 epochs"))).to_be_visible(timeout=15_000)
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_enabled()


LOSS_X_RANGE = """() => {
  const p = document.querySelector('.js-plotly-plot');
  return p.layout.xaxis.autorange ? null : p.layout.xaxis.range;
}"""


def epoch_drawn(page: Page) -> int:
    return page.evaluate(LAST_EPOCH_DRAWN)


def test_zoom_pause_resume_page_switch_and_refresh_during_a_run(server_url, page: Page):
    page.goto(f"{server_url}/train")
    expect(page.get_by_role("heading", name="Train")).to_be_visible(timeout=30_000)
    set_number(page, "Learning rate", "0.1")
    set_number(page, "Epochs", "1000000")
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function(f"({LAST_EPOCH_DRAWN})() > 0", timeout=30_000)

    # zoom with the mouse: a box drag on the loss chart; later frames must keep it
    box = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.7, steps=5)
    page.mouse.up()
    zoomed = page.evaluate(LOSS_X_RANGE)
    assert zoomed is not None, "the drag did not zoom"
    before = epoch_drawn(page)
    page.wait_for_function(f"({LAST_EPOCH_DRAWN})() > {before}", timeout=15_000)  # new frames arrived…
    assert page.evaluate(LOSS_X_RANGE) == zoomed  # …and the zoom is still there

    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_text(re.compile(r"epoch [\d,]+ of 1,000,000 .*paused"))).to_be_visible(timeout=15_000)
    time.sleep(1.0)  # the epochs done before the worker saw Pause (≤ 20 ms of them) reach the chart in the next frame
    paused_at = epoch_drawn(page)
    time.sleep(1.5)
    assert epoch_drawn(page) == paused_at  # then nothing moves
    page.get_by_role("button", name="Resume", exact=True).click()
    page.wait_for_function(f"({LAST_EPOCH_DRAWN})() > {paused_at}", timeout=15_000)

    # another page and back: the run went on meanwhile and the page picks it up
    page.get_by_role("link", name="Data").click()
    expect(page.get_by_role("heading", name="Data")).to_be_visible(timeout=30_000)
    away = time.monotonic()
    time.sleep(1.0)
    page.get_by_role("link", name="Train").click()
    expect(page.get_by_role("button", name="Stop", exact=True)).to_be_enabled(timeout=30_000)
    resumed_at = epoch_drawn(page)
    page.wait_for_function(f"({LAST_EPOCH_DRAWN})() > {resumed_at}", timeout=15_000)
    assert time.monotonic() - away > 1.0

    # a browser refresh: the run id in the URL re-attaches; the browser's cookie, not the URL, says it is this owner's
    assert "run=" in page.url and "key=" not in page.url
    page.reload()
    expect(page.get_by_role("button", name="Stop", exact=True)).to_be_enabled(timeout=30_000)
    page.wait_for_function(f"({LAST_EPOCH_DRAWN})() > 0", timeout=30_000)
    expect(page.get_by_label("Epochs", exact=True)).to_have_value("1000000")  # the form shows the run's settings, not defaults
    expect(page.get_by_label("Learning rate", exact=True)).to_have_value("0.1")
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile(r"Stopped by request after [\d,]+ of 1,000,000 epochs"))).to_be_visible(timeout=15_000)


def test_a_diverging_run_explains_itself_and_a_finished_run_shows_its_results(server_url, page: Page, tmp_path):
    page.goto(f"{server_url}/train")
    expect(page.get_by_role("heading", name="Train")).to_be_visible(timeout=30_000)
    set_number(page, "Learning rate", "50")
    set_number(page, "Epochs", "500")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"Diverged\. .*stable only below 2/λ_max"))).to_be_visible(timeout=30_000)

    set_number(page, "Learning rate", "0.1")
    set_number(page, "Epochs", "2000")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile("Completed 2,000 epochs"))).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Coefficients (original units)")).to_be_visible()
    for label in ("Model (.pt, weights_only)", "Model (.safetensors)", "History (.csv)", "Standalone PyTorch script (.py)"):
        expect(page.get_by_role("button", name=label)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="History (.csv)").click()
    lines = open(download.value.path()).read().splitlines()
    assert lines[0].startswith("epoch,") and len(lines) == 2001  # made on click: every epoch, with a header
    page.wait_for_function(f"({LAST_EPOCH_DRAWN})() === 2000")
    page.screenshot(path=tmp_path / "train_finished.png", full_page=True)


def test_a_copied_address_opens_read_only_elsewhere_and_its_closing_stops_nothing(server_url, browser):
    owner_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    viewer_context = browser.new_context(viewport={"width": 1400, "height": 1000})  # another person: no cookies shared
    try:
        owner = owner_context.new_page()
        owner.goto(f"{server_url}/train")
        expect(owner.get_by_role("heading", name="Train")).to_be_visible(timeout=30_000)
        set_number(owner, "Epochs", "1000000")
        owner.get_by_role("button", name="Train", exact=True).click()
        owner.wait_for_function(f"({LAST_EPOCH_DRAWN})() > 0", timeout=30_000)
        address = owner.url
        assert "run=" in address and "key=" not in address

        viewer = viewer_context.new_page()
        viewer.goto(address)  # pasted into another browser
        expect(viewer.get_by_text("You are watching a shared run: read-only.")).to_be_visible(timeout=30_000)
        expect(viewer.get_by_role("button", name="Stop", exact=True)).to_be_disabled(timeout=30_000)  # drawn after the note
        expect(viewer.get_by_role("button", name="Pause", exact=True)).to_be_disabled(timeout=30_000)
        viewer.get_by_role("link", name="Runs").click()
        expect(viewer.get_by_role("heading", name="Runs")).to_be_visible(timeout=30_000)
        viewer_context.close()  # the viewer leaves: the owner's run is not theirs to stop, not even by leaving

        time.sleep(2)
        before = epoch_drawn(owner)
        owner.wait_for_function(f"({LAST_EPOCH_DRAWN})() > {before}", timeout=15_000)
        expect(owner.get_by_role("button", name="Stop", exact=True)).to_be_enabled()
        owner.get_by_role("button", name="Stop", exact=True).click()
        expect(owner.get_by_text(re.compile(r"Stopped by request after [\d,]+ of 1,000,000 epochs"))).to_be_visible(timeout=15_000)
    finally:
        owner_context.close()


def test_more_settings_opened_the_moment_the_page_appears_keeps_the_settings(server_url, browser):
    """A click in the page's first tenth of a second used to make the browser send Streamlit's default (0) for Learning
    rate and Epochs (2 of 12 tries); repeated, as the race does not strike every time."""
    seen = []
    for _ in range(8):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.goto(f"{server_url}/train")
            more = page.get_by_text("More settings", exact=False).first
            more.wait_for(timeout=60_000)
            more.click()
            expect(page.get_by_label("Weight decay", exact=True)).to_be_visible(timeout=15_000)
            time.sleep(1.0)
            seen.append(tuple(page.get_by_label(name, exact=True).input_value() for name in ("Learning rate", "Epochs")))
            assert page.get_by_text("had its value set via the Session State API").count() == 0
        finally:
            context.close()
    assert set(seen) == {("0.01", "100")}, seen
