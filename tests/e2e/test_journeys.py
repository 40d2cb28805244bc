"""The journeys a person takes, each from a first visit, in Chromium against a real server and real workers."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

PLAY_FRAMES = """() => { const el = [...document.querySelectorAll('.js-plotly-plot')]
  .find(e => e._transitionData && e._transitionData._frames.length); return el ? el._transitionData._frames.length : 0; }"""


def first_visit(page: Page, server_url: str) -> None:
    page.goto(server_url)
    expect(page.get_by_test_id("stMainBlockContainer").get_by_role("heading", name="Descent Lab")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Start here")).to_be_visible()


def test_first_visit_then_watch_gradient_descent(server_url, page: Page):
    first_visit(page, server_url)
    page.get_by_role("button", name="Watch it").click()
    expect(page.get_by_role("heading", name="Gradient descent")).to_be_visible(timeout=30_000)
    page.wait_for_function(f"({PLAY_FRAMES})() > 10", timeout=120_000)  # the lesson trained and its run is ready to play


def test_first_visit_then_the_house_prices_then_one_click_to_the_optimum(server_url, page: Page):
    first_visit(page, server_url)
    page.get_by_role("button", name="Train it").click()
    expect(page.get_by_text(re.compile("Completed 100 epochs"))).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile("Not at the optimum yet"))).to_be_visible()
    page.get_by_role("button", name=re.compile(r"Train again with learning rate [\d.]+, [\d,]+ epochs")).click()
    expect(page.get_by_text(re.compile(r"Completed [\d,]+ epochs"))).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile("Not at the optimum yet"))).to_have_count(0)
    expect(page.get_by_text("Coefficients (original units)")).to_be_visible()


def test_a_diverged_run_leads_to_a_run_that_converges(server_url, page: Page):
    page.goto(f"{server_url}/train")
    expect(page.get_by_role("heading", name="Train")).to_be_visible(timeout=30_000)
    box = page.get_by_label("Learning rate", exact=True)
    box.fill("50")
    box.press("Enter")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"Diverged\. "))).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Inspect the diverged run anyway")).to_be_visible()
    page.get_by_role("button", name=re.compile("Train again with learning rate")).click()
    expect(page.get_by_text(re.compile(r"Completed [\d,]+ epochs"))).to_be_visible(timeout=60_000)


def test_a_lesson_during_a_train_run_says_why_it_waits_and_offers_to_stop_it(server_url, page: Page):
    page.goto(f"{server_url}/train")
    expect(page.get_by_role("heading", name="Train")).to_be_visible(timeout=30_000)
    page.get_by_text("More settings", exact=False).first.click()
    for label, value in (("Epochs", "1000000"), ("Batch size (0 = full batch)", "8")):  # mini-batches: minutes, not seconds
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_role("button", name="Stop", exact=True)).to_be_enabled(timeout=30_000)
    page.get_by_role("link", name="Gradient descent").click()
    # one worker (this machine's two cores): the lesson says why it waits and offers the way out
    expect(page.get_by_text(re.compile("The lesson waits for a worker: your Train run"))).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Stop my Train run").click()
    page.wait_for_function(f"({PLAY_FRAMES})() > 10", timeout=120_000)  # the lesson trained and plays
    page.get_by_role("link", name="Train").click()
    expect(page.get_by_text(re.compile(r"Stopped by request"))).to_be_visible(timeout=30_000)
    expect(page.get_by_label("Epochs", exact=True)).to_have_value("1000000")  # its settings, kept across the visit
