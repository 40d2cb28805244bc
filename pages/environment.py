"""Is this machine ready? Verdicts with fixes, the pip command, live GPU cards, a smoke test, the report to paste.

The report comes from a child process (torch stays out of the server); the live cards read NVML in the server
(ctypes only, no torch) through one shared sampler. DESCENT_FAKE_GPU=1 shows a fake H100 (tests, screenshots).
"""

import pandas as pd
import streamlit as st

from core.env import install_advice, verdicts
from core.env.bug_report import gpu_rows, report_json, report_markdown
from core.env.figures import GPU_METRICS, gpu_history_figure
from core.env.install import NOTES, already_installed
from core.env.nvml import fake_gpu_enabled
from core.env.report import shown
from core.env.smoke import SmokeProcess, format_event, smoke_markdown, steps_and_summary
from core.i18n import _
from ui import state
from ui.cache import environment_probe, gpu_sampler

BOX = {"error": st.error, "warning": st.warning, "info": st.info, "ok": st.success}
ICON = {"error": ":material/error:", "warning": ":material/warning:", "info": ":material/info:", "ok": ":material/check_circle:"}

st.title(_("Environment"))
fake = fake_gpu_enabled()
probe = environment_probe(fake)
if not probe.done():

    @st.fragment(run_every=0.5)
    def wait_for_probe(probe) -> None:
        if probe.done():
            st.rerun()
        st.info(_("Probing torch, CUDA and the GPUs (importing torch takes a few seconds)…"))

    wait_for_probe(probe)
    st.stop()

report = probe.result()
if fake:
    st.caption(":material/science: " + _("DESCENT_FAKE_GPU is set: the GPU below is a fake H100; torch is this machine's real one."))

torch_col, cuda_col, torch_cuda_col, device_col, refresh_col = st.columns([1, 1, 1, 1, 0.9], vertical_alignment="center")
torch_col.metric("torch", report.torch_version or _("not installed"))
cuda_col.metric(_("CUDA usable"), _("yes") if report.cuda_available else _("no"))
torch_cuda_col.metric(
    "torch.version.cuda",
    report.torch_cuda or _("none"),
    help=_("The CUDA runtime bundled in the torch wheel; none means a CPU-only build."),
)
device_col.metric(_("Training device"), report.training_device)
if refresh_col.button(_("Probe again"), key="env_refresh", icon=":material/refresh:"):
    environment_probe.clear()
    st.rerun()

st.subheader(_("Verdicts"))
for v in verdicts(report):
    text = f"**{v.title}**" + (f"  \n{v.detail}" if v.detail else "") + ("  \n" + _("**Fix:** `{fix}`", fix=v.fix) if v.fix else "")
    BOX[v.severity](text, icon=ICON[v.severity])

st.subheader(_("Install torch"))
for a in install_advice(report):
    st.markdown(f"**torch {a.torch_version}** · {a.label}" + (" · " + _("wheel tag `{tag}`", tag=a.tag) if a.tag else ""))
    if already_installed(report, a):
        st.success(
            _("Already right: this is the torch installed here ({version}). Nothing to do.", version=report.torch_version),
            icon=":material/check:",
        )
        continue
    st.code(a.command, language="bash")
    st.caption(_("Why: {why}", why=a.why))
for note in NOTES:
    st.caption(":material/lightbulb: " + _(note))

if report.gpus:
    st.subheader("GPUs")
    st.caption(
        _(
            "NVIDIA driver {driver} · supports CUDA up to {cuda}",
            driver=report.driver_version or "N/A",
            cuda=report.cuda_driver_version or "N/A",
        )
        + ("" if report.gpus_from == "nvml" else " · " + _("listed through torch (NVML unavailable)"))
    )

    @st.fragment(run_every=1.5)
    def live_gpus(fake: bool) -> None:
        """Cards and history charts, refreshed every 1.5 s without rerunning the rest of the page."""
        sampler = gpu_sampler(fake)
        gpus, history = sampler.sample()
        if not gpus:
            reason = _(sampler.error) if sampler.error else _("NVML lists no GPU")
            st.caption(_("Live readings unavailable: {reason}. The table below is from the probe.", reason=reason))
            return
        card_cols = st.columns(min(len(gpus), 3))
        for n, g in enumerate(gpus):
            with card_cols[n % len(card_cols)].container(border=True):  # three GPUs a row
                st.markdown(f"**GPU {g.index}** · {g.name}")
                util_col, memory_col, temperature_col, power_col = st.columns(4)
                util_col.metric(_("utilization"), g.show("utilization_pct", lambda v: f"{v} %"))
                total = g.show("memory_total_bytes", lambda v: f" / {v / 2**30:.0f}")
                memory_col.metric(
                    _("memory (GiB)"), g.show("memory_used_bytes", lambda v: f"{v / 2**30:.1f}") + (total if g.memory_total_bytes else "")
                )
                temperature_col.metric(_("temperature"), g.show("temperature_c", lambda v: f"{v} °C"))
                power_col.metric(_("power"), g.show("power_draw_w", lambda v: f"{v:.0f} W"))
        for chart_col, metric in zip(st.columns(len(GPU_METRICS)), GPU_METRICS):
            chart_col.plotly_chart(gpu_history_figure(history, metric), key=f"env_gpu_{metric}", config={"displayModeBar": False})

    live_gpus(fake)
    for g in report.gpus:
        with st.expander(_("All fields · GPU {index}: {name}", index=g.index, name=g.name)):
            st.dataframe(pd.DataFrame(gpu_rows(g), columns=[_("field"), _("value")]), hide_index=True, width="stretch")

st.subheader(_("Smoke test"))
st.caption(
    _(
        "Runs in a separate process: allocates on each GPU, checks a matmul against the CPU, measures TFLOP/s (fp32, tf32, bf16), "
        "memory bandwidth and host↔device copies, and tries torch.compile. Without a GPU it checks the CPU."
    )
)
proc: SmokeProcess | None = st.session_state.get(state.ENV_SMOKE)
running = proc is not None and not proc.done()
start_col, compile_col, _spacer = st.columns([1, 1.6, 3])
with_compile = compile_col.checkbox(
    _("include torch.compile"), value=True, key="env_smoke_compile", help=_("Compiling takes ~30 s on a small CPU.")
)
if start_col.button(
    _("Stop") if running else _("Run smoke test"), key="env_smoke_start", icon=":material/stop:" if running else ":material/play_arrow:"
):
    if running:
        proc.stop()
    else:
        st.session_state[state.ENV_SMOKE] = proc = SmokeProcess(compile_check=with_compile)
    st.rerun()


@st.fragment(run_every=1.0 if running else None)
def smoke_progress(polling: bool) -> None:
    p: SmokeProcess | None = st.session_state.get(state.ENV_SMOKE)
    if p is None:
        return
    steps, summary = steps_and_summary(p.events())
    if steps:
        st.code("\n".join(format_event(e) for e in steps), language=None)
    if not p.done():
        st.caption(_("Running… {n} step(s) done", n=len(steps)))
    elif summary and summary["status"] == "ok":
        st.success(_("All checks passed."), icon=":material/check_circle:")
    elif summary:
        st.error(_("Failed: {steps}", steps=", ".join(_(step) for step in summary["failed"])), icon=":material/error:")
    else:
        st.warning(_("The smoke test stopped before the end (exit code {code}).", code=p.returncode))
    if p.done() and polling:
        st.rerun()  # stop polling


smoke_progress(running)

st.subheader(_("Report"))
smoke: SmokeProcess | None = st.session_state.get(state.ENV_SMOKE)
md = report_markdown(report)
if smoke is not None and smoke.done():
    md += smoke_markdown(smoke.events())
markdown_col, json_col, _spacer = st.columns([1, 1, 3])
markdown_col.download_button(_("Markdown"), md, "environment.md", "text/markdown", key="env_dl_md", icon=":material/download:")
json_col.download_button("JSON", report_json(report), "environment.json", "application/json", key="env_dl_json", icon=":material/download:")
with st.expander(_("Copy the report (Markdown)")):
    st.code(md, language="markdown")
st.caption(_("Python {python} on {os}", python=report.python, os=report.os))
for note in report.notes:
    st.caption(shown(note))
