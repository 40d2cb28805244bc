"""The whole app in Chinese: every page opened with ?lang=zh shows no English sentence outside code, units,
numbers and names (tests/app/words.py says what counts). Each page's own test file walks it further in Chinese
(after a run, with an error, in a lesson); this one covers every page as it first opens, and the switch."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.words import english, texts

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
PAGES = ["home", "environment", "data", "train", "descent", "class_mode", "memory", "runs"]
# the switch names both languages in their own words; the preset's column names are data, not prose
KEPT = ["Language", "English", "house_prices", "area_m2", "rooms", "price"]


def open_in_chinese(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    if page and page != "home":
        at.switch_page(f"../pages/{page}.py")
        at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_in_chinese_with_no_english_left(page):
    at = open_in_chinese(page)
    assert english(texts(at), KEPT) == []


def test_the_switch_changes_the_language_and_the_url_keeps_it():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert at.title[0].value == "Descent Lab" and "Start here" in [s.value for s in at.subheader]
    at.segmented_control(key="lang_switch").set_value("zh").run()
    assert at.query_params["lang"] == ["zh"] or at.query_params["lang"] == "zh"
    assert "从这里开始" in [s.value for s in at.subheader]
    at.segmented_control(key="lang_switch").set_value("en").run()
    assert "Start here" in [s.value for s in at.subheader]


@pytest.mark.parametrize("asked", ["fr", "<script>alert(1)</script>", "zh&admin=1", ""])
def test_a_language_the_app_lacks_in_the_url_is_replaced_not_shown(asked):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = asked
    at.run()
    assert not at.exception and not at.error
    assert "Start here" in [s.value for s in at.subheader]  # the browser's language: English here
    assert at.query_params["lang"] in (["en"], "en")  # a copied link then says what the page showed
    assert "<script>" not in " ".join(texts(at))
