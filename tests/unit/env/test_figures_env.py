"""The GPU history charts: plain dicts, a line per GPU, x in seconds before the newest sample."""

import json
import math

from core.env.figures import GPU_METRICS, gpu_history_figure


def test_gpu_history_figure_has_a_line_per_gpu_ending_at_zero():
    history = {
        0: {
            "t": [100.0, 101.0, 102.0],
            "util": [10, 50, 90],
            "mem": [1.0, 2.0, 3.0],
            "temp": [40, 41, 42],
            "power": [100.0, None, math.nan],
        },
        1: {"t": [101.0, 102.0], "util": [5, 6], "mem": [1.0, 1.0], "temp": [30, 31], "power": [50.0, 51.0]},
    }
    for metric in GPU_METRICS:
        fig = gpu_history_figure(history, metric)
        json.dumps(fig)  # plain data, no NaN surprises for the browser beyond None
        assert [t["name"] for t in fig["data"]] == ["GPU 0", "GPU 1"]
        assert fig["data"][0]["x"] == [-2.0, -1.0, 0.0]
    assert gpu_history_figure(history, "power")["data"][0]["y"] == [100.0, None, None]
    assert gpu_history_figure(history, "util")["layout"]["yaxis"]["range"] == [0, 100]


def test_gpu_history_figure_with_no_history_is_empty():
    assert gpu_history_figure({}, "util")["data"] == []
