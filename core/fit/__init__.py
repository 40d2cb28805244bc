"""Will this model fit on my GPUs? The memory estimator, its verdict and the model presets."""

from core.fit.arch import ArchSpec, MemoryConfigError, param_count
from core.fit.estimate import Estimate, Workload, estimate, weight_bytes
from core.fit.verdict import Verdict, verdict

__all__ = ["ArchSpec", "Estimate", "MemoryConfigError", "Verdict", "Workload", "estimate", "param_count", "verdict", "weight_bytes"]
