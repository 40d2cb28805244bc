"""The walking skeleton end to end: a real server, real worker processes, real Plotly in Chromium."""

import re
import time

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

LAST_EPOCH_DRAWN = """() => {
  const plot = document.querySelector('.js-plotly-plot');
  if (!plot || !plot.data || !plot.data.length) return 0;
  const x = plot.data[0].x;
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
    set_number(page, "Epochs", "20000")
    page.get_by_role("button", name="Train", exact=True).click()

    # the chart gains points while the run is going
    drawn = []
    deadline = time.monotonic() + 120
    while not page.get_by_text(re.compile("Completed 20,000 epochs")).is_visible():
        assert time.monotonic() < deadline, f"run did not finish; last epochs drawn {drawn[-5:]}"
        drawn.append(page.evaluate(LAST_EPOCH_DRAWN))
        time.sleep(0.25)
    growing = sorted({d for d in drawn if 0 < d < 20000})
    assert len(growing) >= 2, f"the chart never showed a run in progress: {drawn}"
    expect(page.get_by_text("Coefficients (original units)")).to_be_visible()
    expect(page.get_by_text(re.compile("exact optimum of the MSE on the same training rows"))).to_be_visible()
    page.wait_for_function(f"({LAST_EPOCH_DRAWN})() === 20000")  # the final epoch is on screen

    # a second run, stopped midway
    set_number(page, "Epochs", "1000000")
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function(f"({LAST_EPOCH_DRAWN})() > 0 && ({LAST_EPOCH_DRAWN})() < 20000", timeout=30_000)
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile(r"Stopped by request after [\d,]+ of 1000000 epochs"))).to_be_visible(timeout=15_000)
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_enabled()
