"""ClickHouse stores: ``chdb:DIR`` (ClickHouse in-process through ``chdb``: no server) and
``clickhouse://[user[:password]@]host[:port]/database`` (a server or cluster through ``clickhouse-connect``).

One class, :class:`ClickHouseStore`, implements the :class:`~netsift.store.base.Store` seam over either
transport. The library's SQL is written once, in DuckDB's dialect: this store transpiles each statement with
sqlglot (cached per statement text) and rewrites what sqlglot does not carry (placeholders, list length and
slices, ``INSERT OR REPLACE``, ``UPDATE``, ``DELETE`` without a condition, DuckDB's sequence and thread
setting). ``?`` parameters become typed ClickHouse query parameters (``{p0:Int64}``), sent apart from the
statement: values are never spliced into SQL.

Tables come from the declarations of :mod:`netsift.schema`: MergeTree ordered for the detectors' access
paths ((client, ts) or (registered_domain, ts); a declared primary key otherwise), partitioned by day where
there is a non-null ``ts``, with an optional TTL (``retention_days``); appends go in batches of 100 k rows.

Transactions: ClickHouse has none across statements. ``replace`` is atomic for readers (the new rows go to
a fresh table swapped in with ``EXCHANGE TABLES``); ``transaction()`` only groups statements (each applies
on its own; nothing is rolled back); deletes and updates are synchronous mutations, so the ingest's
clean-up of a killed run (``bookkeeping.recover_interrupted``) sees its own deletes. Reads see the parts
committed when each query starts (``reader()`` gives no snapshot across queries).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from netsift import schema
from netsift.errors import StoreError, UsageError
from netsift.schema import Column, Table
from netsift.store import CLICKHOUSE_EXTRA as EXTRA_HINT
from netsift.store.base import Data, Params, columns_of, rows_of
from netsift.store.sql import Dialect

INSERT_BATCH = 100_000
PASSWORD_ENV = "NETSIFT_CLICKHOUSE_PASSWORD"

# session settings: SQL semantics as DuckDB has them (NULL from an aggregate over no rows and from the missing
# side of an outer join, UTC stamps) and synchronous deletes/updates
SESSION_SETTINGS = {
    "aggregate_functions_null_for_empty": 1,
    "join_use_nulls": 1,
    "mutations_sync": 2,
    "lightweight_deletes_sync": 2,
    "session_timezone": "UTC",
    "union_default_mode": "DISTINCT",
    "cast_keep_nullable": 1,
    "prefer_column_name_to_alias": 1,
}

_TYPES = {"timestamp": "DateTime64(6)", "text": "String", "int": "Int64", "float": "Float64", "bool": "Bool"}


# --- the dialect ---------------------------------------------------------------------------------------------

class ClickHouseDialect(Dialect):
    """The fragments of :mod:`netsift.store.sql` in the DuckDB spelling this store transpiles, except the DDL."""

    name = "clickhouse"

    def __init__(self, retention_days: int | None = None):
        self.retention_days = retention_days

    def in_list(self, column: str, sql_type: str = "VARCHAR") -> str:
        return f"has(CAST(? AS {_ch_array(sql_type)}), {column})"

    def not_in_list(self, column: str, sql_type: str = "VARCHAR") -> str:
        return f"NOT has(CAST(? AS {_ch_array(sql_type)}), {column})"

    def column_type(self, column: Column) -> str:
        if column.type == "text[]":
            return "Array(String)"  # a ClickHouse array is never NULL: a missing list is empty
        base = _TYPES[column.type]
        return f"Nullable({base})" if column.nullable else base

    def order_by(self, table: Table) -> list[str]:
        """The sort key: the detectors' access path where the table has one, else the declared key."""
        names = set(table.column_names)
        if "ts" in names:
            for lead in ("client", "registered_domain"):
                if lead in names:
                    return [lead, "ts"]
            return ["ts"]
        if table.primary_key:
            return list(table.primary_key)
        for lead in ("registered_domain", "client", "query_name", "domain"):
            if lead in names:
                return [lead]
        return []

    def ddl(self, table: Table, *, if_not_exists: bool = True, name: str | None = None) -> str:
        cols = ",\n  ".join(f"{c.name} {self.column_type(c)}" for c in table.columns)
        key = self.order_by(table)
        ts = next((c for c in table.columns if c.name == "ts" and c.type == "timestamp"), None)
        clauses = [f"ORDER BY ({', '.join(key)})" if key else "ORDER BY tuple()"]
        if ts is not None and not ts.nullable:
            clauses.insert(0, "PARTITION BY toDate(ts)")
            if self.retention_days:
                clauses.append(f"TTL toDateTime(ts) + INTERVAL {int(self.retention_days)} DAY")
        exists = "IF NOT EXISTS " if if_not_exists else ""
        return (f"CREATE TABLE {exists}{name or table.name} (\n  {cols}\n) ENGINE = MergeTree "
                + " ".join(clauses) + " SETTINGS allow_nullable_key = 1")


def _ch_array(sql_type: str) -> str:
    base = {"VARCHAR": "String", "TEXT": "String", "BIGINT": "Int64", "INTEGER": "Int64", "DOUBLE": "Float64",
            "TIMESTAMP": "DateTime64(6)"}.get(sql_type.upper(), sql_type)
    return f"Array(Nullable({base}))"


# --- the transpiler ------------------------------------------------------------------------------------------

_SENTINEL = "__nsp{}__"
_SENTINEL_RE = re.compile(r"__nsp(\d+)__")
_SEQUENCE_RE = re.compile(r"^\s*SELECT\s+nextval\('(\w+)'\)\s*$", re.I)
_SET_THREADS_RE = re.compile(r"^\s*SET\s+threads\s*=\s*(\d+)\s*$", re.I)
_CURRENT_THREADS_RE = re.compile(r"current_setting\('threads'\)", re.I)
_TRANSACTION_RE = re.compile(r"^\s*(BEGIN(\s+TRANSACTION)?|COMMIT|ROLLBACK)\s*;?\s*$", re.I)
_UPSERT_RE = re.compile(r"^\s*INSERT\s+OR\s+REPLACE\s+INTO\s+(\w+)\s*\(([^)]*)\)", re.I)


def _ordered_list(agg: exp.ArrayAgg, where: exp.Expression | None) -> exp.Expression:
    """DuckDB's ``list([DISTINCT] x ORDER BY k [DESC], ...) [FILTER (WHERE c)]``: ClickHouse has no ordered
    aggregates, so the values are gathered with their keys (groupArray / groupUniqArray, -If for a filter)
    and sorted after (descending keys must be numbers, or the value itself under DISTINCT)."""
    inner = agg.this
    order = inner if isinstance(inner, exp.Order) else None
    value = order.this if order is not None else inner
    distinct = isinstance(value, exp.Distinct)
    if distinct:
        value = value.expressions[0]
    keys = list(order.expressions) if order is not None else []
    suffix = "If" if where is not None else ""
    cond = [where] if where is not None else []
    if distinct or not keys:
        gathered = exp.Anonymous(this=("groupUniqArray" if distinct else "groupArray") + suffix,
                                 expressions=[value, *cond])
        if not keys:
            return gathered
        desc = bool(keys[0].args.get("desc"))
        return exp.Anonymous(this="arrayReverseSort" if desc else "arraySort", expressions=[gathered])
    tup = exp.Tuple(expressions=[value, *[k.this for k in keys]])
    gathered = exp.Anonymous(this="groupArray" + suffix, expressions=[tup, *cond])
    t = exp.to_identifier("t")
    sort_key = exp.Tuple(expressions=[
        (exp.Neg(this=exp.Anonymous(this="toFloat64", expressions=[exp.Dot.build([exp.column("t"),
                                                                                  exp.Literal.number(i + 2)])]))
         if k.args.get("desc") else exp.Dot.build([exp.column("t"), exp.Literal.number(i + 2)]))
        for i, k in enumerate(keys)])
    sorted_ = exp.Anonymous(this="arraySort", expressions=[exp.Lambda(this=sort_key, expressions=[t]), gathered])
    first = exp.Lambda(this=exp.Dot.build([exp.column("t"), exp.Literal.number(1)]), expressions=[t])
    return exp.Anonymous(this="arrayMap", expressions=[first, sorted_])


_INTERVALS = {"to_seconds": "toIntervalSecond", "to_minutes": "toIntervalMinute", "to_hours": "toIntervalHour",
              "to_days": "toIntervalDay", "to_milliseconds": "toIntervalMillisecond"}


def _rewrite(node: exp.Expression) -> exp.Expression:
    """What sqlglot's DuckDB → ClickHouse translation does not carry."""
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg):
        return _ordered_list(node.this, node.expression.this)
    if isinstance(node, exp.ArrayAgg) and not isinstance(node.parent, exp.Filter):
        return _ordered_list(node, None)
    if isinstance(node, exp.UnixToTime) and node.args.get("scale") is not None and \
            node.args["scale"].name == "3":  # DuckDB's epoch_ms(ts): milliseconds since 1970
        return exp.Anonymous(this="toUnixTimestamp64Milli", expressions=[node.this])
    if isinstance(node, exp.Length):  # DuckDB's len() of a list; ClickHouse's length() takes both
        return exp.Anonymous(this="length", expressions=[node.this])
    if isinstance(node, exp.ArraySize):
        return exp.Anonymous(this="length", expressions=[node.this])
    if isinstance(node, exp.LogicalAnd):  # bool_and: the least of the values (NULLs ignored)
        return exp.Anonymous(this="min", expressions=[node.this])
    if isinstance(node, exp.LogicalOr):
        return exp.Anonymous(this="max", expressions=[node.this])
    if isinstance(node, (exp.PercentileDisc, exp.PercentileCont)):
        name = "quantileExactLow" if isinstance(node, exp.PercentileDisc) else "quantileExactInclusive"
        return exp.ParameterizedAgg(this=name, expressions=[node.expression], params=[node.this])
    if isinstance(node, (exp.Greatest, exp.Least)):  # ClickHouse will not compare Int64 with Float64 here
        terms = [node.this, *node.expressions]
        if any(a.find(exp.Floor, exp.Ceil, exp.Div, exp.Round) for a in terms):
            node.set("this", exp.Anonymous(this="toFloat64", expressions=[terms[0]]))
            node.set("expressions", [exp.Anonymous(this="toFloat64", expressions=[a]) for a in terms[1:]])
        return node
    if isinstance(node, exp.DateBin):  # time_bucket(interval, ts)
        interval = node.this
        if isinstance(interval, exp.Interval) and interval.this.is_string:
            interval = exp.Interval(this=exp.Literal.number(interval.this.name), unit=interval.args.get("unit"))
        bucket = exp.Anonymous(this="toStartOfInterval", expressions=[node.expression, interval])
        return exp.Anonymous(this="toDateTime64", expressions=[bucket, exp.Literal.number(6)])  # not a DateTime
    if isinstance(node, exp.SplitPart):  # NULL stays NULL; a part past the end is ''
        text = node.this
        parts = exp.Anonymous(this="splitByString", expressions=[
            node.args["delimiter"], exp.Anonymous(this="assumeNotNull", expressions=[text.copy()])])
        return exp.If(this=exp.Is(this=text.copy(), expression=exp.Null()), true=exp.Null(),
                      false=exp.Anonymous(this="arrayElement", expressions=[parts, node.args["part_index"]]))
    if isinstance(node, exp.Anonymous) and node.name.lower() in _INTERVALS:
        return exp.Anonymous(this=_INTERVALS[node.name.lower()], expressions=list(node.expressions))
    if isinstance(node, exp.Anonymous) and node.name.lower() == "histogram":  # DuckDB's value -> count map
        one = exp.Anonymous(this="toInt64", expressions=[exp.Literal.number(1)])
        key = exp.Anonymous(this="assumeNotNull", expressions=[node.expressions[0]])
        return exp.Anonymous(this="sumMapIf", expressions=[
            exp.Anonymous(this="map", expressions=[key, one]), exp.Not(this=exp.Is(this=node.expressions[0],
                                                                                     expression=exp.Null()))])
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("list_position", "array_position"):
        return exp.Anonymous(this="indexOf", expressions=list(node.expressions))
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Slice):
        sl = node.expressions[0]
        start = sl.args.get("this") or exp.Literal.number(1)
        end = sl.args.get("expression")
        args: list[exp.Expression] = [node.this, start]
        if end is not None:
            args.append(exp.Sub(this=exp.Add(this=end, expression=exp.Literal.number(1)), expression=start))
        return exp.Anonymous(this="arraySlice", expressions=args)
    return node


_PREDICATES = (exp.Predicate, exp.Connector, exp.Not)


def _projection(e: exp.Expression) -> exp.Expression:
    """A selected ``t.x`` named ``x`` (ClickHouse names it ``t.x``); a selected condition a Bool (ClickHouse's
    comparisons give UInt8 0/1)."""
    if isinstance(e, exp.Column) and e.table and not isinstance(e.this, exp.Star):
        return cast(exp.Expression, exp.alias_(e, e.name))
    inner = e.this if isinstance(e, exp.Alias) else e
    if isinstance(inner, _PREDICATES):
        as_bool = exp.Anonymous(this="toBool", expressions=[inner.copy()])
        return cast(exp.Expression, exp.alias_(as_bool, e.alias)) if isinstance(e, exp.Alias) else as_bool
    return e


def _positional(query: exp.Select) -> None:
    """ORDER BY / GROUP BY naming a SELECT alias: DuckDB takes the alias, ClickHouse (set to prefer column
    names, as DuckDB does inside expressions) would take a column of that name; by position, both agree."""
    aliases = {e.alias: i + 1 for i, e in enumerate(query.expressions) if isinstance(e, exp.Alias)}
    order = query.args.get("order")
    for ordered in order.expressions if order else []:
        key = ordered.this
        if isinstance(key, exp.Column) and not key.table and key.name in aliases:
            ordered.set("this", exp.Literal.number(aliases[key.name]))
    group = query.args.get("group")
    if group:
        group.set("expressions", [
            exp.Literal.number(aliases[g.name]) if isinstance(g, exp.Column) and not g.table and g.name in aliases
            and not isinstance(query.expressions[aliases[g.name] - 1].this, exp.Column) else g
            for g in group.expressions])


@functools.lru_cache(maxsize=4096)
def transpile(sql: str) -> str:
    """DuckDB SQL → ClickHouse SQL, ``?`` placeholders numbered as ``__nspN__`` (cached per text)."""
    if m := _SEQUENCE_RE.match(sql):
        return f"SELECT nextval('{m.group(1)}')"  # answered by the store (see _next_id)
    if m := _SET_THREADS_RE.match(sql):
        return f"SET max_threads = {int(m.group(1))}"
    sql = _CURRENT_THREADS_RE.sub("getSetting('max_threads')", sql)
    upsert = _UPSERT_RE.match(sql)
    if upsert:  # the primary key's row is deleted first (see ClickHouseStore._execute)
        sql = _UPSERT_RE.sub(lambda m: f"INSERT INTO {m.group(1)} ({m.group(2)})", sql, count=1)
    try:
        # the ?s numbered left to right in the text (sqlglot's tree order is not the text's)
        marks = [t for t in sqlglot.tokenize(sql, read="duckdb") if t.token_type == TokenType.PLACEHOLDER]
        for i, token in reversed(list(enumerate(marks))):
            sql = sql[:token.start] + _SENTINEL.format(i) + sql[token.end + 1:]
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError as exc:
        raise StoreError(f"cannot translate SQL for ClickHouse: {exc}") from exc
    for query in tree.find_all(exp.Select):  # t.x is named x, as in DuckDB (ClickHouse says t.x)
        query.set("expressions", [_projection(e) for e in query.expressions])
    for query in tree.find_all(exp.Select):
        _positional(query)
    for node in reversed(list(tree.dfs())):  # children before their parents
        assert isinstance(node, exp.Expression)
        new = _rewrite(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    if isinstance(tree, exp.Insert) and isinstance(tree.expression, exp.Values):
        # query parameters are not read inside VALUES: INSERT ... SELECT row UNION ALL SELECT row
        rows = [exp.select(*t.expressions) for t in tree.expression.expressions]
        union: exp.Expression = rows[0]
        for row in rows[1:]:
            union = exp.union(union, row, distinct=False)
        tree.set("expression", union)
    if isinstance(tree, exp.Update):
        sets = ", ".join(e.sql("clickhouse") for e in tree.expressions)
        where = tree.args.get("where")
        cond = where.this.sql("clickhouse") if where else "1"
        return f"ALTER TABLE {tree.this.sql('clickhouse')} UPDATE {sets} WHERE {cond}"
    if isinstance(tree, exp.Delete) and not tree.args.get("where"):
        return f"TRUNCATE TABLE {tree.this.sql('clickhouse')}"
    return tree.sql("clickhouse")


def is_query(sql: str) -> bool:
    """True when ``sql`` is one statement that only reads."""
    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return False
    return len(trees) == 1 and isinstance(trees[0], (exp.Query, exp.Show, exp.Describe))


@dataclass(frozen=True)
class Bound:
    """A statement ready for the server: ClickHouse SQL with ``{pN:Type}`` parameters and their values."""

    sql: str
    params: dict[str, Any]
    types: dict[str, str]


def _ch_type(value: Any) -> str:
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, int):
        return "Int64"
    if isinstance(value, float):
        return "Float64"
    if isinstance(value, dt.datetime):
        return "DateTime64(6)"
    if isinstance(value, dt.date):
        return "Date"
    if isinstance(value, (list, tuple)):
        inner = next((v for v in value if v is not None), None)
        return f"Array(Nullable({_ch_type(inner) if inner is not None else 'String'}))"
    return "String"


def bind(sql: str, params: Params) -> Bound:
    """Transpile and bind: each ``?`` becomes ``{pN:Type}`` (NULL for None), its value kept apart."""
    text = transpile(sql)
    values: list[Any]
    if params is None:
        values = []
    elif isinstance(params, dict):
        raise StoreError("the ClickHouse store takes positional (?) parameters")
    else:
        values = list(params)
    used = {int(i) for i in _SENTINEL_RE.findall(text)}
    if len(used) != len(values):
        raise StoreError(f"statement has {len(used)} parameters, {len(values)} given")
    out: dict[str, Any] = {}
    types: dict[str, str] = {}

    def sub(m: re.Match[str]) -> str:
        i = int(m.group(1))
        value = values[i]
        if value is None:
            return "NULL"
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        out[f"p{i}"], types[f"p{i}"] = value, _ch_type(value)
        return f"{{p{i}:{types[f'p{i}']}}}"

    return Bound(_SENTINEL_RE.sub(sub, text), out, types)


# --- transports ----------------------------------------------------------------------------------------------

def _text_value(value: Any) -> str:
    """A parameter value in ClickHouse's escaped text form (what chdb's ``params`` expects)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_quoted(v) for v in value) + "]"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _quoted(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.datetime):
        value = value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _naive(table: pa.Table) -> pa.Table:
    """Stamps as DuckDB gives them: naive UTC; unsigned counts as signed."""
    fields = []
    changed = False
    for f in table.schema:
        t = f.type
        if pa.types.is_timestamp(t) and (t.tz is not None or t.unit != "us"):
            t, changed = pa.timestamp("us"), True
        elif pa.types.is_unsigned_integer(t):
            t, changed = pa.int64(), True
        fields.append(pa.field(f.name, t))
    return table.cast(pa.schema(fields)) if changed else table


def _plain_arrow(data: Data) -> pa.Table:
    table = data.to_arrow(compat_level=pl.CompatLevel.oldest()) if isinstance(data, pl.DataFrame) else data
    fields = []
    for f in table.schema:
        t = f.type
        if pa.types.is_large_string(t) or pa.types.is_string_view(t):
            t = pa.string()
        elif pa.types.is_large_list(t) or pa.types.is_list(t):
            t = pa.list_(pa.string()) if pa.types.is_string(t.value_type) or pa.types.is_large_string(
                t.value_type) or pa.types.is_string_view(t.value_type) else pa.list_(t.value_type)
        elif pa.types.is_null(t):
            t = pa.string()
        fields.append(pa.field(f.name, t))
    return table.cast(pa.schema(fields))


def _arrow_ch_type(t: pa.DataType) -> str:
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"Array({_arrow_ch_type(t.value_type)})"
    if pa.types.is_boolean(t):
        base = "Bool"
    elif pa.types.is_integer(t):
        base = "Int64"
    elif pa.types.is_floating(t):
        base = "Float64"
    elif pa.types.is_timestamp(t):
        base = "DateTime64(6)"
    elif pa.types.is_date(t):
        base = "Date"
    else:
        base = "String"
    return f"Nullable({base})"


class Transport:
    """What a ClickHouse store needs of a connection."""

    label: str

    def arrow(self, bound: Bound) -> pa.Table:
        raise NotImplementedError

    def command(self, bound: Bound) -> None:
        raise NotImplementedError

    def insert(self, table: str, columns: list[str], data: pa.Table) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class ChdbTransport(Transport):
    """chdb: ClickHouse in this process, data in a directory. One session per directory per process
    (shared by the stores and cursors opened on it, behind a lock)."""

    _open: dict[str, tuple[ChdbTransport, int]] = {}
    _guard = threading.Lock()

    def __init__(self, path: str):
        try:
            from chdb import session as chdb_session  # noqa: PLC0415 - optional extra, imported on use
        except ImportError as exc:
            raise UsageError(f"--db chdb:... needs the ClickHouse extra: {EXTRA_HINT}") from exc
        self.label = f"chdb:{path}"
        self.path = path
        self.lock = threading.RLock()
        Path(path).mkdir(parents=True, exist_ok=True)
        try:
            self.session = chdb_session.Session(path)
        except Exception as exc:
            hint = (" (chdb allows one process per directory: stop the other netsift command using it, e.g. "
                    "serve or watch, or use a ClickHouse server)" if "EmbeddedServer" in str(exc) else "")
            raise StoreError(f"cannot open chdb:{path}: {_first_line(exc)}{hint}") from exc
        for name, value in SESSION_SETTINGS.items():
            self.session.query(f"SET {name} = {_quoted(value)}")

    @classmethod
    def acquire(cls, path: str, read_only: bool = False) -> ChdbTransport:
        key = os.path.realpath(path)
        with cls._guard:
            if key in cls._open:
                transport, n = cls._open[key]
                cls._open[key] = (transport, n + 1)
                return transport
            if cls._open:  # chdb runs one engine per process
                other = next(iter(cls._open))
                raise StoreError(f"chdb:{path}: this process already has chdb:{other} open (chdb runs one "
                                 "store per process); close it first")
            transport = cls(path)
            if read_only:  # 2: reads only, settings may still change (readonly itself may not)
                transport.session.query("SET readonly = 2")
            cls._open[key] = (transport, 1)
            return transport

    def _run(self, bound: Bound, fmt: str) -> Any:
        params = {k: _text_value(v) for k, v in bound.params.items()}
        with self.lock:
            try:
                return self.session.query(bound.sql, fmt, params=params or None)
            except Exception as exc:
                raise StoreError(f"ClickHouse: {_first_line(exc)}") from exc

    def arrow(self, bound: Bound) -> pa.Table:
        return self._run(bound, "ArrowTable")

    def command(self, bound: Bound) -> None:
        self._run(bound, "CSV")

    def insert(self, table: str, columns: list[str], data: pa.Table) -> None:
        netsift_rows = data  # noqa: F841 - read by name by chdb's Python() table function below
        cols = ", ".join(columns)
        with self.lock:
            try:
                self.session.query(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM Python(netsift_rows)")
            except Exception as exc:
                raise StoreError(f"ClickHouse: {_first_line(exc)}") from exc

    def close(self) -> None:
        key = os.path.realpath(self.path)
        with self._guard:
            transport, n = self._open.get(key, (self, 1))
            if n > 1:
                self._open[key] = (transport, n - 1)
                return
            self._open.pop(key, None)
        with self.lock:
            self.session.close()


class ServerTransport(Transport):
    """A ClickHouse server (or cluster) through clickhouse-connect (HTTP)."""

    def __init__(self, url: str, read_only: bool = False):
        try:
            import clickhouse_connect  # noqa: PLC0415 - optional extra, imported on use
        except ImportError as exc:
            raise UsageError(f"--db clickhouse://... needs the ClickHouse extra: {EXTRA_HINT}") from exc
        # the driver's own log lines would repeat (and could show a URL) what netsift reports in one line
        logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)
        parts = urlsplit(url)
        database = parts.path.strip("/") or "default"
        password = unquote(parts.password) if parts.password else os.environ.get(PASSWORD_ENV, "")
        self.label = f"clickhouse://{parts.hostname}:{parts.port or 8123}/{database}"  # no user, no password
        settings: dict[str, Any] = dict(SESSION_SETTINGS)
        if read_only:
            settings["readonly"] = 2  # 2: reads only; the driver may still set its per-query settings
        try:
            self.client = clickhouse_connect.get_client(
                host=parts.hostname or "localhost", port=parts.port or 8123,
                username=unquote(parts.username) if parts.username else "default", password=password,
                database=database, settings=settings)
        except Exception as exc:
            raise StoreError(f"cannot open {self.label}: {_first_line(exc).replace(password, '***') if password else _first_line(exc)}") from exc
        self.lock = threading.RLock()

    def arrow(self, bound: Bound) -> pa.Table:
        with self.lock:
            try:
                return self.client.query_arrow(bound.sql, parameters=bound.params or None)
            except Exception as exc:
                raise StoreError(f"ClickHouse: {_first_line(exc)}") from exc

    def command(self, bound: Bound) -> None:
        with self.lock:
            try:
                self.client.command(bound.sql, parameters=bound.params or None)
            except Exception as exc:
                raise StoreError(f"ClickHouse: {_first_line(exc)}") from exc

    def insert(self, table: str, columns: list[str], data: pa.Table) -> None:
        with self.lock:
            try:
                self.client.insert_arrow(table, data.select(columns))
            except Exception as exc:
                raise StoreError(f"ClickHouse: {_first_line(exc)}") from exc

    def close(self) -> None:
        self.client.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_last_id = 0  # the last file id this process handed out (ids grow within a process)
_id_lock = threading.Lock()


# --- the store -----------------------------------------------------------------------------------------------

class ClickHouseStore:
    """The :class:`~netsift.store.base.Store` over ClickHouse (chdb in-process, or a server)."""

    def __init__(self, target: str, *, read_only: bool = False, retention_days: int | None = None,
                 transport: Transport | None = None):
        self.path = target if not target.startswith("clickhouse://") else ""
        self.read_only = read_only
        self.sql: Dialect = ClickHouseDialect(retention_days)
        self._owner = True
        if transport is not None:
            self.transport = transport
        elif target.startswith("chdb:"):
            self.transport = ChdbTransport.acquire(target.removeprefix("chdb:") or ".", read_only)
        elif target.startswith("clickhouse://"):
            self.transport = ServerTransport(target, read_only=read_only)
        else:
            raise UsageError(f"not a ClickHouse store: {target!r} (chdb:DIR or clickhouse://host/database)")
        self.path = self.path or self.transport.label
        try:
            if not read_only:
                self.ensure_schema()
                # deferred: ingest.bookkeeping imports netsift.store (this package): a cycle at import time
                from netsift.ingest import bookkeeping  # noqa: PLC0415

                bookkeeping.recover_interrupted(self)
                self._remove_orphans()
        except BaseException:
            self.close()
            raise

    def _remove_orphans(self) -> None:
        """Rows of a file without a record: an ingest killed between a file's rows and its first record
        (DuckDB writes both in one transaction; here each insert stands alone). One column scan per row
        table; a delete only when there is something to remove."""
        for table in schema.all_tables():
            if {"source_file_id", "source_line"} <= set(table.column_names):
                where = "source_file_id NOT IN (SELECT file_id FROM ingested_files)"
                if self.scalar(f"SELECT count(*) FROM {table.name} WHERE {where}"):
                    self.execute(f"DELETE FROM {table.name} WHERE {where}")

    # --- reading ----------------------------------------------------------------------------------
    def arrow(self, sql: str, params: Params = None) -> pa.Table:
        if m := _SEQUENCE_RE.match(sql):
            return pa.table({"nextval": [self._next_id(m.group(1))]})
        if self.read_only and not is_query(sql):
            raise StoreError("this store is open read-only: only queries (SELECT, WITH ..., SHOW, DESCRIBE)")
        return _naive(self.transport.arrow(bind(sql, params)))

    def frame(self, sql: str, params: Params = None) -> pl.DataFrame:
        out = pl.from_arrow(self.arrow(sql, params))
        assert isinstance(out, pl.DataFrame)
        return out

    def rows(self, sql: str, params: Params = None) -> list[tuple]:
        table = self.arrow(sql, params)
        cols = [c.to_pylist() for c in table.columns]
        return list(zip(*cols)) if cols else []

    def dicts(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        return self.arrow(sql, params).to_pylist()

    def scalar(self, sql: str, params: Params = None) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    # --- writing ----------------------------------------------------------------------------------
    def execute(self, sql: str, params: Params = None) -> None:
        if self.read_only:
            raise StoreError("this store is open read-only")
        if _TRANSACTION_RE.match(sql):
            return  # no multi-statement transactions: each statement applies on its own
        m = _UPSERT_RE.match(sql)
        if m:
            self._delete_key(m.group(1), [c.strip() for c in m.group(2).split(",")], params)
        self.transport.command(bind(sql, params))

    def _delete_key(self, table: str, columns: list[str], params: Params) -> None:
        declared = next((t for t in schema.all_tables() if t.name == table), None)
        if declared is None or not declared.primary_key or not isinstance(params, Sequence):
            return
        values = dict(zip(columns, params))
        where = " AND ".join(f"{k} = ?" for k in declared.primary_key)
        self.transport.command(bind(f"DELETE FROM {table} WHERE {where}", [values[k] for k in declared.primary_key]))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        for row in rows:
            self.execute(sql, row)

    def append(self, table: str, data: Data) -> None:
        if rows_of(data) == 0:
            return
        if self.read_only:
            raise StoreError("this store is open read-only")
        arrow = _plain_arrow(data)
        arrow = _fill_lists(arrow)
        for start in range(0, arrow.num_rows, INSERT_BATCH):
            self.transport.insert(table, columns_of(arrow), arrow.slice(start, INSERT_BATCH))

    def replace(self, table: str, data: Data) -> None:
        """The new rows go to a fresh table, swapped in with EXCHANGE TABLES: readers see old or new."""
        fresh = f"{table}__new_{secrets.token_hex(4)}"
        self.execute(f"CREATE TABLE {fresh} AS {table}")
        try:
            self.append(fresh, data)
            self.transport.command(Bound(f"EXCHANGE TABLES {fresh} AND {table}", {}, {}))
        finally:
            self.transport.command(Bound(f"DROP TABLE IF EXISTS {fresh}", {}, {}))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Groups statements only: ClickHouse applies each on its own (see the module's docstring)."""
        yield

    @contextmanager
    def temp_table(self, name: str, data: Data) -> Iterator[None]:
        arrow = _fill_lists(_plain_arrow(data))
        cols = ", ".join(f"`{f.name}` {_arrow_ch_type(f.type)}" for f in arrow.schema)
        self.transport.command(Bound(f"DROP TABLE IF EXISTS {name}", {}, {}))
        self.transport.command(Bound(f"CREATE TABLE {name} ({cols}) ENGINE = Memory", {}, {}))
        try:
            if arrow.num_rows:
                self.transport.insert(name, arrow.column_names, arrow)
            yield
        finally:
            self.transport.command(Bound(f"DROP TABLE IF EXISTS {name}", {}, {}))

    # --- schema -----------------------------------------------------------------------------------
    def _columns(self) -> set[tuple[str, str]]:
        return {(t, c) for t, c in self.rows(
            "SELECT table, name FROM system.columns WHERE database = currentDatabase()")}

    def ensure_schema(self) -> None:
        existing = self._columns()
        tables = {t for t, _ in existing}
        for table in schema.all_tables():
            if table.name not in tables:
                self.transport.command(Bound(self.sql.ddl(table), {}, {}))
                continue
            for column in table.columns:
                if (table.name, column.name) not in existing:
                    self.transport.command(Bound(f"ALTER TABLE {table.name} ADD COLUMN {column.name} "
                                                 f"{self.sql.column_type(column)}", {}, {}))

    def ensure_tables(self, tables: Sequence[Table]) -> None:
        for table in tables:
            self.transport.command(Bound(self.sql.ddl(table), {}, {}))

    def create_tables(self, tables: Sequence[Table]) -> None:
        for table in tables:
            self.transport.command(Bound(f"DROP TABLE IF EXISTS {table.name}", {}, {}))
            self.transport.command(Bound(self.sql.ddl(table, if_not_exists=False), {}, {}))

    def has_table(self, name: str) -> bool:
        return bool(self.scalar("SELECT count(*) FROM system.tables WHERE database = currentDatabase() "
                                "AND name = ?", [name]))

    def has_column(self, table: str, column: str) -> bool:
        return bool(self.scalar("SELECT count(*) FROM system.columns WHERE database = currentDatabase() "
                                "AND table = ? AND name = ?", [table, column]))

    def _next_id(self, sequence: str) -> int:
        """DuckDB's sequence, for ``ingested_files.file_id``: milliseconds since 2020 times 1024 plus random
        bits, so that ids grow and several sensors writing one cluster do not collide."""
        global _last_id
        ms = int((time.time() - 1_577_836_800) * 1000)
        with _id_lock:
            _last_id = max(_last_id + 1, ms * 1024 + secrets.randbelow(1024))
            return _last_id

    # --- sessions ---------------------------------------------------------------------------------
    def cursor(self) -> ClickHouseStore:
        session = ClickHouseStore.__new__(ClickHouseStore)
        session.path, session.read_only, session.sql = self.path, self.read_only, self.sql
        session.transport, session._owner = self.transport, False
        return session

    @contextmanager
    def reader(self) -> Iterator[ClickHouseStore]:
        yield self.cursor()

    def close(self) -> None:
        if self._owner and getattr(self, "transport", None) is not None:
            self._owner = False
            self.transport.close()

    def __enter__(self) -> ClickHouseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fill_lists(table: pa.Table) -> pa.Table:
    """ClickHouse arrays are never NULL: a missing list is stored empty."""
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type) and table.column(i).null_count:
            chunks: list[Any] = []
            for chunk in table.column(i).chunks:
                lengths = pc.fill_null(pc.list_value_length(chunk), 0).cast(pa.int32())
                offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(lengths)])
                chunks.append(pa.ListArray.from_arrays(offsets, pc.list_flatten(chunk), type=field.type))
            table = table.set_column(i, field.name, pa.chunked_array(chunks))
    return table
