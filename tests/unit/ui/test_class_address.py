"""The join link a teacher shows the room: the class page beside the page the teacher has open, the code, and the
teacher's language when it is not English."""

import pytest

from ui.classes import class_address


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("http://127.0.0.1:8501/descent?lesson=good", "http://127.0.0.1:8501/class?code=K7RM2Q"),
        ("http://127.0.0.1:8501/", "http://127.0.0.1:8501/class?code=K7RM2Q"),
        ("https://school.example/lab/class?code=OLD123&x=1", "https://school.example/lab/class?code=K7RM2Q"),  # under a sub-path
        ("https://school.example/lab/", "https://school.example/lab/class?code=K7RM2Q"),
        ("", "http://localhost:8501/class?code=K7RM2Q"),  # no browser address known (a test harness)
    ],
)
def test_the_join_link_keeps_the_servers_address_and_path(current, expected):
    assert class_address(current, "K7RM2Q") == expected


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("http://127.0.0.1:8501/descent?lesson=good&lang=zh", "http://127.0.0.1:8501/class?code=K7RM2Q&lang=zh"),
        ("https://school.example/lab/", "https://school.example/lab/class?code=K7RM2Q&lang=zh"),
        ("", "http://localhost:8501/class?code=K7RM2Q&lang=zh"),
    ],
)
def test_a_chinese_teachers_link_opens_the_class_in_chinese(current, expected):
    assert class_address(current, "K7RM2Q", "zh") == expected


def test_an_english_teachers_link_says_no_language_so_each_browser_keeps_its_own():
    assert class_address("http://127.0.0.1:8501/descent", "K7RM2Q", "en") == "http://127.0.0.1:8501/class?code=K7RM2Q"
