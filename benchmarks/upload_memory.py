"""Peak memory of reading one upload against the file's size: a CSV far over the row cap must be refused
having read little more than the cap, and never held as text, let alone as the csv module's UCS-4 buffer.

    .venv/bin/python benchmarks/upload_memory.py [--rows 10000000]

The file is handed over as Streamlit hands an upload (an in-memory BytesIO, not counted); the peak is
tracemalloc's over core.data.read_table alone, and the process's RSS growth is printed beside it.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data import DataError, read_table  # noqa: E402


def rss_mb() -> float:
    return int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS:")).split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    data = b"x,y\n" + b"1,2\n" * args.rows  # 4 bytes a row: 10M rows ≈ 38 MB, as in the report that found the cost
    t = time.perf_counter()
    outcome = read(data)
    elapsed = time.perf_counter() - t
    before = rss_mb()
    tracemalloc.start()
    read(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"file {len(data) / 2**20:.1f} MB, {args.rows:,} rows: {outcome} in {elapsed:.2f} s")
    print(f"peak allocated while reading {peak / 2**20:.1f} MB = {peak / len(data):.2f} × the file; RSS grew {rss_mb() - before:.0f} MB")


def read(data: bytes) -> str:
    upload = io.BytesIO(data)
    upload.name = "big.csv"
    try:
        read_table(upload)
    except DataError as e:
        return f"refused ({e})"
    return "read"


if __name__ == "__main__":
    main()
