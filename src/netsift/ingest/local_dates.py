"""Dates and times written in a locale's short form (``6/20/2017 5:36:59 AM``, ``20.06.2017 05:36``,
``2017/06/20 05:36:59``), as Windows DNS debug logs and spreadsheet or SIEM exports write them.

A date is year first (``YYYY-MM-DD``, ``YYYY/MM/DD``, ``YYYYMMDD``), day first when dotted (``DD.MM.YYYY``),
and for ``/`` and ``-`` dates the order is decided per file from the first chunk holding a first field
above 12 (day first, ``D/M/YYYY``) or a second field above 12 (month first, ``M/D/YYYY``), remembered in
``ctx.state``; until such a date is seen, month first (en-US) is assumed. The time is ``h:mm``,
``h:mm:ss`` or ``h:mm:ss.ffffff`` (a decimal comma too), read as 24 h unless followed by AM/PM. Stamps are
naive local times, read in ``ctx.tz``. Each distinct date is parsed once.
"""

from __future__ import annotations

import polars as pl

from netsift.ingest.base import ParseContext, localize_expr


def date_parts(token: pl.Expr) -> dict[str, pl.Expr]:
    """Three integer fields of a date token and its kind: ymd, dmy (dotted) or ambiguous (/ or -)."""
    compact = (token.str.len_chars() == 8) & token.cast(pl.Int64, strict=False).is_not_null()
    parts = token.str.replace_all(".", "/", literal=True).str.replace_all("-", "/", literal=True).str.split_exact("/", 2)
    p0, p1, p2 = (parts.struct.field(f) for f in ("field_0", "field_1", "field_2"))
    return {
        "a": pl.when(compact).then(token.str.slice(0, 4)).otherwise(p0).cast(pl.Int32, strict=False),
        "b": pl.when(compact).then(token.str.slice(4, 2)).otherwise(p1).cast(pl.Int32, strict=False),
        "c": pl.when(compact).then(token.str.slice(6, 2)).otherwise(p2).cast(pl.Int32, strict=False),
        "kind": pl.when(compact | (p0.str.len_chars() == 4)).then(pl.lit("ymd"))
        .when(token.str.contains(".", literal=True)).then(pl.lit("dmy"))
        .otherwise(pl.lit("ambiguous")),
    }


def day_first(tokens: pl.Series, ctx: ParseContext, state_key: str) -> bool:
    """Day/month order of this file's ``/`` and ``-`` dates, from distinct date tokens (see the module
    docstring); remembered in ``ctx.state[state_key]`` once a date decides it."""
    if state_key in ctx.state:
        return bool(ctx.state[state_key])
    p = date_parts(pl.col("d0"))
    amb = (p["kind"] == "ambiguous") & p["c"].is_not_null()
    ev = pl.DataFrame({"d0": tokens}, schema={"d0": pl.String}).select(
        day=(amb & (p["a"] > 12) & p["b"].is_between(1, 12)).any(),
        month=(amb & (p["b"] > 12) & p["a"].is_between(1, 12)).any(),
    ).row(0)
    if ev[0] != ev[1]:
        ctx.state[state_key] = bool(ev[0])
        return bool(ev[0])
    return False


def local_timestamps(df: pl.DataFrame, first_is_day_: bool, tz: str) -> pl.Series:
    """Naive-local stamps from columns d0 (date token), t0 (time) and ampm (``AM``/``PM`` or null), read in
    ``tz``; null where the date or time does not read."""
    dates = df.select(pl.col("d0").unique().drop_nulls())
    p = date_parts(pl.col("d0"))
    first_is_day = (p["kind"] == "dmy") | ((p["kind"] == "ambiguous") & pl.lit(first_is_day_))
    year = pl.when(p["kind"] == "ymd").then(p["a"]).otherwise(p["c"])
    month = pl.when(p["kind"] == "ymd").then(p["b"]).when(first_is_day).then(p["b"]).otherwise(p["a"])
    day = pl.when(p["kind"] == "ymd").then(p["c"]).when(first_is_day).then(p["a"]).otherwise(p["b"])
    text = pl.concat_str([year.cast(pl.String).str.zfill(4), month.cast(pl.String).str.zfill(2),
                          day.cast(pl.String).str.zfill(2)], separator="-")
    dates = dates.with_columns(
        date=pl.when(year > 1900).then(text.str.strptime(pl.Date, "%Y-%m-%d", strict=False))
    )
    hms = pl.col("t0").str.split(":")
    parts = hms.list.len()
    hour, minute = (hms.list.get(i, null_on_oob=True).cast(pl.Int32, strict=False) for i in (0, 1))
    sec_text = pl.when(parts == 2).then(pl.lit("0")).when(parts == 3).then(hms.list.get(2, null_on_oob=True))
    sec = sec_text.str.replace(",", ".", literal=True).str.split_exact(".", 1)
    second = sec.struct.field("field_0").cast(pl.Int32, strict=False)
    fraction = sec.struct.field("field_1")
    micros = pl.when(fraction.is_null()).then(pl.lit(0)).otherwise(
        fraction.str.slice(0, 6).str.pad_end(6, "0").cast(pl.Int32, strict=False))
    hour = (
        pl.when(pl.col("ampm").is_null()).then(hour)
        .when((pl.col("ampm") == "PM") & (hour < 12)).then(hour + 12)
        .when((pl.col("ampm") == "AM") & (hour == 12)).then(pl.lit(0))
        .when(hour <= 12).then(hour)
    )
    date = pl.col("d0").replace_strict(dates["d0"], dates["date"], default=None, return_dtype=pl.Date)
    valid = hour.is_between(0, 23) & minute.is_between(0, 59) & second.is_between(0, 59) & micros.is_not_null()
    ts = pl.when(valid).then(date.cast(pl.Datetime("us"))
                             + pl.duration(hours=hour, minutes=minute, seconds=second, microseconds=micros))
    return df.select(localize_expr(ts, tz)).to_series()


def local_stamps(texts: pl.Series, ctx: ParseContext, state_key: str) -> pl.Series:
    """``DATE TIME [AM|PM]`` texts -> naive UTC stamps (null where they do not read as such)."""
    words = texts.str.strip_chars().str.split(" ").list.eval(pl.element().filter(pl.element() != ""))
    ampm = words.list.get(2, null_on_oob=True).str.to_uppercase()
    df = pl.DataFrame({"d0": words.list.get(0, null_on_oob=True), "t0": words.list.get(1, null_on_oob=True),
                       "ampm": pl.Series(ampm).replace_strict({"AM": "AM", "PM": "PM"}, default="?"),
                       "n": words.list.len()})
    df = df.with_columns(ampm=pl.when(pl.col("n") == 2).then(None).when(pl.col("n") == 3).then(pl.col("ampm"))
                         .otherwise(pl.lit("?")))
    first_is_day = day_first(df["d0"].unique().drop_nulls(), ctx, state_key)
    out = local_timestamps(df, first_is_day, ctx.tz)
    bad_ampm = df["ampm"] == "?"
    return out.zip_with(~bad_ampm.fill_null(False), pl.Series([None] * len(out), dtype=out.dtype)).alias(texts.name)
