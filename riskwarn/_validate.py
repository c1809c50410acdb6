"""Reading and checking contract datasets, column-wise.

Every table is read with pyarrow as text (CSV) or as stored (Parquet) and checked one
column at a time with vectorised kernels, so a 10-million-row table never becomes 10
million Python objects. Each problem is an :class:`Issue` naming the file, the row (as a
person counting lines in the file would: the header is line 1), the column, the value
found and what was expected; misspelt enum values and column names get a suggestion.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import difflib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from riskwarn._contract import ID_MAX_LENGTH, TABLES, TABLES_BY_NAME, TEXT_MAX_LENGTH, Column, Table
from riskwarn._dataset import Dataset, column_dtype
from riskwarn._progress import Progress
from riskwarn._progress import report as report_progress
from riskwarn.errors import ContractError, DatasetNotFoundError

MAX_ROWS_PER_CHECK = 5  # example rows reported per (table, column, check); the rest are counted

# beyond 18 digits an int64 may not hold it; "1980.0" (how pandas writes an int column with
# gaps) is the whole number it shows
_INT = r"^\s*[+-]?\d{1,18}(\.0*)?\s*$"
_FLOAT = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_DATETIME = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2})?$"
_EXPECTED = {
    "id": "a non-empty id",
    "string": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true/false (or 1/0)",
    "date": "a date YYYY-MM-DD",
    "datetime": "a datetime YYYY-MM-DDTHH:MM:SS (or YYYY-MM-DD HH:MM:SS, or a date)",
}


class ContractWarning(UserWarning):
    """Something in a dataset the contract allows but a reader should know (extra columns)."""


@dataclass(frozen=True)
class Issue:
    """One break of the contract (``severity="error"``) or a notice (``"warning"``)."""

    severity: str
    table: str
    file: str | None
    row: int | None
    column: str | None
    value: str | None
    expected: str
    message: str
    count: int = 1  # rows sharing this problem when only the first few are listed

    def __str__(self) -> str:
        where = self.file or self.table
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        found = f" (found {self.value!r})" if self.value is not None else ""
        return f"{self.severity}: {where}: {self.message}{found}; expected {self.expected}"


@dataclass
class ValidationReport:
    """All issues found in a dataset, plus row counts of the tables read."""

    source: str
    issues: list[Issue] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_count(self) -> int:
        """Rows in error, counting the ones not listed one by one."""
        return sum(i.count for i in self.errors)

    def format(self, limit: int = 50) -> str:
        """A human report: tables read, then each issue on its own line."""
        lines = [f"dataset {self.source}"]
        order = {name: k for k, name in enumerate(self.rows)}
        errors = sorted(self.errors, key=lambda i: (order.get(i.table, -1), i.row or 0))
        for name, n in self.rows.items():
            lines.append(f"  {self.files.get(name, name)}: {n:,} rows")
        shown = errors[:limit] + self.warnings[: max(0, limit - len(errors))]
        for issue in shown:
            more = f" [and {issue.count - 1:,} more rows like it]" if issue.count > 1 else ""
            lines.append(f"{issue}{more}")
        hidden = len(self.issues) - len(shown)
        if hidden > 0:
            lines.append(f"... {hidden} more issues not shown")
        verdict = (
            "valid"
            if self.ok
            else f"INVALID: {len(self.errors)} problems in {self.error_count():,} rows"
        )
        lines.append(f"{verdict} ({len(self.warnings)} warnings)")
        return "\n".join(lines)

    def raise_for_errors(
        self, hint: str = "Run `riskwarn validate` on it for the full report."
    ) -> None:
        """Raise :class:`ContractError` listing the first problems, when there are any."""
        if self.ok:
            return
        head = "; ".join(str(i) for i in self.errors[:3])
        more = f" (and {len(self.errors) - 3} more)" if len(self.errors) > 3 else ""
        raise ContractError(
            f"{self.source} does not follow the data contract: {head}{more}. {hint}",
            self.errors,
        )


# --------------------------------------------------------------------------- reading


@dataclass
class _RawTable:
    name: str
    file: str
    data: pa.Table
    header_lines: int  # 1 for CSV (row numbers count the header), 0 for Parquet/records
    line_starts: np.ndarray | None = None  # first physical line of each record, when not 1:1


def _find_files(root: Path, report: ValidationReport) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for table in TABLES:
        candidates = [p for p in (root / f"{table.name}.csv", root / f"{table.name}.parquet")]
        present = [p for p in candidates if p.is_file()]
        if len(present) == 2:
            report.issues.append(
                Issue(
                    "error",
                    table.name,
                    present[0].name,
                    None,
                    None,
                    None,
                    "one file per table",
                    f"both {present[0].name} and {present[1].name} exist; keep one",
                )
            )
        if present:
            found[table.name] = present[0]
        elif table.required:
            near = _suggest(table.name, [p.stem for p in root.iterdir() if p.is_file()])
            report.issues.append(
                Issue(
                    "error",
                    table.name,
                    None,
                    None,
                    None,
                    None,
                    f"a file {table.name}.csv or {table.name}.parquet",
                    f"required table {table.name!r} is missing{near}",
                )
            )
    return found


def _read_csv(path: Path, bad_rows: list[str]) -> pa.Table:
    """Read every column as text; rows with the wrong number of fields go to ``bad_rows``."""
    with path.open("r", encoding="utf-8-sig", newline="") as fh:  # Excel writes a BOM
        try:
            header = next(csv.reader([fh.readline()]), [])
        except csv.Error as exc:
            raise _LineError(1, exc) from exc

    def skip(row) -> str:
        bad_rows.append(row.text)
        return "skip"

    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=skip),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        ),
    )


def _physical_lines(path: Path) -> int:
    """Lines in the file, counted in C over 1 MiB blocks."""
    lines, last = 0, b"\n"
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def _record_lines(path: Path, data: pa.Table, skipped: int) -> tuple[np.ndarray | None, list]:
    """Where each kept record starts, and (line, fields) of each record pyarrow skipped.

    When every record is one line (the common case) the row number is the index plus the
    header, and nothing is read in Python; quoted values spanning lines, blank lines or
    skipped rows need one pass of the csv module to put each record on its line.
    """
    if not skipped and _physical_lines(path) == data.num_rows + 1:
        return None, []
    starts, broken = [], []
    width = data.num_columns
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        line = 0
        try:
            next(reader, None)
            line = reader.line_num
            for row in reader:
                if not row:
                    pass  # a blank line: pyarrow skips it too
                elif len(row) != width:
                    broken.append((line + 1, len(row)))
                else:
                    starts.append(line + 1)
                line = reader.line_num
        except csv.Error as exc:
            raise _LineError(line + 1, exc) from exc
    return np.asarray(starts, dtype=np.int64), broken


class _LineError(Exception):
    """The csv module could not read a record; ``line`` is where it starts."""

    def __init__(self, line: int, cause: csv.Error) -> None:
        super().__init__(str(cause))
        self.line = line


def _first_bad_utf8(path: Path) -> tuple[int, bytes] | None:
    """The line and bytes of the first invalid UTF-8 sequence in the file, if any."""
    data = path.read_bytes()  # only on the error path
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1, data[exc.start : exc.end]
    return None


def _unreadable(table: Table, path: Path, message: str, row: int | None = None) -> Issue:
    return Issue(
        "error",
        table.name,
        path.name,
        row,
        None,
        None,
        "UTF-8 CSV with a header row, or Parquet",
        f"cannot be read: {message}",
    )


def _read(table: Table, path: Path, report: ValidationReport) -> _RawTable | None:
    try:
        if path.suffix == ".csv":
            bad_rows: list[str] = []
            data = _read_csv(path, bad_rows)
            starts, broken = _record_lines(path, data, len(bad_rows))
            for line, fields in broken:
                report.issues.append(
                    Issue(
                        "error",
                        table.name,
                        path.name,
                        line,
                        None,
                        f"{fields} fields",
                        f"{data.num_columns} fields, as in the header",
                        "row has the wrong number of fields (an unquoted comma?)",
                    )
                )
            return _RawTable(table.name, path.name, data, 1, starts)
        return _RawTable(table.name, path.name, pq.read_table(path), 0)
    except _LineError as exc:
        report.issues.append(
            _unreadable(
                table,
                path,
                f"{exc}; no contract value is that long (free text holds at most "
                f"{TEXT_MAX_LENGTH:,} characters): is it a CSV file with a header line?",
                exc.line,
            )
        )
        return None
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, ValueError) as exc:
        located = _first_bad_utf8(path) if path.suffix == ".csv" else None
        if located is not None:
            line, raw = located
            report.issues.append(
                _unreadable(
                    table,
                    path,
                    f"bytes {raw!r} are not UTF-8 (saved as GBK? re-save the file as UTF-8)",
                    line,
                )
            )
        else:
            report.issues.append(_unreadable(table, path, str(exc).splitlines()[0]))
        return None


# --------------------------------------------------------------------------- checking


def _suggest(value: str, options) -> str:
    near = difflib.get_close_matches(str(value), list(options), n=1, cutoff=0.6)
    return f"; did you mean {near[0]!r}?" if near else ""


class _Checker:
    """Collects issues for one table, reporting a few example rows per check."""

    def __init__(self, raw: _RawTable, report: ValidationReport) -> None:
        self.raw = raw
        self.report = report

    def row_number(self, index: int) -> int:
        """The line a person would count to in the file (header is line 1 in CSV)."""
        if self.raw.line_starts is not None:
            return int(self.raw.line_starts[int(index)])
        return int(index) + 1 + self.raw.header_lines

    def flag(self, bad: np.ndarray, column: str, values, expected: str, message: str) -> None:
        """Record the rows where ``bad`` is true (at most a few listed, all counted)."""
        idx = np.flatnonzero(bad)
        if not len(idx):
            return
        count = len(idx)
        shown = idx[:MAX_ROWS_PER_CHECK]
        for k, i in enumerate(shown):
            value = values[int(i)].as_py() if values is not None else None
            self.report.issues.append(
                Issue(
                    "error",
                    self.raw.name,
                    self.raw.file,
                    self.row_number(i),
                    column,
                    None if value is None else str(value),
                    expected,
                    message,
                    count=count - len(shown) + 1 if k == len(shown) - 1 else 1,
                )
            )


def _as_text(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    return arr if arr.type == pa.string() else pc.cast(arr, pa.string())


def _mask(arr) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _parse_column(col: Column, arr: pa.ChunkedArray, check: _Checker) -> pa.ChunkedArray:
    """Check one column's values and return it typed (invalid values become null)."""
    expected = _EXPECTED.get(col.type, "")
    kind = arr.type
    if col.type in ("id", "string", "enum"):
        text = pc.utf8_trim_whitespace(_as_text(arr)) if col.type != "string" else _as_text(arr)
        if col.type == "id":
            empty = pc.equal(pc.utf8_length(text), 0)
            check.flag(_mask(empty), col.name, text, expected, "empty id")
            text = pc.if_else(empty, pa.scalar(None, pa.string()), text)
        if col.type == "enum":
            allowed = pa.array(col.enum)
            bad = _mask(pc.and_(pc.is_valid(text), pc.invert(pc.is_in(text, value_set=allowed))))
            if bad.any():
                distinct = pc.unique(pc.filter(text, pa.array(bad)))
                listed = distinct.slice(0, MAX_ROWS_PER_CHECK).to_pylist()
                for value in listed:
                    rows = bad & _mask(pc.equal(text, value))
                    check.flag(
                        rows,
                        col.name,
                        text,
                        f"one of {', '.join(col.enum)}",
                        f"unknown value{_suggest(value, col.enum)}",
                    )
                rest = bad & ~_mask(pc.is_in(text, value_set=pa.array(listed, pa.string())))
                check.flag(
                    rest,
                    col.name,
                    text,
                    f"one of {', '.join(col.enum)}",
                    f"unknown value ({len(distinct) - len(listed)} more distinct values)",
                )
            text = pc.if_else(pa.array(bad), pa.scalar(None, pa.string()), text)
        return text
    if col.type == "bool":
        if pa.types.is_boolean(kind):
            return arr
        text = pc.utf8_lower(pc.utf8_trim_whitespace(_as_text(arr)))
        true = pc.is_in(text, value_set=pa.array(["true", "1"]))
        false = pc.is_in(text, value_set=pa.array(["false", "0"]))
        bad = _mask(pc.and_(pc.is_valid(text), pc.invert(pc.or_(true, false))))
        check.flag(bad, col.name, _as_text(arr), expected, "not a boolean")
        return pc.if_else(pc.or_(true, false), true, pa.scalar(None, pa.bool_()))
    if col.type in ("int", "float"):
        if pa.types.is_integer(kind) or (col.type == "float" and pa.types.is_floating(kind)):
            return pc.cast(arr, pa.int64() if col.type == "int" else pa.float64())
        if col.type == "int" and pa.types.is_floating(kind):
            whole = pc.equal(pc.floor(arr), arr)
            check.flag(_mask(pc.invert(whole)), col.name, arr, expected, "not a whole number")
            return pc.cast(pc.if_else(whole, arr, None), pa.int64())
        text = _as_text(arr)
        ok = pc.match_substring_regex(text, _INT if col.type == "int" else _FLOAT)
        bad = _mask(pc.and_(pc.is_valid(text), pc.invert(ok)))
        check.flag(bad, col.name, text, expected, f"not {expected}")
        clean = pc.utf8_trim_whitespace(pc.if_else(ok, text, None))
        if col.type == "int":
            clean = pc.replace_substring_regex(clean, r"\.0*$", "")
        return pc.cast(clean, pa.int64() if col.type == "int" else pa.float64())
    if col.type in ("date", "datetime"):
        if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
            if pa.types.is_timestamp(kind) and kind.tz is not None:
                check.report.issues.append(  # one issue for the column: its type is wrong
                    Issue(
                        "error",
                        check.raw.name,
                        check.raw.file,
                        None,
                        col.name,
                        str(kind),
                        "local time with no zone, as the contract says",
                        f"timestamps carry the zone {kind.tz!r}; store local wall-clock "
                        "time without a zone",
                        count=max(len(arr) - arr.null_count, 1),
                    )
                )
                return pa.chunked_array([pa.nulls(len(arr), pa.timestamp("ns"))])
            # the contract counts whole seconds: fractions are cut, as a clock shows them
            parsed = pc.cast(pc.floor_temporal(arr, unit="second"), pa.timestamp("s"))
            return _in_range(parsed, col, check, arr)
        text = pc.utf8_trim_whitespace(_as_text(arr))
        shape_ok = pc.match_substring_regex(text, _DATE if col.type == "date" else _DATETIME)
        if col.type == "date":
            parsed = pc.strptime(pc.if_else(shape_ok, text, None), "%Y-%m-%d", "s", True)
        else:
            normal = pc.replace_substring(pc.if_else(shape_ok, text, None), "T", " ")
            full = pc.strptime(normal, "%Y-%m-%d %H:%M:%S", "s", True)
            day = pc.strptime(normal, "%Y-%m-%d", "s", True)
            parsed = pc.coalesce(full, day)
        shaped = pc.if_else(shape_ok, text, pa.scalar(None, pa.string()))
        # strptime rolls impossible days over (2024-02-30 -> March 1): the parsed month and
        # day must be the ones written
        written_month = pc.cast(pc.utf8_slice_codeunits(shaped, 5, 7), pa.int64(), safe=False)
        written_day = pc.cast(pc.utf8_slice_codeunits(shaped, 8, 10), pa.int64(), safe=False)
        same = pc.and_(
            pc.equal(pc.month(parsed), written_month), pc.equal(pc.day(parsed), written_day)
        )
        parsed = pc.if_else(same, parsed, pa.scalar(None, pa.timestamp("s")))
        bad = _mask(pc.and_(pc.is_valid(text), pc.is_null(parsed)))
        check.flag(bad, col.name, text, expected, "not a valid " + col.type)
        return _in_range(parsed, col, check, text)
    raise AssertionError(f"unknown contract type {col.type}")


FIRST_YEAR, LAST_YEAR = 1900, 2199  # records of living people and their cases


def _in_range(parsed: pa.ChunkedArray, col: Column, check: _Checker, shown) -> pa.ChunkedArray:
    """Dates outside the years records can hold are errors (and would overflow later)."""
    year = pc.year(parsed)
    out = _mask(pc.or_(pc.less(year, FIRST_YEAR), pc.greater(year, LAST_YEAR)))
    check.flag(
        out, col.name, shown, f"a {col.type} in the years {FIRST_YEAR}-{LAST_YEAR}", "out of range"
    )
    kept = pc.if_else(pa.array(~out), parsed, pa.scalar(None, pa.timestamp("s")))
    return pc.cast(kept, pa.timestamp("ns"))


_CONTROL = r"[\x00-\x1f\x7f-\x9f]"


def value_rule(col: Column) -> str:
    """The contract's value range of a column in words ("" when it has none), as the
    validator, ingest and the service's request schemas state it."""
    if col.type == "id":
        return f"at most {ID_MAX_LENGTH} characters, no control characters"
    if col.type == "string":
        limit = f"at most {col.max_length:,} characters, " if col.max_length else ""
        return f"{limit}no NUL character"
    if col.type in ("int", "float"):
        low, high = col.minimum, col.maximum
        finite = "a finite number" if col.type == "float" else "a whole number"
        if low is not None and high is not None:
            return f"{finite} from {low:g} to {high:g}"
        if low is not None:
            return f"{finite} of at least {low:g}"
        if high is not None:
            return f"{finite} of at most {high:g}"
        return finite
    return ""


def _check_range(col: Column, arr: pa.ChunkedArray, check: _Checker) -> pa.ChunkedArray:
    """Flag (and blank) the parsed values outside the contract's range for ``col``."""
    if col.type == "id" or col.type == "string":
        length = ID_MAX_LENGTH if col.type == "id" else col.max_length
        bad = pc.match_substring_regex(arr, _CONTROL if col.type == "id" else "\x00")
        if length is not None:
            bad = pc.or_(bad, pc.greater(pc.utf8_length(arr), length))
    elif col.type in ("int", "float"):
        number = pc.cast(arr, pa.float64())
        bad = pc.invert(pc.is_finite(number))
        if col.minimum is not None:
            bad = pc.or_(bad, pc.less(number, col.minimum))
        if col.maximum is not None:
            bad = pc.or_(bad, pc.greater(number, col.maximum))
    else:
        return arr
    mask = _mask(bad)
    if not mask.any():
        return arr
    shown = arr
    if col.type in ("id", "string"):  # a long text is shown by its start only
        shown = pc.if_else(
            pc.greater(pc.utf8_length(arr), 40),
            pc.binary_join_element_wise(pc.utf8_slice_codeunits(arr, 0, 40), "...", ""),
            arr,
        )
    check.flag(mask, col.name, shown, value_rule(col), "out of range")
    return pc.if_else(pa.array(~mask), arr, pa.scalar(None, arr.type))


def early_event_issue(
    table: str,
    file: str | None,
    row: int | None,
    dispute_id: str,
    at: object,
    reported_at: object,
) -> Issue:
    """The warning for an event dated before its dispute's registration.

    Back-filled records exist (an event entered later with its real, earlier date), so
    this is never an error; every entry point reports it with this one message.
    """
    registered = f"{pd.Timestamp(reported_at):%Y-%m-%dT%H:%M:%S}"
    return Issue(
        "warning",
        table,
        file,
        row,
        "at",
        f"{pd.Timestamp(at):%Y-%m-%dT%H:%M:%S}",
        f"a time at or after the dispute's registration ({registered})",
        f"dated before dispute {dispute_id!r} was registered (back-filled? check the date)",
    )


def _check_event_order(
    raws: dict[str, _RawTable],
    typed: dict[str, dict[str, pa.ChunkedArray]],
    report: ValidationReport,
    against: Dataset | None,
) -> None:
    """Warn about events dated before their dispute's registration (listed a few at a time)."""
    events = typed.get("dispute_events", {})
    if "dispute_id" not in events or "at" not in events:
        return
    known: list[pd.Series] = []
    disputes = typed.get("disputes", {})
    if "dispute_id" in disputes and "reported_at" in disputes:
        known.append(
            pd.Series(
                disputes["reported_at"].to_pandas().to_numpy(),
                index=disputes["dispute_id"].to_pandas().to_numpy(),
            )
        )
    if against is not None and len(against.disputes):
        held = against.disputes
        known.append(pd.Series(held["reported_at"].to_numpy(), index=held["dispute_id"].to_numpy()))
    if not known:
        return
    reported = pd.concat(known)
    reported = reported[~reported.index.duplicated(keep="first")]
    ids = events["dispute_id"].to_pandas()
    if ids.empty or reported.empty:
        return
    at = pd.Series(events["at"].to_pandas().to_numpy())
    registered = pd.Series(pd.to_datetime(ids.map(reported)).to_numpy())
    early = np.flatnonzero((at < registered).to_numpy(dtype=bool))
    if not len(early):
        return
    raw = raws["dispute_events"]
    check = _Checker(raw, report)
    shown = early[:MAX_ROWS_PER_CHECK]
    for k, i in enumerate(shown):
        issue = early_event_issue(
            raw.name,
            raw.file,
            check.row_number(i),
            str(ids.iloc[i]),
            at.iloc[i],
            registered.iloc[i],
        )
        if k == len(shown) - 1 and len(early) > len(shown):
            issue = dataclasses.replace(issue, count=len(early) - len(shown) + 1)
        report.issues.append(issue)


def _check_table(raw: _RawTable, report: ValidationReport) -> dict[str, pa.ChunkedArray]:
    """Check every column that is there; return them typed (missing ones left out)."""
    table = TABLES_BY_NAME[raw.name]
    check = _Checker(raw, report)
    present = raw.data.column_names
    missing = [c for c in table.column_names if c not in present]
    extra = [c for c in present if c not in table.column_names]
    for name in missing:
        report.issues.append(
            Issue(
                "error",
                raw.name,
                raw.file,
                raw.header_lines or None,
                name,
                None,
                f"a column {name!r}",
                f"required column is missing{_suggest(name, extra)}",
            )
        )
    for name in extra:
        report.issues.append(
            Issue(
                "warning",
                raw.name,
                raw.file,
                raw.header_lines or None,
                name,
                None,
                "only contract columns",
                f"unknown column, ignored{_suggest(name, table.column_names)}",
            )
        )
    typed: dict[str, pa.ChunkedArray] = {}
    for col in table.columns:
        if col.name in missing:
            continue  # reported above; the columns that are there are still checked
        arr = raw.data.column(col.name)
        before_null = arr.is_null()
        if not col.nullable:
            check.flag(
                _mask(before_null),
                col.name,
                None,
                f"one of {', '.join(col.enum)}"
                if col.type == "enum"
                else _EXPECTED.get(col.type, col.type),
                "empty value in a column that must not be empty",
            )
        typed[col.name] = _check_range(col, _parse_column(col, arr, check), check)
        if col.unique:
            values = typed[col.name]
            dup = pd.Series(values, dtype=pd.ArrowDtype(values.type)).duplicated(keep="first")
            dup &= pd.Series(values, dtype=pd.ArrowDtype(values.type)).notna()
            check.flag(
                dup.to_numpy(dtype=bool),
                col.name,
                values,
                "a unique id",
                "duplicate id (already used on an earlier row)",
            )
    return typed


def _check_references(
    raws: dict[str, _RawTable],
    typed: dict[str, dict[str, pa.ChunkedArray]],
    report: ValidationReport,
    against: Dataset | None,
    broken: frozenset[str] = frozenset(),
) -> None:
    """Check that every reference points at an existing key.

    ``broken`` names tables already reported unreadable or missing: their keys are
    unknown, so references into them are not checked (one bad file must not bury the
    report under false "missing row" errors).
    """
    for name, columns in typed.items():
        table = TABLES_BY_NAME[name]
        check = _Checker(raws[name], report)
        for ref in table.references:
            if ref.column not in columns or ref.table in broken:
                continue
            if ref.table in typed and ref.key not in typed[ref.table]:
                continue  # its key column is missing, already reported
            keys = []
            if ref.table in typed:
                keys.append(typed[ref.table][ref.key])
            if against is not None and len(against.table(ref.table)):
                keys.append(
                    pa.chunked_array(
                        [pa.array(against.table(ref.table)[ref.key], type=pa.string())]
                    )
                )
            if not keys:
                if ref.table == "grids":
                    continue  # grids are checked only when a grids table is given
                known = pa.array([], pa.string())
            else:
                known = pc.unique(
                    pa.chunked_array([k for ch in keys for k in ch.chunks], type=pa.string())
                )
            values = _as_text(columns[ref.column])
            bad = _mask(pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=known))))
            check.flag(
                bad,
                ref.column,
                values,
                f"an existing {ref.table}.{ref.key}",
                f"points to a missing {ref.table} row",
            )
        if (
            table.requires
            and table.requires not in typed
            and table.requires not in broken
            and (against is None or not len(against.table(table.requires)))
        ):
            report.issues.append(
                Issue(
                    "error",
                    name,
                    raws[name].file,
                    None,
                    None,
                    None,
                    f"a {table.requires} table",
                    f"{name} is given without the {table.requires} table it belongs to",
                )
            )


def _to_frame(name: str, columns: dict[str, pa.ChunkedArray]) -> pd.DataFrame:
    out = {}
    for col in TABLES_BY_NAME[name].columns:
        arr = columns[col.name]
        dtype = column_dtype(col.type)
        if dtype == "str":
            s = pd.Series(arr.to_pandas(types_mapper=None), dtype="str")
        elif dtype == "Int64":
            s = pd.Series(
                arr.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get), dtype="Int64"
            )
        elif dtype == "bool":
            s = pd.Series(
                np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False)), dtype="bool"
            )
        elif dtype.startswith("datetime64"):
            s = pd.Series(arr.to_pandas(), dtype=dtype)
        else:
            s = pd.Series(arr.to_pandas(), dtype=dtype)
        out[col.name] = s.reset_index(drop=True)
    return pd.DataFrame(out)


def _validate_raws(
    raws: dict[str, _RawTable],
    report: ValidationReport,
    against: Dataset | None,
    frames: bool = True,
    broken: frozenset[str] = frozenset(),
) -> dict[str, pd.DataFrame] | None:
    typed: dict[str, dict[str, pa.ChunkedArray]] = {}
    for name, raw in raws.items():
        report.rows[name] = raw.data.num_rows
        report.files[name] = raw.file
        typed[name] = _check_table(raw, report)
    _check_references(raws, typed, report, against, broken)
    _check_event_order(raws, typed, report, against)
    if not report.ok or not frames:
        return None
    return {name: _to_frame(name, cols) for name, cols in typed.items()}


def _collect(
    path: str | Path, frames: bool = True, progress: Progress | None = None
) -> tuple[ValidationReport, dict[str, pd.DataFrame] | None]:
    root = Path(path)
    report = ValidationReport(source=str(root))
    if not root.is_dir():
        raise DatasetNotFoundError(
            f"no dataset directory at {root}: expected a folder holding persons.csv, "
            "disputes.csv, dispute_parties.csv (or .parquet) and the optional tables"
        )
    files = _find_files(root, report)
    raws = {}
    for k, (name, file) in enumerate(files.items()):
        report_progress(progress, k, len(files) + 1, f"reading {file.name}")
        raw = _read(TABLES_BY_NAME[name], file, report)
        if raw is not None:
            raws[name] = raw
    report_progress(progress, len(files), len(files) + 1, "checking columns and references")
    missing = {t.name for t in TABLES if t.required and t.name not in files}
    broken = frozenset(missing | (set(files) - set(raws)))
    frames_out = _validate_raws(raws, report, None, frames, broken)
    report_progress(progress, len(files) + 1, len(files) + 1, "done")
    return report, frames_out


def validate_dataset(path: str | Path, progress: Progress | None = None) -> ValidationReport:
    """Check the contract directory at ``path`` and return every issue found.

    >>> report = validate_dataset("county/")   # doctest: +SKIP
    >>> print(report.format())                  # doctest: +SKIP
    """
    return _collect(path, frames=False, progress=progress)[0]


def load_dataset(path: str | Path, progress: Progress | None = None) -> Dataset:
    """Read and check the contract directory at ``path`` into a typed :class:`Dataset`.

    Raises :class:`~riskwarn.errors.ContractError` (listing the first problems) when the
    dataset breaks the contract; unknown extra columns give a :class:`ContractWarning`.
    """
    report, frames = _collect(path, progress=progress)
    report.raise_for_errors()
    for issue in report.warnings:
        warnings.warn(str(issue), ContractWarning, stacklevel=2)
    assert frames is not None
    return Dataset.from_frames(**frames)


def _record_columns(rows: pd.DataFrame | list[dict]) -> dict[str, list]:
    """Column name -> values, without pandas' float coercion of ints next to empty fields."""
    if isinstance(rows, pd.DataFrame):
        return {str(c): rows[c].tolist() for c in rows.columns}
    names = list(dict.fromkeys(k for row in rows for k in row))
    return {str(c): [row.get(c) for row in rows] for c in names}


def _as_contract_text(value) -> str | None:
    """A record's value as the contract writes it in CSV (the validator then parses it)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def parse_records(
    records: Mapping[str, pd.DataFrame | list[dict]],
    against: Dataset | None = None,
    *,
    warnings: list[Issue] | None = None,
) -> dict[str, pd.DataFrame]:
    """Check new records (table name → frame or list of dicts) by the contract rules.

    References may point into ``records`` or into ``against`` (what a store already holds).
    Returns typed frames; raises :class:`~riskwarn.errors.ContractError` whose ``issues``
    name the table, the record (1-based position in its list), the column and the value.
    Warnings (an event dated before its dispute's registration) go into ``warnings`` when
    a list is given.
    """
    report = ValidationReport(source="records")
    raws: dict[str, _RawTable] = {}
    for name, rows in records.items():
        if name not in TABLES_BY_NAME:
            raise ContractError(
                f"unknown table {name!r}{_suggest(name, TABLES_BY_NAME)}; expected one of "
                f"{', '.join(TABLES_BY_NAME)}"
            )
        columns = _record_columns(rows)
        n = len(rows)
        arrays = {
            c: pa.array([_as_contract_text(v) for v in vs], pa.string())
            for c, vs in columns.items()
        }
        for col in TABLES_BY_NAME[name].columns:  # a record may leave out nullable fields
            if col.nullable and col.name not in arrays:
                arrays[col.name] = pa.nulls(n, pa.string())
        data = pa.table(arrays) if arrays else pa.table({})
        raws[name] = _RawTable(name, name, data, 0)
    frames = _validate_raws(raws, report, against)
    report.raise_for_errors("Fix the records named and send the whole batch again.")
    if warnings is not None:
        warnings.extend(report.warnings)
    assert frames is not None
    return frames
