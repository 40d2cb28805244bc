"""What every run trains on: presets that teach, CSVs read without surprises, and the preprocessing."""

from core.data.csv_reader import LIMITS, NO_LIMITS, Limits, Table, load_csv, read_table, to_dataset
from core.data.dataset import DataError, Dataset
from core.data.preprocess import Scaler, coefficients_in_both_units, polynomial_features, split
from core.data.presets import PRESETS, Preset, make_dataset

__all__ = [
    "LIMITS", "NO_LIMITS", "PRESETS", "DataError", "Dataset", "Limits", "Preset", "Scaler", "Table",
    "coefficients_in_both_units", "load_csv", "make_dataset", "polynomial_features", "read_table", "split", "to_dataset",
]  # fmt: skip
