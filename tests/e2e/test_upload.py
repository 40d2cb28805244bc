"""Upload a CSV through the real file input in Chromium and see it become the dataset, then a bad one refused."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_upload_a_csv_and_see_the_preview_then_a_bad_file_is_refused(server_url, page: Page):
    page.goto(f"{server_url}/data")
    expect(page.get_by_role("heading", name="Preprocessing")).to_be_visible(timeout=30_000)
    page.get_by_text("CSV file", exact=True).click()
    page.locator("input[type=file]").set_input_files(str(ROOT / "data" / "examples" / "house_prices_zh_synthetic_gbk.csv"))

    expect(page.get_by_text("semicolon-separated, GBK/GB18030, a header row")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("In use: house_prices_zh_synthetic_gbk.csv, 40 rows · 面积_m2, 房间数 → 价格")).to_be_visible()
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible()  # a canvas grid: its cells are not DOM text
    expect(page.get_by_text("Data: house_prices_zh_synthetic_gbk.csv, 40 rows")).to_be_visible()  # the sidebar, i.e. every page

    page.locator("input[type=file]").set_input_files(str(ROOT / "tests" / "unit" / "data" / "fixtures" / "bad_csv" / "binary.csv"))
    expect(page.get_by_text("This is a binary file, not CSV text")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("The previous dataset is still in use.")).to_be_visible()
    expect(page.get_by_text("In use: house_prices_zh_synthetic_gbk.csv, 40 rows · 面积_m2, 房间数 → 价格")).to_be_visible()
