"""DataError and the dropped-rows summary in both languages: a message id with its parameters, rendered by the reader."""

import io
import pickle

import pytest

from core.data import DataError, load_csv, make_dataset, read_table
from core.i18n import decode, use

BAD = "x,y\n1,2\n2,oops\n3,5\n4,9\n5,8\n"


def test_a_bad_cell_is_named_in_the_readers_language_with_what_the_person_typed_as_parameters():
    with pytest.raises(DataError) as err:
        load_csv(io.StringIO(BAD))
    e = err.value
    assert isinstance(e, ValueError) and e.message.id == "{summary} Fix the file, or choose to drop these rows."
    english = str(e)
    assert "line 3 column 'y' ('oops', non-numeric)" in english
    use("zh")
    assert str(e) == "有 1 行含有不能用作数字的单元格（1 个非数字）：第 3 行 'y' 列（'oops'，非数字）。请修正文件，或选择丢弃这些行。"
    use("en")
    assert str(e) == english


def test_a_data_error_crosses_a_process_with_its_parameters_and_reads_in_the_receivers_language():
    with pytest.raises(DataError) as err:
        read_table(io.StringIO("x,x\n1,2\n3,4\n5,6\n"))
    back = pickle.loads(pickle.dumps(err.value))
    assert type(back) is DataError and back.message == err.value.message
    assert dict(back.message.params) == {"name": "x", "first": 1, "second": 2}
    assert str(back) == "The column name 'x' appears twice (columns 1 and 2); rename one and upload again."
    use("zh")
    assert str(back) == "列名 'x' 出现了两次（第 1 列和第 2 列）；请重命名其中一列后重新上传。"


def test_the_dropped_rows_summary_is_kept_as_a_message_any_reader_can_read():
    ds = load_csv(io.StringIO(BAD), on_bad="drop")
    stored = ds.spec["dropped"]["summary"]
    assert isinstance(stored, str) and stored.startswith("i18n:")  # JSON, as the run store keeps a message
    assert str(decode(stored)).startswith("1 row(s) have cells that are not usable numbers (1 non-numeric)")
    use("zh")
    assert str(decode(stored)).startswith("有 1 行含有不能用作数字的单元格（1 个非数字）")


def test_preset_errors_and_the_preset_titles_translate_but_the_keys_and_columns_stay():
    use("zh")
    with pytest.raises(DataError) as err:
        make_dataset("nope")
    assert str(err.value).startswith("未知的预设 'nope'；可选的预设有：house_prices, ")
    ds = make_dataset("house_prices", n=10)
    assert ds.name == "house_prices" and ds.features == ["area_m2", "rooms"] and ds.target == "price"
    from core.data import PRESETS
    from core.i18n import _

    assert _(PRESETS["house_prices"].title) == "房价" and "原始教程" in _(PRESETS["house_prices"].description)
    assert ds.description == PRESETS["house_prices"].description  # English in the dataset: a cache may share it
