"""The cheap chart path must put exactly our figure in front of the browser, as st.plotly_chart(dict) would."""

import json

from streamlit.testing.v1 import AppTest


def script():
    import streamlit as st

    from core.training.figures import loss_figure
    from ui.charts import plotly_chart

    fig = loss_figure({"epoch": [1, 2, 3], "train_loss": [3.0, 2.0, 1.0], "test_loss": [3.5, 2.5, None]}, target="price")
    plotly_chart(fig, key="fast")
    st.plotly_chart(fig, key="validated")


def test_the_fast_path_sends_the_same_figure_as_the_validated_one():
    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.exception
    fast, validated = (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
    assert fast["data"] == validated["data"]
    assert fast["layout"]["yaxis"]["title"]["text"] == validated["layout"]["yaxis"]["title"]["text"] == "MSE (price²)"
