"""A regression dataset: features and target in original units, and the error every bad input becomes.

Everything here works in original units; a transform (polynomial features, z-scores) is recorded so every
coefficient shown anywhere can be mapped back. Nothing read from a file is ever evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core.i18n import LocalizedError


class DataError(LocalizedError, ValueError):
    """Input data a person has to fix; the message says what and where, in the reader's language
    (raise DataError("Column {name!r} is empty.", name=col): what a person typed is a parameter, never the id)."""


@dataclass(frozen=True, eq=False)
class Dataset:
    X: pd.DataFrame  # features, original units (the unit is in the column name, e.g. area_m2)
    y: pd.Series  # target, original units
    name: str
    description: str = ""
    spec: dict[str, Any] = field(default_factory=dict)  # how to rebuild it: preset and parameters, or file and transforms

    @property
    def features(self) -> list[str]:
        return list(self.X.columns)

    @property
    def target(self) -> str:
        return str(self.y.name)

    def __len__(self) -> int:
        return len(self.y)

    def frame(self) -> pd.DataFrame:
        """Features and target side by side, the target last: what a table of the data shows."""
        return self.X.assign(**{self.target: self.y})

    def summary(self) -> pd.DataFrame:
        """count, mean, std, min, quartiles and max, one row per column of frame()."""
        return self.frame().describe().T


# ---------------------------------------------------------------- presets
