"""What training tells a person, in their language: settings refused (ConfigError) and why a run ended (its reason, a
Message that the worker pickles to the server and the store keeps as JSON), read in English or in Chinese."""

import pickle

import pytest

from core.data import make_dataset
from core.i18n import Message, decode, encode, use
from core.training import MAX_EPOCHS, ConfigError, TrainConfig, train
from core.training.figures import loss_figure, predicted_actual_figure


def refused(**settings) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        TrainConfig(**settings).validate()
    return caught.value


def test_a_refused_setting_reads_in_either_language_and_is_still_a_value_error():
    e = refused(epochs=0)
    assert isinstance(e, ValueError)  # the worker and the CLI catch ValueError
    assert str(e) == f"epochs must be a whole number from 1 to {MAX_EPOCHS:,}; got 0."
    use("zh")
    assert str(e) == f"轮数必须是 1 到 {MAX_EPOCHS:,} 之间的整数；当前为 0。"


def test_a_refused_setting_keeps_its_parameters_through_a_pipe():
    e = pickle.loads(pickle.dumps(refused(model="mlp", hidden=(0,))))
    assert isinstance(e, ConfigError) and e.message.params["width"] == 4096
    use("zh")
    assert str(e) == "隐藏层须为 1 到 8 层，每层 1 到 4,096 个单元，例如 (16, 16)；当前为 (0,)。"


def test_a_stop_reason_is_a_message_read_in_the_readers_language():
    calls = []
    result = train(make_dataset("linear_1d", n=50), TrainConfig(epochs=1000), should_stop=lambda: calls.append(1) or len(calls) > 5)
    assert isinstance(result.reason, Message)
    assert str(result.reason) == "Stopped by request after 5 of 1,000 epochs."
    use("zh")
    assert str(result.reason) == "应请求停止，已完成 5 / 1,000 轮。"


def test_a_divergence_reason_survives_the_pipe_and_the_store_and_reads_in_chinese():
    result = train(make_dataset("house_prices", n=200), TrainConfig(lr=1e9, epochs=500))
    assert result.status == "diverged"
    english = str(result.reason)
    assert english.startswith("The loss ") and "with learning rate 1e+09: the steps overshoot." in english
    stored = decode(encode(pickle.loads(pickle.dumps(result.reason))))  # worker → server → run store → a reader
    assert str(stored) == english
    use("zh")
    chinese = str(stored)
    assert chinese.startswith("损失在第 ") and "学习率 1e+09" in chinese and "2/λ_max = " in chinese
    assert "the steps" not in chinese and ("变成了 NaN/inf" in chinese or "增大了一百万倍" in chinese)


def test_an_early_stop_says_so_in_chinese():
    r = train(make_dataset("house_prices", n=300), TrainConfig(lr=0.1, epochs=20_000, early_stopping=20))
    use("zh")
    assert str(r.reason).startswith("在第 ") and "早停" in str(r.reason)


def test_a_figures_words_follow_the_language_its_data_does_not():
    history = {"epoch": [1, 2], "train_loss": [2.0, 1.0], "test_loss": [2.5, 1.5]}
    assert [t["name"] for t in loss_figure(history, target="price")["data"]] == ["train loss", "test loss"]
    use("zh")
    fig = loss_figure(history, target="price")
    assert [t["name"] for t in fig["data"]] == ["训练损失", "测试损失"]
    assert fig["layout"]["yaxis"]["title"]["text"] == "均方误差 MSE（price²）" and fig["layout"]["xaxis"]["title"]["text"] == "轮次"
    scatter = predicted_actual_figure([1.0, 2.0], [1.1, 1.9], [1], "price")
    assert [t["name"] for t in scatter["data"]] == ["训练集的行", "测试集的行", "完全吻合"]
    assert scatter["layout"]["xaxis"]["title"]["text"] == "实际 price"
