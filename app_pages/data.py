"""The data every run trains on: a preset, its size, noise and seed."""

import streamlit as st

from core.data import PRESETS
from core.figures import data_figure
from ui import state

st.title("Data")
params = state.data_params()

c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
preset = c1.selectbox("Preset", list(PRESETS), index=list(PRESETS).index(params["preset"]), key="data_preset")
n = c2.number_input("Rows (n)", min_value=10, max_value=100_000, value=params["n"], step=100, key="data_n")
noise = c3.number_input(
    "Noise",
    min_value=0.0,
    max_value=2.0,
    value=params["noise"],
    step=0.05,
    key="data_noise",
    help="Noise spread as a fraction of the signal's spread.",
)
seed = c4.number_input("Seed", min_value=0, max_value=2**31 - 1, value=params["seed"], step=1, key="data_seed")
params.update(preset=preset, n=int(n), noise=float(noise), seed=int(seed))

ds = state.current_dataset()
st.caption(PRESETS[preset].description)

left, right = st.columns([1, 2])
with left:
    st.subheader("Preview")
    st.dataframe(ds.X.assign(**{ds.target: ds.y}).head(200), height=420)
with right:
    st.subheader("Scatter")
    st.plotly_chart(data_figure(ds), key="data_scatter")
