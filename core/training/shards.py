"""Under torchrun each rank holds only its own rows: a contiguous range of the dataset's, read or drawn by itself.

Rank r of W holds rows [lo, hi) of n. A preset's range is drawn by core.data.presets.make_rows; a CSV of plain
numbers is cut at line starts into W byte ranges (core.data.csv_reader.read_typed_part), and the ranks' row counts,
all-gathered, give each its lo and every rank n. What needs all the rows (the split, the scaler's statistics) is
combined here from numbers the size of a column, so N ranks still reproduce one process's run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from core.data.csv_reader import NO_LIMITS, check_rows, dataset_spec, load_csv
from core.data.csv_typed import read_typed_part
from core.data.dataset import Dataset
from core.data.moments import ColumnStats, column_stats
from core.data.presets import make_rows


@dataclass(frozen=True)
class Rows:
    """This process holds rows [lo, lo + len(its dataset)) of a dataset of n rows; counts: every rank's count of
    rows, in rank order (the CLI's summary shows them: each rank read only its share)."""

    lo: int
    n: int
    counts: tuple[int, ...]


def row_range(n: int, rank: int, world: int) -> tuple[int, int]:
    """Rank's balanced share of n rows: the ranges tile [0, n) in rank order and differ in length by at most one."""
    return n * rank // world, n * (rank + 1) // world


def load_preset_shard(preset: str, n: int, noise: float, seed: int, rank: int, world: int) -> tuple[Dataset, Rows]:
    """This rank's rows of a preset: a rank draws only the blocks of its range (see make_rows)."""
    lo, hi = row_range(n, rank, world)
    return make_rows(preset, n, lo, hi, noise=noise, seed=seed), Rows(lo, n, _counts(n, world))


def load_csv_shard(path: str | os.PathLike, target: str | None, rank: int, world: int) -> tuple[Dataset, Rows]:
    """This rank's rows of a CSV. A file of plain numbers: only this rank's byte range is read. Anything else (text
    cells, empty or bad cells) is read whole by every rank, with load_csv's checks and messages, then sliced; every
    rank takes the same road, since one rank's range may be plain numbers where another's is not."""
    part = read_typed_part(path, rank, world, target)
    if not _all_true(part is not None):
        ds = load_csv(path, target=target, limits=NO_LIMITS)
        lo, hi = row_range(len(ds), rank, world)
        X, y = ds.X.iloc[lo:hi].reset_index(drop=True), ds.y.iloc[lo:hi].reset_index(drop=True)
        return Dataset(X=X, y=y, name=ds.name, description=ds.description, spec=ds.spec), Rows(lo, len(ds), _counts(len(ds), world))
    counts = _all_gather(torch.tensor([float(len(part.y))], dtype=torch.float64)).flatten().long().tolist()
    lo, n = sum(counts[:rank]), sum(counts)
    columns = [*(part.X[c].to_numpy() for c in part.X.columns), part.y.to_numpy()]
    empty = len(part.y) == 0
    lows = _reduced([np.inf if empty else v.min() for v in columns], dist.ReduceOp.MIN)
    highs = _reduced([-np.inf if empty else v.max() for v in columns], dist.ReduceOp.MAX)
    features, target = list(part.X.columns), str(part.y.name)
    check_rows(features, target, n, lows, highs)  # the whole file's checks, on every rank alike
    spec, desc, name = dataset_spec(part.source, features, target, part.delimiter, part.encoding, part.has_header, {"rows": 0})
    return Dataset(X=part.X, y=part.y, name=name, description=desc, spec=spec), Rows(lo, n, tuple(counts))


def _counts(n: int, world: int) -> tuple[int, ...]:
    return tuple(hi - lo for lo, hi in (row_range(n, r, world) for r in range(world)))


def global_stats(X: np.ndarray, y: np.ndarray, rows: np.ndarray | None) -> ColumnStats | None:
    """ColumnStats over every rank's rows (rows: this rank's, None for all of them; None back if no rank has any).

    Each rank's count, mean and covariance are all-gathered and merged as Chan et al.'s parallel variance does,
    Σ n_r (C_r + (m_r − m)(m_r − m)ᵀ) / n: each rank's sums are about its own mean, so no common reference is needed."""
    k = X.shape[1] + 1
    local = np.zeros(1 + k + k * k)
    if (count := len(y) if rows is None else len(rows)) > 0:
        s = column_stats(X, y, rows)
        local[0], local[1 : 1 + k], local[1 + k :] = count, s.mean, s.cov.ravel()
    table = _all_gather(torch.from_numpy(local)).numpy()
    counts, means, covs = table[:, 0], table[:, 1 : 1 + k], table[:, 1 + k :].reshape(-1, k, k)
    n = counts.sum()
    if n == 0:
        return None
    w = counts / n
    mean = w @ means
    dev = means - mean
    cov = np.einsum("r,rij->ij", w, covs) + np.einsum("r,ri,rj->ij", w, dev, dev)
    return ColumnStats(n=int(n), mean=mean, cov=cov)


def _device() -> torch.device:
    """Where collectives run: nccl reduces only CUDA tensors, gloo CPU ones."""
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def _all_gather(t: torch.Tensor) -> torch.Tensor:
    """Every rank's t, stacked in rank order, on the CPU."""
    t = t.to(_device())
    out = [torch.empty_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(out, t)
    return torch.stack(out).cpu()


def _reduced(values: list[float], op: dist.ReduceOp) -> np.ndarray:
    t = torch.tensor(values, dtype=torch.float64, device=_device())
    dist.all_reduce(t, op=op)
    return t.cpu().numpy()


def _all_true(flag: bool) -> bool:
    return bool(_reduced([1.0 if flag else 0.0], dist.ReduceOp.MIN)[0])
