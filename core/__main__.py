"""Headless CLI: `python -m core train ...` and `python -m core env`.

It speaks English or Chinese: --lang zh, else the LANG / LC_ALL / LC_MESSAGES of the shell (zh_CN.UTF-8). What a
person reads is translated; --json keys and values meant for programs (statuses, step names) stay English.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import fields

from core.data.csv_reader import NO_LIMITS, load_csv
from core.data.dataset import DataError
from core.data.presets import PRESETS, make_dataset
from core.i18n import LANGUAGES, N_, _, render, use
from core.training import config
from core.training.config import ConfigError, TrainConfig

CHOICES = {
    "model": config.MODELS,
    "activation": config.ACTIVATIONS,
    "optimizer": config.OPTIMIZERS,
    "loss": config.LOSSES,
    "schedule": config.SCHEDULES,
    "init": config.INITS,
    "device": config.DEVICES,
}
STATUS = {"completed": N_("completed"), "stopped": N_("stopped"), "diverged": N_("diverged")}  # a run's status, as the summary says it


def _clean(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None  # JSON has no NaN


def cmd_train(args: argparse.Namespace) -> int:
    from core.training.trainer import train

    if _torchrun():  # one process per rank, rank 0 prints
        import torch.distributed as dist

        backend = "nccl" if args.device in ("cuda", "auto") and _cuda() else "gloo"
        dist.init_process_group(backend)
        if backend == "nccl":
            import torch

            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    quiet = _rank() != 0

    rows = None
    if _world_size() > 1:  # each rank reads or draws only its own range of the rows (core.training.shards)
        from core.training.shards import load_csv_shard, load_preset_shard

        rank, world = _rank(), _world_size()
        if args.csv:
            ds, rows = load_csv_shard(args.csv, args.target, rank, world)
        else:
            ds, rows = load_preset_shard(args.preset, args.n, args.noise, args.data_seed, rank, world)
    elif args.csv:  # no caps here: this machine's memory is the limit (the hosted app's caps are LIMITS)
        ds = load_csv(args.csv, target=args.target, limits=NO_LIMITS)
    else:
        ds = make_dataset(args.preset, n=args.n, noise=args.noise, seed=args.data_seed)
    cfg = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})  # train() validates it

    def on_epoch(row: dict) -> None:
        if quiet:
            return
        if args.json:
            print(json.dumps({k: _clean(v) if k != "epoch" else v for k, v in row.items()}))
        else:
            if row["test_loss"] is None:
                print(_("Epoch [{epoch}/{epochs}]  loss {loss:.6g}", epoch=row["epoch"], epochs=cfg.epochs, loss=row["train_loss"]))
            else:
                print(
                    _(
                        "Epoch [{epoch}/{epochs}]  loss {loss:.6g}  test loss {test_loss:.6g}",
                        epoch=row["epoch"],
                        epochs=cfg.epochs,
                        loss=row["train_loss"],
                        test_loss=row["test_loss"],
                    )
                )

    result = train(ds, cfg, on_epoch=on_epoch, rows=rows)
    summary = {
        "summary": True,
        "status": result.status,
        "reason": str(render(result.reason)),  # a Message in the current language, or text
        "device": result.device,
        "epochs": len(result.history),
        "coef": result.coef,
        "intercept": _clean(result.intercept),
        "elapsed_s": round(result.elapsed_s, 4),
        "config": result.config,
        "world_size": _world_size(),
    }
    if rows is not None:  # how many rows each rank read or drew (its own shard)
        summary["rows_per_rank"] = list(rows.counts)
    if quiet:
        return 0 if result.status != "diverged" else 3
    if args.json:
        print(json.dumps(summary))
    else:
        status = _(STATUS[result.status]) if result.status in STATUS else result.status
        print(
            _(
                "{status} on {device} in {seconds:.2f} s. {reason}",
                status=status,
                device=result.device,
                seconds=result.elapsed_s,
                reason=result.reason,
            )
        )
        for name, w in result.coef.items():
            print(f"  {name}: {w:.6g}")
        if result.intercept is not None:  # an MLP has none
            print("  " + _("intercept: {value:.6g}", value=result.intercept))
    return 0 if result.status != "diverged" else 3


def _torchrun() -> bool:
    """This process is one rank of several that torchrun started."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _rank() -> int:
    import torch.distributed as dist

    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def _world_size() -> int:
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def cmd_env(args: argparse.Namespace) -> int:
    if args.smoke:  # one line per step as it finishes; exit 1 if any check failed
        from core.env.smoke import format_event, run_smoke

        def emit(ev: dict) -> None:
            print(json.dumps(ev) if args.json else format_event(ev), flush=True)

        events = run_smoke(emit, quick=args.quick, compile_check=not args.no_compile)
        failed = [e["step"] for e in events if e.get("status") == "fail"]
        summary = {"summary": True, "status": "fail" if failed else "ok", "failed": failed}
        if args.json:
            print(json.dumps(summary), flush=True)
        else:
            print(_("FAILED: {steps}", steps=", ".join(_(s) for s in failed)) if failed else _("All checks passed."), flush=True)
        return 1 if failed else 0
    from core.env.bug_report import report_json, report_markdown
    from core.env.machine import probe

    report = probe()
    print(report_json(report) if args.json else report_markdown(report))
    return 0


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, typed from its default; tuples are comma-separated (--hidden 32,16)."""
    for f in fields(TrainConfig):
        default, flag = f.default, "--" + f.name.replace("_", "-")
        choices = CHOICES.get(f.name)
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        elif f.name in ("hidden", "init_params"):
            kind = int if f.name == "hidden" else float
            parser.add_argument(flag, type=lambda s, k=kind: tuple(k(v) for v in s.split(",")), default=default, help=_("comma-separated"))
        elif f.name in ("batch_size", "early_stopping"):
            parser.add_argument(flag, type=int, default=default, help=_("default: none"))
        elif f.name == "grad_clip":
            parser.add_argument(flag, type=float, default=default, help=_("default: no clipping"))
        else:
            parser.add_argument(flag, type=type(default), default=default, choices=choices)


def add_lang_flag(parser: argparse.ArgumentParser, default: str | None) -> None:
    parser.add_argument(
        "--lang", choices=list(LANGUAGES), default=default, help=_("language of the output (default: from LANG, else English)")
    )


def language(argv: list[str]) -> str:
    """--lang (before or after the subcommand), else the shell's locale (LC_ALL, LC_MESSAGES, LANG, as gettext reads them)."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return next((os.environ[k] for k in ("LC_ALL", "LC_MESSAGES", "LANG") if os.environ.get(k)), "")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    use(language(argv))  # before the parser is built: its help texts are made in this language
    parser = argparse.ArgumentParser(prog="python -m core", description=_("Descent Lab, headless."))
    add_lang_flag(parser, None)
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help=_("train a model and print every epoch's loss"))
    t.add_argument("--preset", default="house_prices", choices=list(PRESETS))
    t.add_argument("--n", type=int, default=1000, help=_("rows of preset data"))
    t.add_argument("--noise", type=float, default=0.1)
    t.add_argument("--data-seed", type=int, default=0)
    t.add_argument("--csv", help=_("train on this CSV file instead of a preset"))
    t.add_argument("--target", help=_("the CSV's target column (default: the last)"))
    add_config_flags(t)
    t.add_argument("--json", action="store_true", help=_("one JSON object per epoch, then a summary"))
    add_lang_flag(t, argparse.SUPPRESS)  # also accepted after the subcommand; SUPPRESS keeps the top-level value
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("env", help=_("report torch, CUDA and GPUs, with verdicts and the pip command that fixes them"))
    e.add_argument("--json", action="store_true")
    e.add_argument("--smoke", action="store_true", help=_("run the smoke test / benchmark instead (allocate, matmul, TFLOP/s, copies)"))
    e.add_argument("--quick", action="store_true", help=_("with --smoke: small sizes, for tests"))
    e.add_argument("--no-compile", action="store_true", help=_("with --smoke: skip the torch.compile check"))
    add_lang_flag(e, argparse.SUPPRESS)
    e.set_defaults(func=cmd_env)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, DataError) as err:
        print(_("error: {message}", message=err), file=sys.stderr)
        return 2
    except (MemoryError, RuntimeError) as err:  # torch's OutOfMemoryError is a RuntimeError
        import torch

        from core.runs.worker import out_of_memory

        if not out_of_memory(err, torch):
            raise
        print(
            _(
                "error: the run ran out of memory (the GPU's or this machine's). Try --device cpu, a --batch-size, "
                "fewer rows (--n) or a smaller model (--hidden)."
            ),
            file=sys.stderr,
        )
        return 3


def exit_rank(code: int) -> None:
    """End a torchrun rank without the interpreter's shutdown.

    gloo's worker threads release a collective's tensors after the collective has returned. When one of them does
    so while Python is shutting down, Python 3.11 ends that thread from inside PyTorch's C++ code, which aborts
    the process ("terminate called without an active exception", SIGABRT): 3 finished 2-rank runs in 196 here,
    closing the process group or not, and torchrun then reports the run as failed. The group is closed and the
    output flushed first all the same.
    """
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    code = main()
    if _torchrun():
        exit_rank(code)
    sys.exit(code)
