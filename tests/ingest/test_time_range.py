"""What ingest says about the time of its rows: the year it gave year-less stamps and why, a warning when
stamps fall in the future or far from the rest of the store, --year replacing an earlier read, and a forced
--format that matches nothing."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from netsift.ingest.run import IngestOptions, ingest_paths
from netsift.store import open_store

DATA = Path(__file__).parent.parent / "data"
LINE = "May  9 02:36:{s:02d} dnsmasq[1]: query[A] {tag}{i}.example.com from 10.0.0.{c}\n"
DEC_2_2026 = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC).timestamp()


@pytest.fixture
def store():
    with open_store(":memory:") as s:
        yield s


def pihole(path: Path, n: int = 20, mtime: float = DEC_2_2026) -> str:
    path.write_text("".join(LINE.format(s=i % 60, i=i, c=i % 7, tag=path.stem) for i in range(n)))
    os.utime(path, (mtime, mtime))
    return str(path)


def csv_log(path: Path, day: str, n: int = 20) -> str:
    path.write_text("timestamp,client,query_name,query_type\n" + "".join(
        f"{day}T10:00:{i % 60:02d}Z,10.0.0.{i % 9},h{i}.example.net,A\n" for i in range(n)))
    return str(path)


def test_the_year_assumed_and_why_are_in_the_report(store, tmp_path):
    report = ingest_paths(store, [pihole(tmp_path / "p.log")]).files[0]
    assert report.year == 2026 and report.as_dict()["year"] == 2026
    assert ("year-less stamps read as 2026, the year the file was last modified (2026-12-02); --year changes it"
            in report.message)
    other = ingest_paths(store, [pihole(tmp_path / "q.log")], IngestOptions(year=2024)).files[0]
    assert other.year == 2024 and "year-less stamps read as 2024 (--year)" in other.message
    january = pihole(tmp_path / "jan.log", mtime=dt.datetime(2027, 1, 3, tzinfo=dt.UTC).timestamp())
    report = ingest_paths(store, [january]).files[0]
    assert report.year == 2026 and "the year before the file was last modified (2027-01-03)" in report.message


def test_stamps_with_their_year_report_none(store, tmp_path):
    report = ingest_paths(store, [csv_log(tmp_path / "a.csv", "2026-11-01")]).files[0]
    assert report.year is None and report.warnings == [] and not report.message


def test_another_year_replaces_the_earlier_read(store, tmp_path):
    path = pihole(tmp_path / "p.log")
    ingest_paths(store, [path])
    again = ingest_paths(store, [path], IngestOptions(year=2024)).files[0]
    assert again.status == "ingested" and "replaces what was read as 2026" in again.message
    assert store.rows("SELECT DISTINCT year(ts) FROM dns_queries") == [(2024,)]
    assert store.scalar("SELECT count(*) FROM dns_queries") == 20
    assert ingest_paths(store, [path], IngestOptions(year=2024)).files[0].status == "unchanged"


def test_a_file_far_from_the_rest_of_the_store_warns_with_the_year_to_give(store, tmp_path):
    ingest_paths(store, [csv_log(tmp_path / "zeek.csv", "2024-05-09")])
    report = ingest_paths(store, [pihole(tmp_path / "p.log")]).files[0]  # May 2024 read as 2026
    assert len(report.warnings) == 1 and report.as_dict()["warnings"] == report.warnings
    warning = report.warnings[0]
    assert "its stamps (2026-05-09 to 2026-05-09) lie 2.0 years after the rest of the store" in warning
    assert "ingest it again with --year 2024 (read as 2026)" in warning
    fixed = ingest_paths(store, [str(tmp_path / "p.log")], IngestOptions(year=2024)).files[0]
    assert fixed.warnings == []


def test_a_file_near_the_store_or_into_an_empty_store_does_not_warn(store, tmp_path):
    first = ingest_paths(store, [csv_log(tmp_path / "a.csv", "2026-04-20")]).files[0]
    near = ingest_paths(store, [pihole(tmp_path / "p.log")]).files[0]  # 2026-05-09, 19 days later
    assert first.warnings == [] and near.warnings == []


def test_stamps_in_the_future_warn(store, tmp_path):
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=400)).strftime("%Y-%m-%d")
    report = ingest_paths(store, [csv_log(tmp_path / "a.csv", future)]).files[0]
    assert len(report.warnings) == 1 and "in the future" in report.warnings[0]
    assert "the stamps carry their year: logs of another period, or a wrong clock?" in report.warnings[0]
    year = dt.datetime.now(dt.UTC).year + 2
    report = ingest_paths(store, [pihole(tmp_path / "p.log")], IngestOptions(year=year)).files[0]
    assert "in the future" in report.warnings[0] and f"(read as {year})" in report.warnings[0]


def test_a_forced_format_that_matches_nothing_fails_the_file(store, tmp_path):
    zeek = str(DATA / "zeek_tsv" / "valid.log")
    report = ingest_paths(store, [zeek], IngestOptions(format="bind")).files[0]
    assert report.status == "error"
    assert report.message.startswith("--format bind matched none of its 18 lines")
    assert "detected format would be zeek_tsv" in report.message
    assert store.scalar("SELECT count(*) FROM ingested_files") == 0
    assert store.scalar("SELECT count(*) FROM rejected_lines") == 0
    # the right format on a file without questions is no mistake
    header_only = ingest_paths(store, [str(DATA / "zeek_tsv" / "header_only.log")],
                               IngestOptions(format="zeek_tsv")).files[0]
    assert header_only.status == "ingested" and header_only.rows == 0


@pytest.mark.parametrize("months, mtime, years", [
    # a real New Year: December then January, written to in January
    (["Dec", "Jan"], dt.datetime(2027, 1, 10, tzinfo=dt.UTC), [2026, 2027]),
    # lines out of order (a merged or sampled file): going back in months is not a New Year when the next
    # year would put the stamp after the file was last modified
    (["Mar", "Jan", "Feb", "Nov"], dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC), [2026, 2026, 2026, 2026]),
    (["Nov", "Feb", "Mar"], dt.datetime(2027, 3, 10, tzinfo=dt.UTC), [2026, 2027, 2027]),
    (["Nov", "Feb", "Mar"], dt.datetime(2027, 2, 10, tzinfo=dt.UTC), [2026, 2027, 2026]),
])
def test_year_less_stamps_never_pass_the_file_mtime(store, tmp_path, months, mtime, years):
    path = tmp_path / "p.log"
    path.write_text("".join(f"{m}  9 02:36:00 dnsmasq[1]: query[A] h{i}.example.com from 10.0.0.1\n"
                            for i, m in enumerate(months)))
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    ingest_paths(store, [str(path)])
    assert [r[0] for r in store.rows("SELECT year(ts) FROM dns_queries ORDER BY source_line")] == years


@pytest.mark.parametrize("stamps, mtime, years", [
    # a first stamp later in the mtime's own month: last year's (a log copied, or touched, a year on)
    (["Dec 21 10:00:00", "Dec 22 10:00:00"], dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC), [2025, 2025]),
    # within a day of the mtime (a zone ahead of UTC, a line written as the file closed): this year
    (["Dec  3 23:30:00"], dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC), [2026]),
    (["Dec  2 10:00:00", "Dec  3 09:00:00"], dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC), [2026, 2026]),
])
def test_the_first_stamp_s_day_decides_the_year_not_only_its_month(store, tmp_path, stamps, mtime, years):
    path = tmp_path / "p.log"
    path.write_text("".join(f"{s} dnsmasq[1]: query[A] h{i}.example.com from 10.0.0.1\n" for i, s in enumerate(stamps)))
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    ingest_paths(store, [str(path)])
    assert [r[0] for r in store.rows("SELECT year(ts) FROM dns_queries ORDER BY source_line")] == years
