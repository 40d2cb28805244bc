"""Is this machine ready? torch build, CUDA, and each GPU."""

import pandas as pd
import streamlit as st

from ui.cache import environment_probe

st.title("Environment")
probe = environment_probe()
if not probe.done():

    @st.fragment(run_every=0.5)
    def wait_for_probe() -> None:
        if probe.done():
            st.rerun()
        st.info("Probing torch, CUDA and the GPUs (importing torch takes a few seconds)…")

    wait_for_probe()
    st.stop()

report = probe.result()
if st.button("Probe again", key="env_refresh"):
    environment_probe.clear()
    st.rerun()

cols = st.columns(4)
cols[0].metric("torch", report.torch_version or "not installed")
cols[1].metric("CUDA usable", "yes" if report.cuda_available else "no")
cols[2].metric(
    "torch.version.cuda", report.torch_cuda or "none", help="The CUDA runtime bundled in the torch wheel; none means a CPU-only build."
)
cols[3].metric("Training device", report.training_device)

if report.gpus:
    st.subheader("GPUs")
    gib = 1024**3
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "index": g.index,
                    "name": g.name,
                    "memory used (GiB)": None if g.memory_used_bytes is None else round(g.memory_used_bytes / gib, 2),
                    "memory total (GiB)": None if g.memory_total_bytes is None else round(g.memory_total_bytes / gib, 2),
                }
                for g in report.gpus
            ]
        ),
        hide_index=True,
    )
    if report.driver_version:
        st.caption(f"NVIDIA driver {report.driver_version}")
    if not report.cuda_available:
        st.warning(
            "An NVIDIA GPU is present but this torch cannot use it"
            + (" (it is a CPU-only build)." if not report.torch_cuda else ".")
            + " See the README's GPU section for the install command."
        )
elif report.mps_available:
    st.info("Apple GPU (MPS) is available: training will use it.")
else:
    st.info(
        "**No GPU found — training will use the CPU.** That is a normal setup, not an error: every lesson "
        "and the seed's house-price model train in seconds on a CPU. To use an NVIDIA GPU, install its "
        "driver and a CUDA build of torch (the README's GPU section has the command)."
    )

st.caption(f"Python {report.python} on {report.os}")
for note in report.notes:
    st.caption(note)
