#!/usr/bin/env bash
# Everything that needs an NVIDIA GPU, in one run (~5 min on one GPU): the CUDA tests, then the GPU benchmarks.
# Run from the repository root with the venv built (.ci/run's install step); paste the output into the note.
#   bash benchmarks/gpu_check.sh 2>&1 | tee gpu_check.log
set -u
PY=.venv/bin/python
section() { printf '\n=== %s ===\n' "$*"; }

section "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'devices', torch.cuda.device_count())"

section "CUDA tests (trainer matches the CPU, a real CUDA out-of-memory, the smoke test)"
$PY -m pytest -q -rs tests/unit/test_trainer.py tests/unit/test_jobs.py tests/unit/test_smoke.py tests/unit/test_environment.py

section "trainer vs the seed's loop on the GPU: n = 1k (target ≤ 20 µs/epoch), 1M, 100M (target ≥ 60 % of HBM bandwidth)"
$PY benchmarks/trainer_vs_seed.py --device cuda

section "10 million rows on one GPU, then torchrun with nccl (one rank per GPU): full-batch linear, then an MLP under DDP"
/usr/bin/time -f "wall %e s, peak host RSS %M kB" $PY -m core train --preset house_prices --n 10000000 --epochs 200 --lr 0.1 --device cuda --json | tail -1
$PY -m torch.distributed.run --nproc-per-node "$($PY -c 'import torch; print(torch.cuda.device_count())')" -m core train \
  --preset house_prices --n 1000000 --epochs 200 --lr 0.1 --device cuda --json | tail -1
# an MLP in mini-batches: DistributedDataParallel over nccl (the line above all-reduces statistics once)
$PY -m torch.distributed.run --nproc-per-node "$($PY -c 'import torch; print(torch.cuda.device_count())')" -m core train \
  --preset house_prices --n 1000000 --epochs 3 --model mlp --optimizer adam --batch-size 4096 --device cuda --json | tail -1

section "memory estimator vs measured, and the environment doctor's smoke test"
$PY benchmarks/memory_vs_estimate.py
$PY -m core env --smoke
