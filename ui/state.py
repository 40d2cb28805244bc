"""Every session-state key the app uses, in one place."""

from __future__ import annotations

import streamlit as st

from core.data import LIMITS, PRESETS, DataError, Dataset, make_dataset, polynomial_features
from core.i18n import _

DATA_PARAMS = "data_params"  # dict: preset, n, noise, seed, degree — the preset, when the source is a preset
DATA_SOURCE = "data_source"  # "preset" or "csv": which of the two every page works on
DATA_CSV = "data_csv"  # Dataset: the last accepted upload; a rejected one never lands here
DATA_TABLE = "data_table"  # (file key, Table): the upload being set up, read once rather than every rerun
DATA_PREP = "data_prep"  # dict: standardize, test_fraction, poly_degree — preprocessing every run uses
DATA_EXPANDED = "data_expanded"  # ((id of the CSV Dataset, degree), Dataset): polynomial features of an upload, made once
TRAIN_ERROR = "train_error"  # a refused setting, shown once on the Train page
LIVE = "live"  # LiveRun (ui/live_run.py): the run this session is watching, filled frame by frame
TRAIN_LOG = "train_log"  # bool: the Train page's loss chart on a log scale (a toggle)
TRAIN_FREEZE = "train_freeze"  # bool: the Train page's charts stop redrawing while training goes on (a toggle)
PENDING_CONFIG = "pending_config"  # dict: TrainConfig.to_dict() chosen on the Runs page; the Train page loads it once
PENDING_START = "pending_start"  # bool: with PENDING_CONFIG, start that run at once ("Run again")
HOME_GO = "home_go"  # str: the page a Home button chose, switched to once its callback has set things up
SHARED_RUNS = "shared_runs"  # set[str]: runs this session opened through someone's link; listed, view only, on Runs
RUNS_DELETE = "runs_delete"  # list[str]: run ids awaiting the user's delete confirmation on the Runs page

DEFAULT_DATA = {"preset": "house_prices", "n": 1000, "noise": 0.1, "seed": 0, "degree": 3}
DEFAULT_PREP = {"standardize": True, "test_fraction": 0.2, "poly_degree": 1}


def data_params() -> dict:
    """The preset's parameters; a session's first visit takes them from the URL (?preset=sine&n=500&seed=3)."""
    if DATA_PARAMS not in st.session_state:
        st.session_state[DATA_PARAMS] = params_from_url(st.query_params.to_dict()) or dict(DEFAULT_DATA)
    return st.session_state[DATA_PARAMS]


def params_from_url(query: dict[str, str]) -> dict | None:
    """Preset parameters from query parameters, or None when there are none or they do not build a dataset."""
    if "preset" not in query:
        return None
    try:
        params = {
            "preset": query["preset"],
            "n": int(query.get("n", DEFAULT_DATA["n"])),
            "noise": float(query.get("noise", DEFAULT_DATA["noise"])),
            "seed": int(query.get("seed", DEFAULT_DATA["seed"])),
            "degree": int(query.get("degree", DEFAULT_DATA["degree"])),
        }
        if not 10 <= params["n"] <= LIMITS.max_rows:
            return None
        make_dataset(**_preset_args(params), n=2)  # validates preset, noise and degree without building n rows
    except (ValueError, DataError):
        return None
    return params


def url_params(params: dict) -> dict[str, str]:
    """The query parameters that rebuild this preset: what the Data page writes into the URL."""
    args = _preset_args(params)
    return {k: str(v) for k, v in {**args, "n": params["n"]}.items()}


def data_prep() -> dict:
    """The Data page's preprocessing: standardize (bool), test_fraction (float), poly_degree (int, 1 = none)."""
    return st.session_state.setdefault(DATA_PREP, dict(DEFAULT_PREP))


def data_source() -> str:
    return "csv" if st.session_state.get(DATA_SOURCE) == "csv" and DATA_CSV in st.session_state else "preset"


def use_csv(ds: Dataset) -> None:
    """Make an accepted upload the session's dataset."""
    st.session_state[DATA_CSV] = ds
    st.session_state[DATA_SOURCE] = "csv"


def use_preset() -> None:
    st.session_state[DATA_SOURCE] = "preset"


def use_run_data(data: dict) -> None:
    """A run's data becomes the session's where its parameters rebuild it (a preset); an upload's cannot."""
    if "preset" in data:
        st.session_state[DATA_PARAMS] = {**DEFAULT_DATA, **{k: data[k] for k in DEFAULT_DATA if k in data}}
        use_preset()


def accepted_csv() -> Dataset | None:
    """The last accepted upload, whether or not it is the data in use."""
    return st.session_state.get(DATA_CSV)


def data_fingerprint() -> tuple:
    """What the sidebar shows of the data; it is drawn before the page, so a change needs one more run to reach it."""
    return (data_source(), tuple(data_params().items()), id(accepted_csv()), data_prep()["poly_degree"])


def dataset_label(ds: Dataset) -> str:
    """What a person reads for the data: a preset's title in their language ("House prices", 房价), an upload's file
    name. ds.name stays the preset's key: runs, URLs and exported scripts name the data by it."""
    preset = PRESETS.get(ds.spec.get("preset", "")) if "csv" not in ds.spec else None
    return _(preset.title) if preset is not None and preset.name == ds.name else ds.name


def base_dataset() -> Dataset:
    """The chosen data before polynomial features: the accepted upload, or the preset."""
    if data_source() == "csv":
        return st.session_state[DATA_CSV]
    return _preset_dataset(**_preset_args(data_params()), n=data_params()["n"], poly_degree=1)


def current_dataset() -> Dataset:
    """The dataset every page works on and every run trains on: original units, polynomial features if chosen."""
    degree = int(data_prep()["poly_degree"])
    if data_source() == "preset":
        return _preset_dataset(**_preset_args(data_params()), n=data_params()["n"], poly_degree=degree)
    base = st.session_state[DATA_CSV]
    key = (id(base), degree)
    memo = st.session_state.get(DATA_EXPANDED)
    if memo is None or memo[0] != key:
        memo = st.session_state[DATA_EXPANDED] = (key, polynomial_features(base, degree))
    return memo[1]


def _preset_args(params: dict) -> dict:
    """preset, noise, seed and the preset's own parameters (degree for polynomial); n is passed apart."""
    args = {"preset": params["preset"], "noise": float(params["noise"]), "seed": int(params["seed"])}
    if "degree" in PRESETS.get(params["preset"], PRESETS["house_prices"]).params:
        args["degree"] = int(params.get("degree", DEFAULT_DATA["degree"]))
    return args


@st.cache_data(max_entries=32, show_spinner=False)
def _preset_dataset(preset: str, n: int, noise: float, seed: int, poly_degree: int, **params: int) -> Dataset:
    return polynomial_features(make_dataset(preset, n=n, noise=noise, seed=seed, **params), poly_degree)


# gradient-descent classroom (pages/descent.py)
DESCENT_LESSON = "descent_lesson"  # str: the chosen lesson's key (a selectbox)
DESCENT_RUN = "descent_run"  # core.classroom.lessons.LessonRun: the lanes on screen, their jobs and, once ended, their records
DESCENT_STEP = "descent_step"  # int: the epoch every view shows (the timeline slider's key)
DESCENT_VIEW = "descent_view"  # str: "play" (animated in the browser) or "step" (one epoch, the equation)
DESCENT_SPEED = "descent_speed"  # int: epochs per second while playing
DESCENT_LR = "descent_lr"  # float: the learning rate of a one-lane lesson (number input)
DESCENT_FOCUS = "descent_focus"  # int: the lane drawn large in a race
DESCENT_AXES = "descent_axes"  # str: the two parameters the surface is drawn over, for more than one feature
DESCENT_3D = "descent_3d"  # bool: 3-D surface instead of contours
DESCENT_PROJECTOR = "descent_projector"  # bool: large fonts and lines, fewer controls
DESCENT_SHARED = "descent_shared"  # dict: settings read from the URL on the session's first visit that wait for the run (lr, step)

# environment check (pages/environment.py)
ENV_SMOKE = "env_smoke"  # SmokeProcess: this session's smoke test child

# admin view (pages/admin.py)
ADMIN_OK = "admin_ok"  # bool: this session gave the admin password
ADMIN_PASSWORD = "admin_password"  # str: the password field's key; cleared once checked, never kept

# class mode (pages/class_mode.py): who controls a class is the registry's business (ui/classes.py), never the session's
CLASS_CODE = "class_code"  # str: the class this session is in (as teacher or student); also in the URL as ?code=
CLASS_ERROR = "class_error"  # str: a refused join or submission, shown once
CLASS_PHASE = "class_phase"  # tuple: what the student's form depends on (round, open, revealed, submitted); a change redraws it
CLASS_PROJECTOR = "class_projector"  # bool: the teacher's projector view
CLASS_SCREEN = "class_screen"  # str: the projector's size, a key of pages/class_mode.SCREENS
CLASS_HIGHLIGHT = "class_highlight"  # str | None: the lane the teacher draws thick
