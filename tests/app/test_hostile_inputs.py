"""Hostile input through AppTest: every Train field at its extremes and oversized CSVs give a clear message, never a traceback."""

import functools
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import core.data
from core.data import Limits
from core.training import MAX_EPOCHS
from ui import train_form

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
GOOD = b"area_m2;rooms;price\n50;2;200000\n80;3;310000\n100;3;350000\n120;4;420000\n150;5;520000\n"
FINAL = ("completed", "stopped", "diverged", "failed")


def open_page(page: str, more_settings: bool = False) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(page)
    if more_settings:  # the Train page's "More settings" expander, whose widgets are drawn only when open
        at.session_state[train_form.MORE] = True
    return at.run()


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def train_to_the_end(at: AppTest, timeout: float = 90) -> AppTest:
    """Click Train, then rerun as the browser's timer would until the run has ended."""
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    deadline = time.monotonic() + timeout
    while at.session_state["live"].status not in FINAL:
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.3)
        at.run()
        assert not at.exception, at.exception
    return at.run()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("train_lr", 0.0, "The learning rate must be a positive number"),
        ("train_epochs", 0, "epochs must be a whole number from 1 to"),
        ("train_epochs", MAX_EPOCHS + 1, f"epochs must be a whole number from 1 to {MAX_EPOCHS:,}"),
        ("train_hidden", "abc", "Hidden layers must be numbers separated by commas"),
    ],
)
def test_a_refused_setting_is_an_inline_message_and_train_is_off(key, value, message):
    at = open_page("../pages/train.py", more_settings=True)
    widget = at.text_input(key=key) if key == "train_hidden" else at.number_input(key=key)
    widget.set_value(value).run()
    assert not at.exception
    assert message in errors(at)
    assert at.button(key="train_start").proto.disabled


def test_a_huge_learning_rate_diverges_with_a_message():
    at = open_page("../pages/train.py")
    at.number_input(key="train_lr").set_value(1e9)
    at.number_input(key="train_epochs").set_value(200).run()
    assert not errors(at)
    at = train_to_the_end(at)
    assert at.session_state["live"].status == "diverged"
    assert errors(at).startswith("Diverged.")


def test_a_start_point_of_the_wrong_length_fails_the_run_with_a_message():
    at = open_page("../pages/train.py", more_settings=True)
    at.selectbox(key="train_init").set_value("given")
    at.text_input(key="train_init_params").set_value("1, 2, 3, 4, 5, 6, 7, 8, 9").run()
    at.number_input(key="train_epochs").set_value(50).run()
    at = train_to_the_end(at)
    assert at.session_state["live"].status == "failed"
    assert errors(at) and "internal error" not in errors(at)


def test_a_batch_larger_than_the_data_is_just_full_batch():
    at = open_page("../pages/train.py", more_settings=True)
    at.number_input(key="train_batch_size").set_value(10_000_000)
    at.number_input(key="train_epochs").set_value(50).run()
    at = train_to_the_end(at)
    assert at.session_state["live"].status == "completed", errors(at)
    assert at.success[0].value.startswith("Completed 50 epochs")


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.segmented_control(key="data_source_choice").set_value("csv").run()
    at.file_uploader(key="data_upload").set_value((name, content, "text/csv"))
    return at.run()


def in_use(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("**In use:**"))


@pytest.mark.parametrize(
    ("limits", "content", "message"),
    [  # the server's caps made small, as DESCENT_MAX_UPLOAD_MB / DESCENT_MAX_ROWS would (they are read at import)
        (Limits(max_bytes=2**20), b"x;y\n" + b"1;2\n" * 600_000, "The file is larger than"),
        (Limits(max_rows=3), GOOD, "more than 3 data rows"),
        (Limits(max_columns=2), GOOD, "at most 2 are allowed"),
        (Limits(max_cell_chars=5), b"x;y\n1;2\n3;" + b"4" * 100 + b"\n", "a cell of"),
    ],
)
def test_an_upload_over_a_cap_is_refused_and_the_previous_dataset_kept(monkeypatch, limits, content, message):
    at = upload(open_page("../pages/data.py"), "flats.csv", GOOD)
    assert "5 rows · area_m2, rooms → price" in in_use(at)
    monkeypatch.setattr(core.data, "read_table", functools.partial(core.data.read_table, limits=limits))
    at.file_uploader(key="data_upload").set_value(("huge.csv", content, "text/csv"))
    at.run()
    assert not at.exception
    assert message in errors(at) and "previous dataset is still in use" in errors(at)
    assert "5 rows · area_m2, rooms → price" in in_use(at)


def test_limits_read_the_environment(monkeypatch):
    monkeypatch.setenv("DESCENT_MAX_UPLOAD_MB", "1")
    monkeypatch.setenv("DESCENT_MAX_ROWS", "3")
    limits = Limits.from_env()
    assert (limits.max_bytes, limits.max_rows) == (2**20, 3)


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02\xff" * 1000, b"a;b\n1;2\n" + b'"' * 5000, b"x\n1\n2\n3\n"])
def test_garbage_csvs_give_a_message_not_a_traceback(content):
    at = upload(open_page("../pages/data.py"), "garbage.csv", content)
    assert not at.exception
    assert errors(at) or at.warning or at.info


def test_crafted_column_names_show_as_typed_never_as_markdown_latex_or_links():
    from ui.text import md

    header = '"$x^2$","[click](https://evil.example)",**price**'
    content = (header + "\n" + "\n".join(f"{i},{i % 7},{3 * i + 1}" for i in range(30))).encode()
    at = upload(open_page("../pages/data.py"), "crafted.csv", content)
    assert not at.exception
    shown = in_use(at)
    assert r"\$x^2\$" in shown and r"\[click\](https\:" in shown and r"\*\*price\*\*" in shown
    assert md(":material/delete: **x**") == r"\:material/delete\: \*\*x\*\*"  # no icon, no bold
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert r"\$x^2\$" in sidebar and "[click](" not in sidebar
