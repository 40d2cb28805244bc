"""How fast the run store reads 100 runs × 10,000 epochs for the Runs page's overlay, and what an append costs.

    .venv/bin/python benchmarks/store_read.py                      # a temporary SQLite file
    .venv/bin/python benchmarks/store_read.py --url postgresql://…  # a PostgreSQL database (its runs are replaced)

Each run is written as a job writes it: ~10 appends a second while it trains (here 100 appends of 100 epochs),
then finish() merges its chunks. Prints one line per measurement; the overlay figure is the "chart read" line.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.runs import RunStore  # noqa: E402

RUNS, EPOCHS, BATCH = 100, 10_000, 100
CHART = ["epoch", "train_loss", "test_loss"]


def batch(start: int, n: int) -> dict[str, list]:
    epochs = list(range(start + 1, start + n + 1))
    return {
        "epoch": epochs,
        "train_loss": [1 / e for e in epochs],
        "test_loss": [1.1 / e for e in epochs],
        "grad_norm": [math.sqrt(1 / e) for e in epochs],
        "lr": [0.01] * n,
        "w:area": [0.001 * e for e in epochs],
        "w:rooms": [0.002 * e for e in epochs],
        "b": [0.5] * n,
    }


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL; default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(args.url or str(Path(tmp) / "bench.db"))
        store.delete([r["id"] for r in store.list_runs(limit=100_000)])
        batches = [batch(s, BATCH) for s in range(0, EPOCHS, BATCH)]
        ids = [f"bench-{i:03d}" for i in range(RUNS)]
        append_s = []
        t0 = time.perf_counter()
        for run_id in ids:
            store.create(run_id, "bench", {"optimizer": "sgd", "lr": 0.01}, {"preset": "house_prices"})
            store.set_status(run_id, "running")
            for b in batches:
                t = time.perf_counter()
                store.append(run_id, b)
                append_s.append(time.perf_counter() - t)
            store.finish(run_id, "completed", {"device": "cpu", "elapsed_s": 1.0})
        write_s = time.perf_counter() - t0

        chart = best_of(lambda: store.histories(ids, CHART))
        full = best_of(lambda: store.histories(ids))
        listing = best_of(lambda: store.list_runs())
        n = sum(len(h["epoch"]) for h in store.histories(ids, CHART).values())
        assert n == RUNS * EPOCHS, n
        print(f"store: {store.display_url.split('://')[0]}; {RUNS} runs × {EPOCHS:,} epochs, 8 columns")
        p99 = sorted(append_s)[len(append_s) * 99 // 100]
        print(f"append ({BATCH} epochs): median {statistics.median(append_s) * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms")
        print(f"writing all runs: {write_s:.1f} s")
        print(f"chart read (epoch, train_loss, test_loss of {RUNS} runs): {chart * 1e3:.0f} ms")
        print(f"full read (all 8 columns): {full * 1e3:.0f} ms")
        print(f"list_runs ({RUNS} rows): {listing * 1e3:.1f} ms")
        store.delete(ids)
        store.close()


if __name__ == "__main__":
    main()
