"""The Train page's record of the run it watches: every epoch once, in order, held as numpy columns."""

import numpy as np

from core.data import make_dataset
from core.runs import Snapshot
from core.training import TrainConfig
from core.training.export import history_csv
from core.training.results import run_data
from ui.live_run import LiveRun


def frame(since: int, n: int) -> Snapshot:
    epochs = list(range(since + 1, since + n + 1))
    rows = {"epoch": epochs, "train_loss": [1.0 / e for e in epochs], "test_loss": [None] * n}  # as manager.snapshot
    return Snapshot("job", "running", rows, since + n, since + n, 10_000, None, None, "", 0.0, None)


def test_frames_append_to_numpy_columns_that_chart_and_export_as_the_lists_did():
    ds, cfg = make_dataset("house_prices", n=50), TrainConfig(epochs=10_000)
    live = LiveRun("job", cfg, ds, run_data(ds, cfg), mine=True, status="queued")
    live.absorb(frame(0, 0))  # queued: no epochs yet
    assert len(live.history["epoch"]) == 0
    for since in range(0, 1200, 300):
        live.absorb(frame(since, 300))
    assert live.cursor == 1200 and live.history["epoch"].tolist() == list(range(1, 1201))
    assert live.history["train_loss"].dtype == np.float64 and np.isnan(live.history["test_loss"]).all()
    shown = live.charted(frozen=False)
    live.absorb(frame(1200, 300))
    assert len(live.charted(frozen=True)["epoch"]) == 1200  # frozen: the epochs that had arrived, not the new ones
    assert len(shown["epoch"]) == 1200 and len(live.charted(frozen=False)["epoch"]) == 1500
    csv = history_csv(live.history).splitlines()
    assert csv[0] == "epoch,train_loss,test_loss" and csv[2] == "2,0.5,"  # no test loss: an empty cell, as None gave
