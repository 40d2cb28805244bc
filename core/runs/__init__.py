"""Runs: training jobs in warm worker processes, and every run kept in the run store."""

from core.runs.job import FINAL, Job, JobPolicy, Snapshot
from core.runs.manager import JobManager
from core.runs.store import RunStore, StoreError

__all__ = ["FINAL", "Job", "JobManager", "JobPolicy", "RunStore", "Snapshot", "StoreError"]
