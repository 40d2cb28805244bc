"""The words CSS puts over Streamlit's own: our catalogue's text, never markup or an escape from the CSS string."""

from ui.language import _css


def test_css_content_keeps_chinese_and_escapes_everything_that_could_end_the_string():
    assert _css("每个文件最多 50 MB · CSV、TSV、TXT") == "每个文件最多 50 MB · CSV、TSV、TXT"
    escaped = _css('a"b;}</style>\\')
    assert not set('";}<>/\\') & set(escaped.replace("\\", ""))  # only CSS escapes remain
    assert escaped.startswith("a\\22 b\\3b \\7d \\3c ")
