"""Reading tables: CSV (delimiter, decimal mark and encoding sniffed), ``.csv.gz``, Parquet, DataFrames.

The delimiter is the one under which whole records (RFC 4180: a quoted cell may hold newlines, quotes and
delimiters) parse into the header's number of fields, not the most frequent character of the first lines.

Every failure becomes a :class:`~automl.errors.DataError` that names the file and says how to fix it.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import hashlib
import io
import itertools
import logging
import re
import sys
import warnings
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl.errors import DataError, show_value

log = logging.getLogger(__name__)

PARQUET_SUFFIXES = (".parquet", ".pq")
DELIMITERS = ",;\t|"
ENCODINGS = ("utf-8-sig", "latin-1")
SNIFF_BYTES = 64 * 1024
MAX_SNIFF_BYTES = 8 * 1024 * 1024
SNIFF_RECORDS = 200
DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", " ": "space"}


@dataclass(frozen=True)
class TableSource:
    """Where a table came from and how it was read (so that it can be read again the same way)."""

    name: str
    path: str | None = None
    format: str = "dataframe"
    delimiter: str | None = None
    decimal: str = "."
    encoding: str | None = None
    sha256: str | None = None
    na_values: tuple[str, ...] = ()
    skip_initial_space: bool = False  # "a, b" files: a space after each delimiter

    def describe(self) -> str:
        if self.format == "dataframe":
            return "a pandas DataFrame"
        if self.format == "parquet":
            return f"{self.name} (Parquet)"
        sep = DELIMITER_NAMES.get(self.delimiter or ",", repr(self.delimiter))
        dec = ", decimal comma" if self.decimal == "," else ""
        return f"{self.name} ({self.format}, {sep}-separated{dec}, {self.encoding})"


def read_table(source: Any, na_values: tuple[str, ...] = (), sep: str | None = None,
               text_columns: Collection[str] = (), allow_empty: bool = False) -> tuple[pd.DataFrame, TableSource]:
    """Read ``source`` (a path to CSV / CSV.GZ / Parquet, or a DataFrame) into a DataFrame.

    Parameters
    ----------
    source
        A file path (``str`` or ``Path``) or a ``pandas.DataFrame``.
    na_values
        Extra strings to read as missing values.
    sep
        The delimiter of a CSV file (one character); ``None`` chooses, among comma, semicolon, tab and pipe,
        the one under which every record of the file's first records (quoted cells may hold newlines and
        delimiters, as RFC 4180 allows) has the header's number of fields.
    text_columns
        Columns of a CSV file to keep as text, as written (numbers written as text at fit, which the schema
        reads in the fit's format: a plain reading takes ``2.500`` with a thousands point for 2.5).
    allow_empty
        Whether a header without data rows is a table (of 0 rows: a file to score) rather than an error.

    Returns
    -------
    (frame, info)
        The table with unique string column names, and a :class:`TableSource` describing the read.

    Raises
    ------
    DataError
        If the file is missing, unreadable, empty, has no data rows or repeats a column name.
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        frame.columns = [str(c) for c in frame.columns]
        _check_columns(list(frame.columns), "the DataFrame")
        if na_values:
            frame = frame.replace(list(na_values), float("nan"))
        info = TableSource(name="<DataFrame>", na_values=tuple(na_values))
    else:
        path = _existing_file(source)
        from automl.data.memory import check_file

        check_file(path)
        if path.name.lower().endswith(PARQUET_SUFFIXES):
            frame, info = _read_parquet(path, na_values)
        else:
            frame, info = _read_csv(path, na_values, sep, text_columns)
    if frame.shape[1] == 0:
        raise DataError(f"{info.name} has no columns. Check that it is a table with a header row.")
    if len(frame) == 0 and not allow_empty:
        raise DataError(
            f"{info.name} has a header ({frame.shape[1]} columns) but no data rows. Add rows below the header."
        )
    return frame, info


def file_rows(s: pd.Series | pd.DataFrame, mask: Any) -> np.ndarray:
    """Positions (0-based) in the table as read of the rows of ``s`` where ``mask`` holds: the index's integers,
    which the fit keeps through the rows it leaves out (weight 0, a missing target), else 0, 1, 2, ..."""
    index = s.index if pd.api.types.is_integer_dtype(s.index) else pd.RangeIndex(len(s))
    return np.asarray(index)[np.asarray(mask, dtype=bool)]


def read_text_column(info: TableSource, column: str) -> pd.Series | None:
    """Re-read one column of a CSV as text, so that class labels keep the spelling of the file.

    Returns ``None`` for sources that are not CSV files (their values already are the labels).
    """
    if info.path is None or info.format == "parquet":
        return None
    encoding = info.encoding or "utf-8-sig"
    return pd.read_csv(info.path, encoding=encoding, usecols=[column], dtype=str, na_values=list(info.na_values),
                       keep_default_na=True,
                       **csv_options(info.delimiter or ",", info.skip_initial_space))[column]


def _existing_file(source: Any) -> Path:
    try:
        path = Path(source)
    except TypeError as e:
        raise DataError(
            f"Cannot read data from a {type(source).__name__}; give a file path or a pandas DataFrame."
        ) from e
    if not path.exists():
        hint = ""
        if path.parent.is_dir():
            near = difflib.get_close_matches(path.name, [p.name for p in path.parent.iterdir()], n=3)
            if near:
                hint = f" Did you mean: {', '.join(str(path.parent / n) for n in near)}?"
        raise DataError(f"File not found: {path}.{hint} Check the path.")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a file. Give the path of a CSV or Parquet file.")
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as e:
        raise DataError(f"Cannot read {path}: {e.strerror or e}. Check the file's permissions.") from e
    return path


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (recorded with a run; a resumed run checks its data did not change)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def frame_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of a DataFrame's column names and values, row by row in order (pandas' ``hash_pandas_object``;
    the index is left out): what :func:`file_sha256` is for a file, so a run resumed from a DataFrame checks it
    is the one the run started with."""
    digest = hashlib.sha256("\x1f".join(map(str, frame.columns)).encode("utf-8"))
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        try:
            hashed = pd.util.hash_pandas_object(column, index=False)
        except TypeError:  # cells pandas cannot hash (lists, dicts): their text
            hashed = pd.util.hash_pandas_object(column.astype(str), index=False)
        digest.update(hashed.to_numpy().tobytes())
    return digest.hexdigest()


def _read_parquet(path: Path, na_values: tuple[str, ...]) -> tuple[pd.DataFrame, TableSource]:
    try:
        frame = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises many types for damaged files
        raise DataError(f"Cannot read {path} as Parquet: {e}. Check that the file is a complete Parquet file.") from e
    frame.columns = [str(c) for c in frame.columns]
    _check_columns(list(frame.columns), str(path))
    if na_values:
        frame = frame.replace(list(na_values), float("nan"))
    info = TableSource(name=str(path), path=str(Path(path).resolve()), format="parquet", sha256=file_sha256(path),
                       na_values=na_values)
    log.info("Read %s: %d rows x %d columns.", info.describe(), len(frame), frame.shape[1])
    return frame, info


SPREADSHEET_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx / .ods (zip) and .xls (OLE) files begin so


def _read_sample(path: Path, size: int = SNIFF_BYTES) -> bytes:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            return fh.read(size)
    except (OSError, EOFError) as e:
        raise DataError(f"Cannot read {path}: {e}. If it is compressed, check that it is a complete gzip file.") from e


def _sniff_encoding(sample: bytes) -> str:
    """UTF-8; else Windows-1252 when the sample has bytes 0x80-0x9F (control characters in Latin-1, but €, curly
    quotes and dashes in the files Windows programs write) and decodes as it; else Latin-1."""
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(sample) - 4:  # a cut multi-byte character at the end of the sample is fine
            if re.search(rb"[\x80-\x9f]", sample):
                with suppress(UnicodeDecodeError):
                    sample.decode("cp1252")
                    return "cp1252"
            return "latin-1"
    return "utf-8-sig"


@contextmanager
def _large_fields() -> Iterator[None]:
    """Let Python's csv module read cells of any length (its default limit is 131 072 characters)."""
    old = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _field_counts(text: str, delimiter: str, complete: bool) -> list[int]:
    """Fields per record (blank lines skipped, quoted newlines respected, as RFC 4180 and pandas read them) of
    the first ``SNIFF_RECORDS`` records of ``text``; without the last one when ``text`` is a cut sample."""
    counts = [len(_trimmed(r)) for r in itertools.islice(_records(text, delimiter), SNIFF_RECORDS + 1)]
    if len(counts) > SNIFF_RECORDS:
        return counts[:SNIFF_RECORDS]
    return counts if complete else counts[:-1]


def _choose_delimiter(text: str, complete: bool) -> tuple[str, int]:
    """The delimiter under which the sample parses into the header's number of fields on every record.

    Each of ``DELIMITERS`` is tried on whole records (a quoted cell may hold newlines and other delimiters),
    ranked by: no record longer than the header (pandas cannot read those), the share of records exactly as
    long as the header, then more fields; ties go to Python's ``csv.Sniffer``. Returns the delimiter and how
    many complete records the sample held.
    """
    try:
        sniffed = csv.Sniffer().sniff("\n".join(text.splitlines()[:50]), delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ","
    ranked = []
    for d in DELIMITERS:
        counts = _field_counts(text, d, complete)
        if not counts or counts[0] < 2:
            continue
        rows = counts[1:] or [counts[0]]
        fits = sum(c == counts[0] for c in rows) / len(rows)
        ranked.append(((max(rows) <= counts[0], fits, counts[0], d == sniffed), d, len(counts)))
    if not ranked:
        return ",", len(_field_counts(text, ",", complete))
    best = max(ranked, key=lambda r: r[0])
    return best[1], best[2]


def _sniff(path: Path) -> tuple[str, str, str]:
    """Encoding, delimiter and the decoded sample of a CSV, read in growing samples until it holds
    ``SNIFF_RECORDS`` records (cells of long pasted text can fill the first 64 KiB)."""
    size = SNIFF_BYTES
    while True:
        sample = _read_sample(path, size)
        if not sample.strip():
            raise DataError(f"{path} is empty. Give a CSV file with a header row and data rows.")
        if sample.startswith(SPREADSHEET_MAGIC):
            raise DataError(f"{path} is a spreadsheet workbook (Excel or LibreOffice), not a CSV file; automl reads "
                            "CSV, CSV.GZ and Parquet. Save the sheet as CSV (in Excel: Save As, 'CSV UTF-8') and "
                            "give that file.")
        complete = len(sample) < size
        encoding = _sniff_encoding(sample)
        text = sample.decode(encoding, errors="replace")
        delimiter, records = _choose_delimiter(text, complete)
        if complete or records >= SNIFF_RECORDS or size >= MAX_SNIFF_BYTES:
            return encoding, delimiter, text
        size = min(size * 8, MAX_SNIFF_BYTES)


def _records(text: str, delimiter: str, skip: bool = False) -> Iterator[list[str]]:
    """The records of ``text``; a blank line is skipped, as pandas does (``,,`` is a row of missing values)."""
    with _large_fields():
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=skip):
            if record:
                yield record


def _trimmed(record: list[str]) -> list[str]:
    """A record without the empty fields after its last value (rows ending in a delimiter, as spreadsheets
    export them), but never shorter than one field."""
    end = len(record)
    while end > 1 and record[end - 1] == "":
        end -= 1
    return record[:end]


def _header(text: str, delimiter: str, skip: bool = False) -> list[str]:
    return next(_records(text, delimiter, skip), [])


def _decimal_mark(text: str, delimiter: str) -> str:
    """``","`` for a semicolon-separated file whose numbers use decimal commas (``1,5;2,25``), else ``"."``;
    looks at whole fields of the first records (a quoted cell may span many lines)."""
    if delimiter != ";":
        return "."
    for i, record in enumerate(_records(text, delimiter)):
        if i > SNIFF_RECORDS:
            break
        if i and any(DECIMAL_COMMA.match(field) for field in record):
            return ","
    return "."


def _read_csv(path: Path, na_values: tuple[str, ...], sep: str | None = None,
              text_columns: Collection[str] = ()) -> tuple[pd.DataFrame, TableSource]:
    encoding, delimiter, text = _sniff(path)
    if sep is not None:
        delimiter = sep
    decimal = _decimal_mark(text, delimiter)
    header = _header(text, delimiter)
    # "a, b, c" with '1, "x, y", 2' rows: the quotes open after the space (Python's csv Sniffer's rule)
    skip = len(header) > 1 and all(h.startswith(" ") for h in header[1:])
    header = _header(text, delimiter, skip)
    _check_columns(header, str(path))
    fmt = "csv.gz" if path.name.lower().endswith(".gz") else "csv"
    for enc in dict.fromkeys((encoding, *ENCODINGS)):
        options = {"decimal": decimal, "encoding": enc, "na_values": list(na_values),
                   **csv_options(delimiter, skip)}
        as_text = [c for c in header if c in text_columns]
        if as_text:
            options["dtype"] = dict.fromkeys(as_text, str)
        try:
            frame = _parse(path, options)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError as e:
            raise DataError(f"{path} is empty. Give a CSV file with a header row and data rows.") from e
        except ValueError as e:  # pandas' option checks (ParserError is a ValueError too, handled below)
            if isinstance(e, pd.errors.ParserError):
                frame = _reparse(path, options, header, enc, delimiter, sep, skip, e)
            else:
                raise _parse_error(path, delimiter, sep, f"{type(e).__name__}: {e}") from e
        except pd.errors.ParserWarning as e:
            frame = _reparse(path, options, header, enc, delimiter, sep, skip, e)
        if enc != "utf-8-sig":
            log.warning("%s is not valid UTF-8; read it as %s. Save it as UTF-8 to avoid this guess.", path, enc)
        info = TableSource(
            name=str(path), path=str(Path(path).resolve()), format=fmt, delimiter=delimiter, decimal=decimal,
            encoding=enc, sha256=file_sha256(path), na_values=na_values, skip_initial_space=skip,
        )
        log.info("Read %s: %d rows x %d columns.", info.describe(), len(frame), frame.shape[1])
        return frame, info
    raise DataError(f"Cannot decode {path} as UTF-8 or Latin-1. Save it as UTF-8 and try again.")  # pragma: no cover


def _reparse(path: Path, options: dict[str, Any], header: list[str], enc: str, delimiter: str, sep: str | None,
             skip: bool, error: Exception) -> pd.DataFrame:
    """After a parse error: the row at fault, or, when every longer row only ends in empty fields, the file
    read again with the header's columns."""
    problem = _locate_problem(path, enc, delimiter, skip)
    if problem is not None or not header:
        raise _parse_error(path, delimiter, sep, problem or str(error)) from error
    try:  # only rows that end in empty fields: they hold nothing past the header's columns
        return _parse(path, {**options, "usecols": list(range(len(_trimmed(header))))})
    except (pd.errors.ParserError, pd.errors.ParserWarning) as again:
        raise _parse_error(path, delimiter, sep, str(again)) from again


def _parse(path: Path, options: dict[str, Any]) -> pd.DataFrame:
    with warnings.catch_warnings():  # rows with more fields than the header: an error naming the row
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return pd.read_csv(path, **options)


def _parse_error(path: Path, delimiter: str, sep: str | None, problem: str) -> DataError:
    name = DELIMITER_NAMES.get(delimiter, repr(delimiter))
    how = "given by --sep" if sep is not None else "chosen from its first rows"
    return DataError(
        f"Cannot parse {path} as a {name}-separated file ({how}): {problem}. Check that every row has as many "
        "fields as the header and that quotes are closed, or give the delimiter with --sep (comma, semicolon, "
        "tab, pipe or any single character)."
    )


def _locate_problem(path: Path, encoding: str, delimiter: str, skip: bool = False) -> str | None:
    """The first record that does not parse, as a data-row number (the header is not counted; a row can span
    several lines of the file when a quoted cell holds newlines) and its first line in the file."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    quotes = [0]

    def lines(fh: Any) -> Iterator[str]:
        for line in fh:
            quotes[0] += line.count('"')
            yield line

    try:
        with opener(path, "rt", encoding=encoding, errors="replace", newline="") as fh, _large_fields():
            reader = csv.reader(lines(fh), delimiter=delimiter, skipinitialspace=skip)
            header: list[str] | None = None
            row, start, last_start = 0, 1, 1
            for record in reader:
                if record:
                    if header is None:
                        header = _trimmed(record)
                    else:
                        row += 1
                        if len(_trimmed(record)) > len(header):
                            return (f"row {row} (from line {start} of the file) has {len(_trimmed(record))} "
                                    f"fields, the header {len(header)}")
                last_start, start = start, reader.line_num + 1
    except (OSError, EOFError, csv.Error):
        return None
    if quotes[0] % 2:  # the last record ran to the end of the file inside a quoted cell
        return f"a quote opened in row {row} (line {last_start} of the file) is never closed"
    return None


def csv_options(delimiter: str, skip_initial_space: bool = False) -> dict[str, Any]:
    """``pandas.read_csv`` options for a delimiter: pandas' C parser (on a 150 MB CSV its peak memory was 16 %
    below Arrow's) unless the delimiter is more than one byte in UTF-8 (``§``), which only the Python parser
    reads; never the first column as the index (rows ending in a delimiter would shift every
    column: those trailing empty fields are dropped); spaces after a delimiter skipped if asked."""
    options = {"sep": delimiter, "index_col": False, "skipinitialspace": skip_initial_space}
    if len(delimiter.encode("utf-8")) > 1:  # pandas' C parser works on UTF-8 whatever the file's encoding
        return {**options, "engine": "python"}
    return {**options, "engine": "c", "low_memory": False}


def _check_columns(names: list[str], where: str) -> None:
    counts = Counter(names)
    dupes = [n for n, c in counts.items() if c > 1]
    if dupes:
        detail = "; ".join(
            f"{show_value(n)} at columns {', '.join(str(i + 1) for i, m in enumerate(names) if m == n)}"
            for n in dupes[:5]
        ) + (f"; and {len(dupes) - 5} more" if len(dupes) > 5 else "")
        raise DataError(f"{where} repeats column names: {detail}. Rename the columns so each name is unique.")
