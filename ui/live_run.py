"""The run the Train page watches: one typed record in session state (ui.state.LIVE), filled frame by frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.data import Dataset
from core.i18n import Message
from core.runs import Job, Snapshot
from core.runs.columns import Columns
from core.training import TrainConfig
from core.training.results import RunData, run_data


@dataclass
class LiveRun:
    job_id: str
    config: TrainConfig
    dataset: Dataset
    data: RunData  # its rows, split and scaling, derived once when the page attaches
    mine: bool  # its owner's (this browser's or user's) to pause and stop; anyone else with its link watches read-only
    status: str  # the job's, as of the last frame
    cursor: int = 0  # epochs received: each frame asks only for those after it
    # columnar, as the trainer records, from epoch 1; numpy (NaN: no value), as a long run's Python floats took 32 bytes
    # an epoch and column, for as long as Streamlit keeps a closed tab's session (ui/closed_sessions.py)
    history: Columns = field(default_factory=Columns)
    result: dict[str, Any] | None = None  # the worker's answer, once the run has ended
    error: Message | str = ""  # why it failed: str() says it in the reader's language
    frozen_at: int = 0  # the cursor when "Freeze view" went on: the charts stop there

    @classmethod
    def watch(cls, job: Job, mine: bool) -> LiveRun:
        """A fresh record of a job, which the live view fills from epoch 1."""
        data = run_data(job.source, job.config)
        return cls(job.id, job.config, job.source, data, mine, job.status)

    def absorb(self, snap: Snapshot) -> None:
        """A frame's new epochs, appended, and the job's status, result and error as of now."""
        self.history.extend(snap.rows)
        self.cursor, self.status, self.result, self.error = snap.cursor, snap.status, snap.result, snap.error

    def charted(self, frozen: bool) -> dict[str, np.ndarray]:
        """The epochs to draw: all of them or, while the view is frozen, those that had arrived when it froze (the
        same picture again, so the browser has nothing to redraw)."""
        if not frozen:
            self.frozen_at = self.cursor
            return dict(self.history)
        return {column: values[: self.frozen_at] for column, values in self.history.items()}
