"""Train twice, then compare the two runs on the Runs page: real server, real store, real Plotly."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

TRACE_NAMES = (
    "() => { const p = document.querySelectorAll('.js-plotly-plot'); return p.length ? p[p.length - 1].data.map(t => t.name) : []; }"
)


def train(page: Page, lr: str, epochs: str) -> None:
    for label, value in (("Learning rate", lr), ("Epochs", epochs)):
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(f"Completed {int(epochs):,} epochs"))).to_be_visible(timeout=60_000)


def test_two_runs_overlaid_on_the_runs_page(server_url, page: Page):
    page.goto(f"{server_url}/train")
    expect(page.get_by_role("heading", name="Train")).to_be_visible(timeout=30_000)
    train(page, "0.01", "300")
    train(page, "0.1", "300")

    page.get_by_role("link", name="Runs").click()
    expect(page.get_by_role("heading", name="Runs")).to_be_visible(timeout=30_000)
    page.get_by_text("Only mine").click()  # this test's two runs, whatever else the store holds
    grid = page.get_by_test_id("stDataFrame")
    expect(grid).to_be_visible()
    box = grid.bounding_box()
    for row in range(2):  # the row-selection checkboxes sit in the grid's first column (a canvas)
        page.mouse.click(box["x"] + 12, box["y"] + 38 + 35 * row + 17)
        page.wait_for_timeout(1500)
    expect(page.get_by_role("heading", name="Loss curves")).to_be_visible(timeout=15_000)
    page.wait_for_function(f"({TRACE_NAMES})().length >= 2", timeout=15_000)
    names = " ".join(page.evaluate(TRACE_NAMES))
    assert "lr 0.01 ·" in names and "lr 0.1 ·" in names  # each run by its name
    expect(page.get_by_role("heading", name="Settings that differ")).to_be_visible()
