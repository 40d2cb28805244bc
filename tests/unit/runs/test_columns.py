"""A run's record as growing numpy columns: the same numbers as the lists it replaced, 8 bytes an epoch."""

import numpy as np

from core.runs.columns import MIN_CAPACITY, Columns
from core.runs.history_codec import as_list


def batch(start: int, n: int, test: bool = True) -> dict[str, np.ndarray]:
    epochs = np.arange(start, start + n, dtype=np.int64)
    out = {"epoch": epochs, "train_loss": 1.0 / epochs}
    if test:
        out["test_loss"] = np.where(epochs % 2 == 0, np.nan, 2.0 / epochs)  # NaN: no test rows that epoch
    return out


def test_batches_past_the_first_capacity_read_back_as_one_record():
    cols = Columns()
    for start in range(1, 3 * MIN_CAPACITY, 100):
        cols.extend(batch(start, 100))
    n = len(range(1, 3 * MIN_CAPACITY, 100)) * 100
    assert cols["epoch"].tolist() == list(range(1, n + 1)) and cols["epoch"].dtype == np.int64
    np.testing.assert_array_equal(cols["train_loss"], 1.0 / np.arange(1, n + 1))
    assert as_list(cols["test_loss"][:4]) == [2.0, None, 2.0 / 3, None]  # as the pages read it: NaN as None
    assert set(cols) == {"epoch", "train_loss", "test_loss"} and all(len(v) == n for v in cols.values())


def test_a_column_missing_from_some_batches_is_nan_there():
    cols = Columns()
    cols.extend(batch(1, 3, test=False))
    cols.extend(batch(4, 2))
    cols.extend(batch(6, 1, test=False))
    assert as_list(cols["test_loss"]) == [None, None, None, None, 0.4, None]
    assert cols["epoch"].tolist() == [1, 2, 3, 4, 5, 6]


def test_compact_keeps_the_numbers_in_arrays_of_their_own_size():
    cols = Columns()
    cols.extend(batch(1, 300))
    done = cols.compact()
    assert {c: v.nbytes for c, v in done.items()} == {"epoch": 2400, "train_loss": 2400, "test_loss": 2400}
    assert cols.nbytes > sum(v.nbytes for v in done.values())  # the room to grow is gone
    np.testing.assert_array_equal(done["train_loss"], cols["train_loss"])
    assert not np.shares_memory(done["train_loss"], cols["train_loss"])


def test_an_empty_record_has_its_epoch_column():
    cols = Columns()
    cols.extend({})
    assert list(cols) == ["epoch"] and len(cols["epoch"]) == 0 and cols.compact()["epoch"].dtype == np.int64
