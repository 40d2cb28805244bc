"""The typed, chunked CSV reading gives the text-cell reader's dataset, or leaves the file to it."""

from pathlib import Path

import numpy as np
import pytest

import core.data.csv_reader as csv_reader
import core.data.csv_typed as csv_typed
from core.data import DataError, load_csv, make_dataset, read_table, to_dataset
from core.data.csv_reader import NO_LIMITS, Limits

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted((ROOT / "tests/unit/data/fixtures/bad_csv").glob("*.csv")) + sorted((ROOT / "data/examples").glob("*.csv"))


def careful(path, limits=NO_LIMITS, **kw):
    return to_dataset(read_table(path, limits), **kw)


def outcome(fn):
    try:
        ds = fn()
    except DataError as e:
        return ("error", str(e))
    return ("ok", ds.X.to_dict("list"), ds.y.to_list(), ds.target, ds.spec, ds.name, ds.description)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_fixture_reads_as_the_text_cell_reader_reads_it(path):
    assert outcome(lambda: load_csv(path, limits=NO_LIMITS)) == outcome(lambda: careful(path))


@pytest.mark.parametrize(
    "text",
    [
        "a,b,y\n1,2,3\n2,5,1\n3,1,7\n4,4,4\n",  # plain numbers: the typed path
        "a;b;y\n1,5;2;3\n2;5;1\n3;1;7\n4;4;4\n",  # a decimal comma
        "a,b,y\n1,2,3\n2,x,1\n3,1,7\n4,4,4\n5,5,2\n",  # a bad cell
        "a,name,y\n1,p,3\n2,q,1\n3,r,7\n4,s,4\n",  # a text column
        "1,2,3\n2,5,1\n3,1,7\n4,4,4\n",  # no header
        "a,b,y\n1,2,3\n\n2,5,1\n3,1,7\n4,4,4",  # a blank line, no final newline
        "a,b,y\n1,2,3\n2,5,1\n3,1,7\n4,4,inf\n",  # an infinite cell
        'a,b,y\n"1.5",2,3\n2,5,1\n3,1,7\n4,4,4\n',  # a quoted number
        "a,b,y\n1,2,3,9\n2,5,1\n3,1,7\n4,4,4\n",  # a ragged row
    ],
)
def test_generated_files_read_as_the_text_cell_reader_reads_them(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    for kw in ({}, {"target": "a"}, {"features": ["a"]}):
        assert outcome(lambda kw=kw: load_csv(path, limits=NO_LIMITS, **kw)) == outcome(lambda kw=kw: careful(path, **kw))


def test_a_file_of_plain_numbers_takes_the_typed_path(tmp_path, monkeypatch):
    ds = make_dataset("house_prices", n=3000, seed=1)
    path = tmp_path / "hp.csv"
    ds.frame().to_csv(path, index=False, float_format="%.17g")
    expected = careful(path)
    monkeypatch.setattr(csv_typed, "TYPED_CHUNK_ROWS", 1000)  # several chunks
    sample_only = csv_reader.read_table

    def read_table_of_a_sample(source, limits):
        assert not isinstance(source, (str, Path)), "the text-cell reader read the whole file"
        return sample_only(source, limits)

    monkeypatch.setattr(csv_reader, "read_table", read_table_of_a_sample)
    got = load_csv(path, limits=NO_LIMITS)
    assert np.array_equal(got.X.to_numpy(), expected.X.to_numpy()) and np.array_equal(got.y.to_numpy(), ds.y.to_numpy())
    assert got.spec == expected.spec


def test_the_row_cap_still_refuses_a_large_file(tmp_path):
    path = tmp_path / "big.csv"
    make_dataset("linear_1d", n=500).frame().to_csv(path, index=False)
    with pytest.raises(DataError, match="at most 100 are allowed|more than 100 data rows"):
        load_csv(path, limits=Limits(max_rows=100))
