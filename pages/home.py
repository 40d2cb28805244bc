"""Home: what Descent Lab is, in a few lines, and three ways in. The page `streamlit run` opens."""

import streamlit as st

from core.classroom.lessons import DEFAULT_LESSON, LESSONS
from core.i18n import _
from ui import navigation, state, train_form


def watch_lesson() -> None:
    """The first lesson, in its Play view: a run of gradient descent, animated on its loss surface."""
    st.session_state[state.DESCENT_LESSON] = DEFAULT_LESSON
    st.session_state[state.DESCENT_VIEW] = "play"
    st.session_state[state.HOME_GO] = "descent"


def train_house_prices() -> None:
    """The seed document's example, started: house prices from area and rooms, SGD at lr 0.01 for 100 epochs."""
    st.session_state[state.DATA_PARAMS] = dict(state.DEFAULT_DATA)
    st.session_state[state.DATA_PREP] = dict(state.DEFAULT_PREP)
    state.use_preset()
    st.session_state[state.PENDING_CONFIG] = train_form.DEFAULT.to_dict()
    st.session_state[state.PENDING_START] = True
    st.session_state[state.HOME_GO] = "train"


def check_gpu() -> None:
    st.session_state[state.HOME_GO] = "environment"


st.title("Descent Lab")
st.markdown(
    _(
        "Train a small model with **PyTorch** and watch every step of **gradient descent**: the loss falling epoch by "
        "epoch, the path the weights take across the loss surface, and the numbers of each update, which you can check "
        "by hand. It also tells you whether this machine's GPU, driver and torch fit together, and what to install if not."
    )
)
st.subheader(_("Start here"), anchor=False)
lesson_col, train_col, gpu_col = st.columns(3)
with lesson_col.container(border=True, height="stretch"):
    st.markdown(
        _(
            "**Watch gradient descent**  \nThe first lesson, *{lesson}*: one feature, one line to fit. Press play and "
            "follow the path to the optimum.",
            lesson=_(LESSONS[DEFAULT_LESSON].title),
        )
    )
    st.button(_("Watch it"), type="primary", key="home_lesson", on_click=watch_lesson, width="stretch", icon=":material/play_arrow:")
with train_col.container(border=True, height="stretch"):
    st.markdown(
        _(
            "**Train the house-price model**  \nThe example this app grew from: price from area (m²) and rooms, plain "
            "SGD, learning rate 0.01, 100 epochs, every epoch's loss live."
        )
    )
    st.button(_("Train it"), key="home_train", on_click=train_house_prices, width="stretch", icon=":material/model_training:")
with gpu_col.container(border=True, height="stretch"):
    st.markdown(
        _(
            "**Check my GPU**  \nIs CUDA usable here, do the driver and torch fit together, and the exact `pip` command "
            "that fixes it if not."
        )
    )
    st.button(_("Check it"), key="home_gpu", on_click=check_gpu, width="stretch", icon=":material/memory:")
st.caption(
    _(
        "Every page is also in the menu on the left: your own data (Data), every setting (Train), your runs (Runs), "
        "and whether a large model fits on your GPUs (Will it fit?)."
    )
)

if go := st.session_state.pop(state.HOME_GO, None):  # after the callback, from the page: st.switch_page reruns the app
    st.switch_page(navigation.path(go))
