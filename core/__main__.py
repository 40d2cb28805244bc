"""Headless CLI: `python -m core train ...` and `python -m core env`."""

from __future__ import annotations

import argparse
import json
import math
import sys

from core.config import DEVICES, OPTIMIZERS, ConfigError, TrainConfig
from core.data import PRESETS, DataError, load_csv, make_dataset


def _clean(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None  # JSON has no NaN


def cmd_train(args: argparse.Namespace) -> int:
    from core.trainer import train

    ds = load_csv(args.csv, target=args.target) if args.csv else make_dataset(args.preset, n=args.n, noise=args.noise, seed=args.data_seed)
    cfg = TrainConfig(
        optimizer=args.optimizer,
        lr=args.lr,
        epochs=args.epochs,
        batch_size=args.batch_size,
        standardize=not args.no_standardize,
        test_fraction=args.test_fraction,
        device=args.device,
        seed=args.seed,
    ).validate()

    def on_epoch(row: dict) -> None:
        if args.json:
            print(json.dumps({k: _clean(v) if k != "epoch" else v for k, v in row.items()}), flush=False)
        else:
            test = "" if row["test_loss"] is None else f"  test loss {row['test_loss']:.6g}"
            print(f"Epoch [{row['epoch']}/{cfg.epochs}]  loss {row['train_loss']:.6g}{test}")

    result = train(ds, cfg, on_epoch=on_epoch)
    summary = {
        "summary": True,
        "status": result.status,
        "reason": result.reason,
        "device": result.device,
        "epochs": len(result.history),
        "coef": result.coef,
        "intercept": result.intercept,
        "elapsed_s": round(result.elapsed_s, 4),
        "config": result.config,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{result.status} on {result.device} in {result.elapsed_s:.2f} s. {result.reason}")
        for name, w in result.coef.items():
            print(f"  {name}: {w:.6g}")
        print(f"  intercept: {result.intercept:.6g}")
    return 0 if result.status != "diverged" else 3


def cmd_env(args: argparse.Namespace) -> int:
    if args.smoke:  # one line per step as it finishes; exit 1 if any check failed
        from core.smoke import format_event, run_smoke

        def emit(ev: dict) -> None:
            print(json.dumps(ev) if args.json else format_event(ev), flush=True)

        events = run_smoke(emit, quick=args.quick, compile_check=not args.no_compile)
        failed = [e["step"] for e in events if e.get("status") == "fail"]
        summary = {"summary": True, "status": "fail" if failed else "ok", "failed": failed}
        print(json.dumps(summary) if args.json else ("FAILED: " + ", ".join(failed) if failed else "All checks passed."), flush=True)
        return 1 if failed else 0
    from core.environment import probe

    report = probe()
    print(report.to_json() if args.json else report.to_markdown())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core", description="Descent Lab, headless.")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and print every epoch's loss")
    t.add_argument("--preset", default="house_prices", choices=list(PRESETS))
    t.add_argument("--n", type=int, default=1000, help="rows of preset data")
    t.add_argument("--noise", type=float, default=0.1)
    t.add_argument("--data-seed", type=int, default=0)
    t.add_argument("--csv", help="train on this CSV file instead of a preset")
    t.add_argument("--target", help="the CSV's target column (default: the last)")
    t.add_argument("--optimizer", default="sgd", choices=OPTIMIZERS)
    t.add_argument("--lr", type=float, default=0.01)
    t.add_argument("--epochs", type=int, default=100)
    t.add_argument("--batch-size", type=int, default=None, help="default: full batch")
    t.add_argument("--test-fraction", type=float, default=0.2)
    t.add_argument("--no-standardize", action="store_true")
    t.add_argument("--device", default="auto", choices=DEVICES)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--json", action="store_true", help="one JSON object per epoch, then a summary")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("env", help="report torch, CUDA and GPUs, with verdicts and the pip command that fixes them")
    e.add_argument("--json", action="store_true")
    e.add_argument("--smoke", action="store_true", help="run the smoke test / benchmark instead (allocate, matmul, TFLOP/s, copies)")
    e.add_argument("--quick", action="store_true", help="with --smoke: small sizes, for tests")
    e.add_argument("--no-compile", action="store_true", help="with --smoke: skip the torch.compile check")
    e.set_defaults(func=cmd_env)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
