"""Peak memory and wall time of `python -m core train` under torchrun with 2 ranks, on a preset and on a CSV of
10M rows: what each rank reading only its own shard of the rows saves.

    .venv/bin/python benchmarks/shards.py [--n 10000000] [--repeat 2] [--root DIR] [--csv /tmp/shards_10m.csv]

--root runs the code of another checkout (e.g. a copy of the commit before the shards, for the "before" figures).
Each rank records its own peak RSS (getrusage ru_maxrss at exit) and how long the CLI's main() took (load, prepare,
train: "in ranks", the slower rank's) in a file; wall time is torchrun's whole run, ~5 s of it starting Python and
torch twice. On a shared 2-core machine alternate the two codes (--cases, --no-header) rather than run one after the
other: the load of the moment moves every figure.
The CSV is written once (house_prices, --n rows, 6 decimals: 337 MB at 10M) and reused. "floor" is a 1,000-row
preset: the interpreter, torch and gloo, what a rank costs with no data to speak of.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_main(argv: list[str]) -> int:
    """Inside one rank: run the CLI, then write this process's peak RSS where the parent reads it."""
    sys.path.insert(0, os.getcwd())
    from core.__main__ import main

    t = time.perf_counter()
    code = main(argv)
    main_s = time.perf_counter() - t  # load, prepare and train, without the interpreter's and torch's start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    out = Path(os.environ["SHARDS_OUT"]) / f"rank{os.environ.get('RANK', '0')}.json"
    out.write_text(json.dumps({"rank": int(os.environ.get("RANK", 0)), "peak_mb": peak_mb, "main_s": main_s}))
    return code


def write_csv(path: Path, n: int, root: Path) -> None:
    sys.path.insert(0, str(root))
    from core.data.presets import make_dataset

    ds = make_dataset("house_prices", n=n, seed=0)
    ds.frame().to_csv(path, index=False, float_format="%.6f")


def run_once(root: Path, data_args: list[str], epochs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SHARDS_OUT": tmp, "OMP_NUM_THREADS": "1"}
        # "--": torchrun's parser would read the CLI's --n as an ambiguous abbreviation of its own options
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", str(free_port())]
        cmd += ["--", str(Path(__file__).resolve()), "--rank-main", "train", *data_args, "--epochs", str(epochs), "--device", "cpu"]
        t = time.perf_counter()
        out = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t
        if out.returncode != 0:
            raise SystemExit(out.stderr[-3000:])
        ranks = sorted((json.loads(p.read_text()) for p in Path(tmp).glob("rank*.json")), key=lambda r: r["rank"])
    last = [line for line in out.stdout.splitlines() if line.strip()][-3:]
    return {"wall_s": wall, "peak_mb": [r["peak_mb"] for r in ranks], "main_s": max(r["main_s"] for r in ranks), "tail": last}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--rank-main":
        sys.exit(rank_main(sys.argv[2:]))
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--csv", type=Path, default=Path("/tmp/shards_10m.csv"))
    parser.add_argument("--label", default="")
    parser.add_argument("--cases", default="floor,preset,csv", help="which of floor, preset, csv, comma-separated")
    parser.add_argument("--no-header", action="store_true")
    args = parser.parse_args()
    if not args.csv.exists():
        write_csv(args.csv, args.n, args.root)
    cases = {
        "floor": ["--preset", "house_prices", "--n", "1000"],  # the interpreter, torch and gloo: what no data costs
        "preset": ["--preset", "house_prices", "--n", str(args.n)],
        "csv": ["--csv", str(args.csv)],
    }
    if not args.no_header:
        print(f"{'code':<10} {'data':<7} {'try':>3} {'wall s':>8} {'in ranks s':>10} {'rank 0 peak MB':>15} {'rank 1 peak MB':>15}")
    for name, data_args in ((k, v) for k, v in cases.items() if k in args.cases.split(",")):
        for i in range(args.repeat):
            r = run_once(args.root, data_args, args.epochs)
            peaks = f"{r['peak_mb'][0]:>15.0f} {r['peak_mb'][1]:>15.0f}"
            print(f"{args.label:<10} {name:<7} {i + 1:>3} {r['wall_s']:>8.2f} {r['main_s']:>10.2f} {peaks}", flush=True)


if __name__ == "__main__":
    main()
