"""The Data page through AppTest: presets, uploads good and bad, preprocessing, and the dataset other pages get."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.data import PRESETS

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "ui" / "app.py")
GOOD = b"area_m2;rooms;price\n50;2;200000\n80;3;310000\n100;3;350000\n120;4;420000\n150;5;520000\n"


def open_data_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("../pages/data.py")
    return at.run()


def scatter(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def in_use(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith(("**In use:**", "**正在使用：**")))


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.segmented_control(key="data_source_choice").set_value("csv").run()
    at.file_uploader(key="data_upload").set_value((name, content, "text/csv"))
    return at.run()


@pytest.mark.parametrize("preset", ["polynomial", "sine", "with_outliers", "heteroscedastic"])
def test_each_preset_renders_every_view(preset):
    at = open_data_page()
    at.selectbox(key="data_preset").set_value(preset).run()
    assert not at.exception and not at.error
    assert f"{PRESETS[preset].title}," in in_use(at)  # the preset's title; its key stays in the URL
    assert dict(at.query_params)["preset"] in (preset, [preset])  # the URL rebuilds it


def test_a_good_upload_becomes_the_dataset_of_every_page():
    at = upload(open_data_page(), "flats.csv", GOOD)
    assert not at.exception and not at.error
    assert "5 rows · area_m2, rooms → price" in in_use(at)
    assert scatter(at)["data"][0]["y"] == [200000, 310000, 350000, 420000, 520000]
    at.switch_page("../pages/train.py").run()
    assert "**Data:** flats.csv, 5 rows" in at.sidebar.caption[0].value  # the sidebar every page shares, by the file's name


def test_a_bad_upload_shows_an_error_and_keeps_the_previous_dataset():
    at = upload(open_data_page(), "flats.csv", GOOD)
    assert "5 rows" in in_use(at)
    at.file_uploader(key="data_upload").set_value(("broken.csv", b"x,x\n1,2\n3,4\n5,6\n", "text/csv"))
    at.run()
    assert not at.exception
    assert "The column name 'x' appears twice" in at.error[0].value and "previous dataset is still in use" in at.error[0].value
    assert "5 rows · area_m2, rooms → price" in in_use(at)


def test_bad_rows_fail_by_default_and_drop_on_request():
    at = upload(open_data_page(), "gaps.csv", b"x,y\n1,2\n2,oops\n3,5\n4,9\n5,8\n")
    assert "line 3 column 'y' ('oops', non-numeric)" in at.error[0].value
    assert "House prices" in in_use(at)  # nothing accepted yet: the preset stays
    at.radio(key="data_on_bad").set_value("drop").run()
    assert not at.error and "These rows were dropped; 4 remain." in at.warning[0].value
    assert "4 rows" in in_use(at) and "1 bad row(s) dropped" in in_use(at)


def test_an_example_file_loads():
    at = open_data_page()
    at.segmented_control(key="data_source_choice").set_value("csv").run()
    at.selectbox(key="data_example").set_value("house_prices_zh_synthetic_gbk.csv").run()
    assert not at.exception and not at.error
    assert "面积_m2, 房间数 → 价格" in in_use(at)


def test_preprocessing_choices_reach_data_prep_and_polynomial_columns_are_named():
    at = open_data_page()
    at.selectbox(key="data_preset").set_value("linear_1d").run()
    at.toggle(key="data_standardize").set_value(False)
    at.slider(key="data_test_fraction").set_value(0.3)
    at.selectbox(key="data_poly_degree").set_value(3).run()
    assert not at.exception
    assert at.session_state["data_prep"] == {"standardize": False, "test_fraction": 0.3, "poly_degree": 3}
    assert "x, x^2, x^3 → y" in in_use(at)
    coef = at.dataframe[2].value  # preview, summary, coefficients
    assert list(coef["parameter"]) == ["x", "x^2", "x^3", "intercept"] and list(coef["unit"])[:2] == ["y per x", "y per x^2"]


def test_the_url_rebuilds_a_preset():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(preset="polynomial", n="321", noise="0.3", seed="7", degree="2")
    at.run()
    at.switch_page("../pages/data.py").run()
    assert at.session_state["data_params"] == {"preset": "polynomial", "n": 321, "noise": 0.3, "seed": 7, "degree": 2}
    assert len(scatter(at)["data"][0]["y"]) == 321


def test_the_dataset_persists_across_page_switches():
    at = open_data_page()
    at.selectbox(key="data_preset").set_value("sine").run()
    at.switch_page("../pages/train.py").run()
    at.switch_page("../pages/data.py").run()
    assert "A sine wave," in in_use(at) and at.selectbox(key="data_preset").value == "sine"


def test_numbers_read_as_people_read_them_and_a_fit_over_two_features_is_prediction_against_actual():
    at = open_data_page()  # house prices: area and rooms
    summary = next(d for d in at.dataframe if "mean" in d.value.columns)
    price_mean = summary.value.loc["price", "mean"]
    assert price_mean == float(f"{price_mean:.4g}")  # 4 significant digits: 551,900, never 551915.9844
    formats = json.loads(summary.proto.columns)
    assert formats["mean"]["type_config"]["format"] == "localized"  # with thousands separators
    preview = at.dataframe[0]
    assert json.loads(preview.proto.columns)["price"]["type_config"]["format"] == "localized"
    check = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert check["layout"]["xaxis"]["title"]["text"] == "actual price" and check["data"][1]["name"] == "prediction = actual"
    assert any("is a plane, not a line" in c.value for c in at.caption)


# ---------------------------------------------------------------- in Chinese, past the first open


def chinese_data_page() -> AppTest:
    from tests.app.test_chinese import open_in_chinese

    return open_in_chinese("data")


def test_the_page_in_chinese_through_presets_views_and_preprocessing(chinese):
    from tests.app.test_chinese import KEPT
    from tests.app.words import english, texts

    at = chinese_data_page()
    assert at.title[0].value == "数据" and "房价," not in in_use(at) and "房价，" in in_use(at)
    at.radio(key="data_view").set_value("Scatter matrix").run()  # the value stays English; the label is Chinese
    assert not at.exception and english(texts(at), KEPT) == []
    at.selectbox(key="data_preset").set_value("polynomial").run()  # the Degree picker appears
    at.selectbox(key="data_poly_degree").set_value(2).run()
    assert not at.exception and not at.error
    assert "多项式曲线" in in_use(at) and at.selectbox(key="data_preset").value == "polynomial"  # the key is unchanged
    assert "预设" in [s.label for s in at.selectbox] and english(texts(at), KEPT) == []
    assert list(at.dataframe[2].value.columns)[:2] == ["参数", "原始单位"]  # core's keys, labelled for the reader
    at.selectbox(key="data_preset").set_value("sine").run()
    assert english(texts(at), KEPT) == []
    query = {k: at.query_params[k] for k in at.query_params}
    assert query.get("preset") in ("sine", ["sine"]) and query.get("lang") in ("zh", ["zh"])  # the preset link keeps the language


def test_a_bad_csv_says_what_is_wrong_in_chinese_and_dropping_the_rows_too(chinese):
    from tests.app.test_chinese import KEPT
    from tests.app.words import english, texts

    at = chinese_data_page()
    at.segmented_control(key="data_source_choice").set_value("csv").run()
    assert at.query_params.get("lang") in ("zh", ["zh"]) and "preset" not in at.query_params  # no preset link; the language stays
    at.file_uploader(key="data_upload").set_value(("gaps.csv", b"x,y\n1,2\n2,oops\n3,5\n4,9\n5,8\n", "text/csv"))
    at.run()
    assert not at.exception
    error = at.error[0].value
    assert "第 3 行 'y' 列（'oops'，非数字）" in error and "仍在使用之前的数据集。" in error, error
    assert english(texts(at), [*KEPT, "oops"]) == []  # the cell as the person typed it is the only English left
    at.radio(key="data_on_bad").set_value("drop").run()
    assert not at.error and "这些行已被丢弃，还剩 4 行。" in at.warning[0].value
    assert "已丢弃 1 行坏数据" in in_use(at) and english(texts(at), [*KEPT, "oops", "gaps"]) == []
    at.file_uploader(key="data_upload").set_value(("broken.csv", b"x,x\n1,2\n3,4\n5,6\n", "text/csv"))
    at.run()  # a malformed file: the reader refuses it before any column is picked
    assert "列名 'x' 出现了两次（第 1 列和第 2 列）" in at.error[0].value and "4 行" in in_use(at)
    assert english(texts(at), [*KEPT, "gaps"]) == []
