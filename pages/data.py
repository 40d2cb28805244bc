"""Data: choose a preset or upload a CSV, choose the preprocessing, and look at the data before training on it."""

from pathlib import Path

import streamlit as st

from core.data import LIMITS, PRESETS, DataError, coefficients_in_both_units, read_table, split, to_dataset
from core.data.figures import (
    correlation_figure,
    data_figure,
    fit_check_figure,
    histogram_figure,
    one_input,
    scatter3d_figure,
    scatter_matrix_figure,
)
from core.i18n import N_, _, decode
from core.training.optimum import least_squares
from ui import language, state
from ui.text import md, md_list, readable, reads_as

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"
SOURCES = {"preset": N_("Preset"), "csv": N_("CSV file")}
ON_BAD = {"fail": N_("Stop and tell me"), "drop": N_("Drop those rows")}
VIEWS = {"3-D scatter": N_("3-D scatter"), "Scatter matrix": N_("Scatter matrix")}
# tables' columns: core's keys (English, as code and exports read them), labelled in the reader's language when shown
COLUMNS = {
    "parameter": N_("parameter"),
    "original units": N_("original units"),
    "unit": N_("unit"),
    "standardized (z-scores)": N_("standardized (z-scores)"),
    "count": N_("count"),
    "mean": N_("mean"),
    "std": N_("std"),
    "min": N_("min"),
    "max": N_("max"),
}


def still_in_use(error: DataError) -> str:
    return _("{error}\n\nThe previous dataset is still in use.", error=error)


st.title(_("Data"))
st.caption(_("Every page trains on the dataset chosen here, in its original units. It stays chosen when you switch pages."))
choice = st.segmented_control(
    _("Source"),
    list(SOURCES),
    format_func=lambda s: _(SOURCES[s]),
    default=state.data_source(),
    key="data_source_choice",
    required=True,
)


def preset_controls() -> None:
    """Preset, n, noise and seed; the URL carries them so a link rebuilds the same data."""
    params = state.data_params()
    preset_col, rows_col, noise_col, seed_col, degree_col = st.columns([2, 1, 1, 1, 1])
    names = list(PRESETS)
    preset = preset_col.selectbox(
        _("Preset"), names, index=names.index(params["preset"]), format_func=lambda k: _(PRESETS[k].title), key="data_preset"
    )
    n = rows_col.number_input(
        _("Rows (n)"), min_value=10, max_value=LIMITS.max_rows, value=params["n"], step=100, key="data_n",
        help=_("At most {rows:,}.", rows=LIMITS.max_rows),
    )  # fmt: skip
    noise = noise_col.number_input(
        _("Noise"), min_value=0.0, max_value=2.0, value=float(params["noise"]), step=0.05, key="data_noise",
        help=_("Noise spread as a fraction of the signal's spread: 0 puts every point on the curve."),
    )  # fmt: skip
    seed = seed_col.number_input(_("Seed"), min_value=0, max_value=2**31 - 1, value=params["seed"], step=1, key="data_seed")
    params.update(preset=preset, n=int(n), noise=float(noise), seed=int(seed))
    if "degree" in PRESETS[preset].params:
        params["degree"] = int(degree_col.selectbox(_("Degree"), [2, 3], index=[2, 3].index(params["degree"]), key="data_degree"))
    state.use_preset()
    st.query_params.from_dict({**state.url_params(params), **language.in_url()})
    st.caption(
        _(
            "**{title}** · {description} Share this page's URL to rebuild exactly this data.",
            title=_(PRESETS[preset].title),
            description=_(PRESETS[preset].description),
        )
    )


def csv_controls() -> None:
    """Upload or pick an example; choose target, features and what to do with bad rows. Only a valid result replaces the data."""
    st.query_params.from_dict(language.in_url())  # no preset to rebuild; the language stays
    upload_col, example_col = st.columns([3, 2])
    upload = upload_col.file_uploader(_("CSV file (comma, semicolon or tab; UTF-8 or GBK)"), type=["csv", "tsv", "txt"], key="data_upload")
    examples = sorted(p.name for p in EXAMPLES.glob("*.csv"))
    example = example_col.selectbox(
        _("…or an example"), ["—", *examples], key="data_example", help=_("Sources and licences: data/examples/README.md")
    )
    if upload is not None:
        file_key, name, opener = f"upload:{upload.file_id}", upload.name, upload
    elif example != "—":
        file_key, name, opener = f"example:{example}", example, EXAMPLES / example
    else:
        if state.data_source() == "csv":
            ds = state.base_dataset()
            st.info(
                _(
                    "In use: **{name}** ({rows:,} rows; {features} → {target}). Upload a file to replace it.",
                    name=md(ds.spec["csv"]),
                    rows=len(ds),
                    features=md_list(ds.features),
                    target=md(ds.target),
                )
            )
        return
    table = read_once(file_key, opener)
    if table is None:
        return
    st.caption(f"**{name}**: {table.describe()}")
    numeric = table.numeric_columns() or table.columns
    target_col, features_col, bad_rows_col = st.columns([1, 2, 1])
    target = target_col.selectbox(_("Target (y)"), numeric, index=len(numeric) - 1, key=f"data_target:{file_key}")
    candidates = [c for c in table.columns if c != target]
    features = features_col.multiselect(
        _("Features (x)"), candidates, default=[c for c in numeric if c != target], key=f"data_features:{file_key}:{target}"
    )
    on_bad = bad_rows_col.radio(
        _("Rows with empty, text or infinite cells"), list(ON_BAD), format_func=lambda k: _(ON_BAD[k]), key="data_on_bad"
    )
    try:
        ds = to_dataset(table, target=target, features=features, on_bad=on_bad)
    except DataError as e:
        st.error(still_in_use(e))
        return
    old = state.accepted_csv()
    if state.data_source() != "csv" or old is None or (old.spec, len(old)) != (ds.spec, len(ds)):
        state.use_csv(ds)
    if ds.spec["dropped"]["rows"]:
        st.warning(_("{summary} These rows were dropped; {rows:,} remain.", summary=decode(ds.spec["dropped"]["summary"]), rows=len(ds)))


def read_once(file_key: str, source) -> object | None:
    """Read the file once per upload; a refusal is shown and the previous dataset stays."""
    memo = st.session_state.get(state.DATA_TABLE)
    if memo is not None and memo[0] == file_key:
        return memo[1]
    try:
        table = read_table(source)
    except DataError as e:
        st.error(still_in_use(e))
        return None
    st.session_state[state.DATA_TABLE] = (file_key, table)
    return table


before = state.data_fingerprint()  # the sidebar is drawn before this page: a change here needs one more run to reach it
if choice == "csv":
    csv_controls()
else:
    preset_controls()

st.subheader(_("Preprocessing"))
prep = state.data_prep()
standardize_col, test_fraction_col, poly_degree_col = st.columns(3)
prep["standardize"] = standardize_col.toggle(
    _("Standardize (z-score)"), value=prep["standardize"], key="data_standardize",
    help=_("Training sees every feature and the target as z-scores (mean 0, spread 1). Coefficients are mapped back to original units."),
)  # fmt: skip
prep["test_fraction"] = test_fraction_col.slider(
    _("Test fraction"), 0.0, 0.5, value=float(prep["test_fraction"]), step=0.05, key="data_test_fraction",
    help=_("Rows held out (seeded split) and never trained on."),
)  # fmt: skip
prep["poly_degree"] = poly_degree_col.selectbox(
    _("Polynomial features"), [1, 2, 3, 4, 5], index=int(prep["poly_degree"]) - 1, key="data_poly_degree",
    format_func=lambda d: _("none (degree 1)") if d == 1 else _("degree {d}", d=d),
    help=_("Adds x², x·z, … as extra columns; the model stays linear in them."),
)  # fmt: skip

try:
    ds = state.current_dataset()
except DataError as e:  # e.g. too many polynomial columns for this many features
    st.error(str(e))
    prep["poly_degree"] = 1
    ds = state.current_dataset()
if state.data_fingerprint() != before:
    st.rerun()
in_use = {"name": md(state.dataset_label(ds)), "rows": len(ds), "features": md_list(ds.features), "target": md(ds.target)}
if dropped := ds.spec.get("dropped", {}).get("rows"):
    st.caption(_("**In use:** {name}, {rows:,} rows · {features} → {target} · {dropped} bad row(s) dropped", **in_use, dropped=dropped))
else:
    st.caption(_("**In use:** {name}, {rows:,} rows · {features} → {target}", **in_use))


def fit_to_draw() -> tuple[tuple[dict[str, float], float], str]:
    """The last trained model if it was trained on exactly this data, else the least-squares fit on the training rows."""
    live = st.session_state.get(state.LIVE)  # a LiveRun (ui/live_run.py): the Train page's run
    coef = live and (live.result or {}).get("coef")
    if coef and live.dataset.spec == ds.spec and live.dataset.features == ds.features:
        return (coef, live.result["intercept"]), _("trained model (last run)")
    train_rows = split(len(ds), prep["test_fraction"], 0)[0]
    return least_squares(ds, rows=train_rows), _("least-squares fit")


left, right = st.columns([1 + 0.25 * min(len(ds.features), 4), 2])  # wide enough for every column up to the target
with left:
    st.subheader(_("Preview"))
    preview = ds.frame().head(200)
    st.dataframe(
        preview, height=420, width="stretch", column_config={c: st.column_config.NumberColumn(format="localized") for c in preview.columns}
    )  # 645,033.123
with right:
    st.subheader(_("Scatter"))
    x = st.selectbox(_("x axis"), ds.features, key="data_x") if len(ds.features) > 1 else ds.features[0]
    fit, label = fit_to_draw()
    st.plotly_chart(data_figure(ds, x=x, fit=fit, fit_label=label), key="data_scatter")
    if not one_input(ds):
        st.plotly_chart(fit_check_figure(ds, fit, fit_label=label, height=340), key="data_fit_check")
        st.caption(
            _(
                "With {features} features the {fit} is a plane, not a line over one axis: each point is a row, "
                "its actual target against the fit's prediction. On the dashed line they agree.",
                features=len(ds.features),
                fit=label,
            )
        )

summary_tab, coefficients_tab, scatter_3d_tab, histogram_tab, correlation_tab = st.tabs(
    [_("Summary statistics"), _("Coefficients"), _("3-D / scatter matrix"), _("Target histogram"), _("Correlation")]
)
with summary_tab:
    summary = ds.summary().map(readable)  # 4 significant digits with separators: 551,900, not 551915.9844
    formats = {reads_as(COLUMNS, c): st.column_config.NumberColumn(format="%d" if c == "count" else "localized") for c in summary.columns}
    st.dataframe(summary.rename(columns=lambda c: reads_as(COLUMNS, c)), column_config=formats)
with coefficients_tab:
    st.dataframe(
        # the same fit in both units, each column saying which: what users of other tools get wrong most often
        [
            {reads_as(COLUMNS, k): v for k, v in row.items()}
            for row in coefficients_in_both_units(ds, fit, rows=split(len(ds), prep["test_fraction"], 0)[0])
        ],
        hide_index=True,
        column_config={
            reads_as(COLUMNS, k): st.column_config.NumberColumn(format="localized") for k in ("original units", "standardized (z-scores)")
        },
    )
    st.caption(
        _(
            "The {fit} above, in both units. **Original units**: {target} per unit of each feature, what the model means. "
            "**Standardized**: change in the target's z-score per one-σ change of a feature, what an optimizer sees when "
            "Standardize is on. Descent Lab reports original units everywhere unless a column says otherwise.",
            fit=label,
            target=md(ds.target),
        )
    )
with scatter_3d_tab:
    if len(ds.features) < 2:
        st.info(_("One feature: the scatter above shows everything. Pick a dataset with two or more features for a 3-D view."))
    else:
        view = st.radio(
            _("View"), list(VIEWS), format_func=lambda v: _(VIEWS[v]), horizontal=True, key="data_view", label_visibility="collapsed"
        )
        if view == "3-D scatter":
            st.plotly_chart(scatter3d_figure(ds, ds.features[0], ds.features[1]), key="data_3d")
        else:
            st.plotly_chart(scatter_matrix_figure(ds), key="data_matrix")
with histogram_tab:
    st.plotly_chart(histogram_figure(ds), key="data_hist")
with correlation_tab:
    st.plotly_chart(correlation_figure(ds), key="data_corr")
