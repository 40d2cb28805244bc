"""Messages in either language: rendering, errors through a pipe, messages through the run store, the language
a locale or a browser names."""

import pickle
import threading

import pytest

from core.i18n import LocalizedError, Message, _, current, decode, encode, follow, language_of, use
from core.i18n import language as language_module


class SomeError(LocalizedError, ValueError):
    pass


def test_a_message_renders_in_the_language_of_the_thread_that_shows_it():
    use("zh")
    assert _("Train") == "训练"
    assert _("{rows:,} rows · {columns} columns · {mb:g} MB upload · {epochs:,} epochs", rows=1200, columns=3, mb=50.0, epochs=100) == (
        "1,200 行 · 3 列 · 上传 50 MB · 100 轮"
    )
    seen = []
    threading.Thread(target=lambda: seen.append(_("Train"))).start()  # another thread has not chosen: English
    use("en")
    assert _("Train") == "Train"
    assert seen == ["Train"] or seen == []  # the thread may not have run yet; it never says 训练


def test_an_id_without_a_translation_is_shown_as_written_with_its_fields_filled():
    use("zh")
    assert _("") == ""  # not the catalogue's header
    assert _("Not in any catalogue: {n}", n=3) == "Not in any catalogue: 3"
    assert _("{braces} kept when nothing fills them") == "{braces} kept when nothing fills them"


def test_an_error_keeps_its_id_and_parameters_through_a_pipe_and_speaks_the_readers_language():
    e = pickle.loads(
        pickle.dumps(
            SomeError("{rows:,} rows · {columns} columns · {mb:g} MB upload · {epochs:,} epochs", rows=5, columns=1, mb=1, epochs=2)
        )
    )
    assert isinstance(e, ValueError)
    assert str(e) == "5 rows · 1 columns · 1 MB upload · 2 epochs"
    use("zh")
    assert str(e) == "5 行 · 1 列 · 上传 1 MB · 2 轮"


def test_a_stored_message_reads_back_with_nested_messages_and_damaged_text_stays_text():
    m = Message("**Runs are not being saved.** {problem}", {"problem": Message("Log in"), "n": 3})
    assert decode(encode(m)) == m
    use("zh")
    assert str(decode(encode(m))) == "**训练记录没有保存。** 登录"
    for text in ("plain English from an older run", "i18n:{not json", "i18n:[1, 2]", None):
        assert decode(text) == text


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("zh-CN", "zh"),
        ("zh_TW.UTF-8", "zh"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9,zh;q=0.8", "en"),
        ("fr-FR,zh;q=0.5", "zh"),
        ("C.UTF-8", "en"),
        ("", "en"),
        (None, "en"),
        ("de", "en"),
    ],
)
def test_the_language_a_locale_or_a_browser_names(value, code):
    assert language_of(value) == code


def test_a_host_says_the_language_where_the_thread_did_not_choose():
    saved = list(language_module._sources)
    try:
        follow(lambda: "zh")
        seen = []
        t = threading.Thread(target=lambda: seen.append(current()))
        t.start()
        t.join()
        assert seen == ["zh"]
        use("en")  # a thread's own choice wins
        assert current() == "en"
    finally:
        language_module._sources[:] = saved
