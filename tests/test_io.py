"""Reading tables: sniffed delimiters, decimal marks and encodings; gzip, Parquet, DataFrames."""

from __future__ import annotations

import gzip
import logging

import pandas as pd
import pytest

from automl.data.io import read_table
from automl.errors import DataError


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(sep, write_csv):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x y", "z", "w"], "c": [0.5, 1.5, 2.5]})
    out, info = read_table(write_csv(frame, sep=sep))
    assert info.delimiter == sep
    pd.testing.assert_frame_equal(out, frame, check_dtype=False)


def test_decimal_comma_with_semicolons(write_csv):
    out, info = read_table(write_csv("a;b\n1,5;x\n2,25;y\n"))
    assert info.decimal == "," and out["a"].tolist() == [1.5, 2.25]


def test_utf8_bom_and_latin1(write_csv):
    out, info = read_table(write_csv("\ufeffnom,v\ncafé,1\nthé,2\n"))
    assert list(out.columns) == ["nom", "v"] and info.encoding == "utf-8-sig"
    out, info = read_table(write_csv("nom,v\ncafé,1\nthé,2\n".encode("latin-1")))
    assert info.encoding == "latin-1" and out["nom"].tolist() == ["café", "thé"]


def test_a_windows_1252_file_keeps_its_euro_signs_and_curly_quotes(write_csv, caplog):
    text = "item,price,y\n\u201cdeluxe\u201d \u2013 \u20ac,1,a\nplain,2,b\n"
    with caplog.at_level("WARNING", logger="automl"):
        out, info = read_table(write_csv(text.encode("cp1252")))
    assert info.encoding == "cp1252" and out["item"].tolist() == ["\u201cdeluxe\u201d \u2013 \u20ac", "plain"]
    assert "read it as cp1252" in caplog.text


def test_a_spreadsheet_workbook_is_refused_with_what_to_do(write_csv):
    import zipfile

    path = write_csv(b"", "book.xlsx")
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(DataError, match=r"is a spreadsheet workbook .* Save the sheet as CSV"):
        read_table(path)


def test_latin1_byte_far_into_the_file(write_csv):
    rows = "".join(f"{i},plain\n" for i in range(20000)) + "20000,déjà\n"
    out, info = read_table(write_csv(("id,txt\n" + rows).encode("latin-1")))
    assert info.encoding == "latin-1" and out["txt"].iloc[-1] == "déjà"


def test_gzip_and_parquet(tmp_path, caplog):
    frame = pd.DataFrame({"a": [1.0, None, 3.0], "b": ["x", "y", None]})
    with gzip.open(tmp_path / "t.csv.gz", "wt") as fh:
        frame.to_csv(fh, index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    for name in ("t.csv.gz", "t.parquet"):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="automl.data.io"):
            out, info = read_table(tmp_path / name)
        assert out.shape == (3, 2) and out["a"].isna().sum() == 1 and info.sha256
        assert f"Read {tmp_path / name} (" in caplog.text and "3 rows x 2 columns" in caplog.text  # as a CSV's


def test_dataframe_input_is_copied_and_names_become_text():
    frame = pd.DataFrame({0: [1, 2], "y": ["a", "b"]})
    out, info = read_table(frame)
    assert list(out.columns) == ["0", "y"] and info.name == "<DataFrame>"
    assert list(frame.columns) == [0, "y"]


def test_na_values_are_read_as_missing(write_csv):
    out, _ = read_table(write_csv("a,b\n1,?\n?,x\n"), na_values=("?",))
    assert out.isna().sum().tolist() == [1, 1]


def test_ragged_rows_name_the_problem(write_csv):
    with pytest.raises(DataError, match=r"row 2 \(from line 3 of the file\) has 3 fields, the header 2"):
        read_table(write_csv("a,b\n1,2\n3,4,5\n"))


def test_missing_file_suggests_neighbours(tmp_path):
    (tmp_path / "train.csv").write_text("a\n1\n")
    with pytest.raises(DataError, match=r"Did you mean.*train\.csv"):
        read_table(tmp_path / "trian.csv")


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(DataError, match="is a folder"):
        read_table(tmp_path)


def test_damaged_parquet(write_csv):
    with pytest.raises(DataError, match=r"Cannot read .* as Parquet"):
        read_table(write_csv(b"PAR1 not really", "x.parquet"))
