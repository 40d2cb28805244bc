"""Is this machine ready? Probe torch, CUDA and the GPUs, judge what was found, and say what to install.

probe() imports torch (inside the function); the rest reads a report and never does.
"""

from core.env.doctor import Verdict, verdicts
from core.env.install import Advice, install_advice
from core.env.machine import probe
from core.env.report import EnvReport

__all__ = ["Advice", "EnvReport", "Verdict", "install_advice", "probe", "verdicts"]
