"""Every session-state key the app uses, in one place."""

from __future__ import annotations

import uuid

import streamlit as st

from core.data import Dataset

SESSION_ID = "session_id"  # owner of this session's jobs
DATA_PARAMS = "data_params"  # dict: preset, n, noise, seed — the dataset every page works on
TRAIN_ERROR = "train_error"  # a refused setting, shown once on the Train page
LIVE = "live"  # dict: the run this session is watching (job_id, cursor, history, status, data params)

DEFAULT_DATA = {"preset": "house_prices", "n": 1000, "noise": 0.1, "seed": 0}


def session_id() -> str:
    if SESSION_ID not in st.session_state:
        st.session_state[SESSION_ID] = uuid.uuid4().hex
    return st.session_state[SESSION_ID]


def data_params() -> dict:
    return st.session_state.setdefault(DATA_PARAMS, dict(DEFAULT_DATA))


def current_dataset() -> Dataset:
    """The dataset every page works on and every run trains on."""
    from ui.cache import dataset

    return dataset(**data_params())
