"""Write an events frame as a native DNS log, line for line as the real software writes it.

    write(events, "pihole", "pihole.log")            # dnsmasq / Pi-hole query log
    write(events, "zeek_tsv", "dns.log.gz")          # compression from the suffix, or compress="gzip"
    write_lines_fast("pihole", "bench.log", 10_000_000, seed=1)

Formats: ``pihole`` (dnsmasq ``log-queries``: query / forwarded / reply / cached / gravity blocked, one reply
line per answer with ``<CNAME>``, ``NXDOMAIN``, ``NODATA-IPv4`` ... as dnsmasq prints them), ``zeek_tsv``
(Zeek 6 dns.log with its ``#`` header), ``zeek_json``, ``bind`` (BIND 9 querylog with ``client @0x…``),
``windows_dns`` (Windows DNS Server debug log, en-US, header block, Rcv + Snd lines, CRLF),
``umbrella_csv`` (Cisco Umbrella DNS log export, no header) and ``csv`` (header
``ts,client,query_name,query_type,response_code,answers``; answers joined with ``|``).

Every format is built column-wise with Polars string expressions, 100 k events at a time, so memory stays
bounded whatever the size. What a format cannot say (answers in BIND, the resolver's action in Zeek) is
simply not written. Per-row details the canonical frame lacks (ports, transaction ids, TTLs, round-trip
times) are derived from a hash of the row, so the same frame always gives the same file.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

import polars as pl

from netsift.ingest.base import QTYPE_NUMBERS, RCODE_NAMES
from netsift.ingest.reader import as_stream
from netsift.synth import domains, traffic
from netsift.synth.events import answer_ttl, generate

FORMATS = ("pihole", "zeek_tsv", "zeek_json", "bind", "windows_dns", "umbrella_csv", "csv")
BATCH = 100_000
DNSMASQ_PID = 30917
UPSTREAM = "127.0.0.1#5335"
RCODE_NUMBERS = {v: k for k, v in RCODE_NAMES.items()}
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ZEEK_FIELDS = ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "trans_id", "rtt", "query",
               "qclass", "qclass_name", "qtype", "qtype_name", "rcode", "rcode_name", "AA", "TC", "RD", "RA", "Z",
               "answers", "TTLs", "rejected")
ZEEK_TYPES = ("time", "string", "addr", "port", "addr", "port", "enum", "count", "interval", "string", "count",
              "string", "count", "string", "count", "string", "bool", "bool", "bool", "bool", "count",
              "vector[string]", "vector[interval]", "bool")
WINDOWS_HEADER = (  # the key Windows DNS Server writes at the top of every debug log
    "Message logging key (for packets - other items use a subset of these fields):",
    "\tField #  Information         Values",
    "\t-------  -----------         ------",
    "\t   1     Date",
    "\t   2     Time",
    "\t   3     Thread ID",
    "\t   4     Context",
    "\t   5     Internal packet identifier",
    "\t   6     UDP/TCP indicator",
    "\t   7     Send/Receive indicator",
    "\t   8     Remote IP",
    "\t   9     Xid (hex)",
    "\t  10     Query/Response      R = Response",
    "\t                             blank = Query",
    "\t  11     Opcode              Q = Standard Query",
    "\t                             N = Notify",
    "\t                             U = Update",
    "\t                             ? = Unknown",
    "\t  12     [ Flags (hex)",
    "\t  13     Flags (char codes)  A = Authoritative Answer",
    "\t                             T = Truncated Response",
    "\t                             D = Recursion Desired",
    "\t                             R = Recursion Available",
    "\t  14     ResponseCode ]",
    "\t  15     Question Type",
    "\t  16     Question Name",
)

# ---------------------------------------------------------------------------------------------------


def _open(path: Path, compress: str | None) -> IO[bytes]:
    kind = compress or {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zst"}.get(path.suffix)
    if kind in ("gzip", "gz"):
        return as_stream(gzip.open(path, "wb", compresslevel=6))
    if kind == "bz2":
        return bz2.open(path, "wb")
    if kind == "xz":
        return lzma.open(path, "wb")
    if kind in ("zst", "zstd"):
        import zstandard

        return zstandard.ZstdCompressor().stream_writer(open(path, "wb"), closefd=True)
    if kind is not None:
        raise ValueError(f"unknown compression {compress!r}: use gzip, bz2, xz or zst")
    return open(path, "wb")


def _h(*cols: str, seed: int = 0) -> pl.Expr:
    """A per-row hash (u64) of some columns (stable for a given Polars version)."""
    return pl.struct(*cols).hash(seed)


def _prep(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(
        pl.col("ts").dt.epoch("us").alias("_us"),
        pl.col("answers").fill_null(pl.lit([], dtype=pl.List(pl.String))).alias("_ans"),
        _h("ts", "client", "query_name", "query_type").alias("_h"),
    )


def _digits(value: pl.Expr, alphabet: str, n: int) -> pl.Expr:
    """``n`` characters of ``alphabet`` spelling an unsigned integer expression (least significant first)."""
    base = len(alphabet)
    table = pl.lit(pl.Series(list(alphabet)))
    return pl.concat_str([table.gather((value // (base ** i)) % base) for i in range(n)])


def _is_ip(e: pl.Expr) -> pl.Expr:
    return e.str.contains(r"^[0-9.]+$|:")


def _per_name(df: pl.DataFrame, column: str, fn, name: str) -> pl.Series:
    """Apply a Python function once per distinct value of ``column`` (names repeat a lot) and map back."""
    keys = df[column].unique()
    table = pl.DataFrame({column: keys, name: pl.Series([fn(k) for k in keys.to_list()], dtype=pl.String)})
    return df.select(column).join(table, on=column, how="left", maintain_order="left")[name]


def _rtt_us(df_hash: pl.Expr) -> pl.Expr:
    return ((df_hash // 7) % 60_000 + 400).cast(pl.Int64)


# --- pihole ----------------------------------------------------------------------------------------------

def _nodata(qtype: pl.Expr) -> pl.Expr:
    return (pl.when(qtype == "A").then(pl.lit("NODATA-IPv4")).when(qtype == "AAAA").then(pl.lit("NODATA-IPv6"))
            .otherwise(pl.lit("NODATA")))


def _pihole_prefix() -> pl.Expr:
    return pl.col("ts").dt.strftime("%b %e %H:%M:%S") + pl.lit(f" dnsmasq[{DNSMASQ_PID}]: ")


def _pihole(df: pl.DataFrame, stamped: bool = True) -> pl.DataFrame:
    """(line, question, _e) rows: every event's query line, then its forwarded / cached / reply lines.
    ``stamped=False`` leaves out the ``May  9 02:36:02 dnsmasq[pid]: `` prefix (for templates).

    Replies follow dnsmasq: a CNAME chain prints ``<CNAME>`` for each link, each address is printed
    against the last name of the chain, a chain ending without addresses prints NODATA-IPv4/-IPv6 against
    its last name, PTR answers print as ``reply <address> is <name>``, other types as ``<MX>``, ``<TXT>``..."""
    action = pl.col("resolver_action").fill_null("forwarded")
    blocked = action.str.starts_with("blocked")
    n = pl.col("_ans").list.len().cast(pl.Int64)
    chain = pl.col("query_type").is_in(["A", "AAAA", "HTTPS", "SVCB"])
    e = df.with_row_index("_e").with_columns(
        (_pihole_prefix() if stamped else pl.lit("")).alias("_p"),
        pl.when(action == "cached").then(pl.lit("cached ")).otherwise(pl.lit("reply ")).alias("_verb"),
        pl.col("_ans").list.eval(~_is_ip(pl.element())).list.sum().alias("_names"),
    )
    head = e.select("_e", pl.lit(0).alias("_o"), (pl.col("_p") + "query[" + pl.col("query_type") + "] "
                    + pl.col("query_name") + " from " + pl.col("client")).alias("line"))
    second = e.filter(blocked | (action != "cached")).select(
        "_e", pl.lit(1).alias("_o"),
        (pl.col("_p") + pl.when(blocked).then(
            "gravity blocked " + pl.col("query_name") + " is "
            + pl.when(n > 0).then(pl.col("_ans").list.first()).otherwise(_nodata(pl.col("query_type")))
        ).otherwise("forwarded " + pl.col("query_name") + " to " + pl.lit(UPSTREAM))).alias("line"))
    live = e.filter(~blocked & pl.col("response_code").is_not_null())
    bare = live.filter(n == 0).select(
        "_e", pl.lit(2).alias("_o"),
        (pl.col("_p") + pl.col("_verb") + pl.col("query_name") + " is "
         + pl.when(pl.col("response_code") == "NOERROR").then(_nodata(pl.col("query_type")))
         .otherwise(pl.col("response_code"))).alias("line"))
    answered = live.filter(n > 0).with_columns(
        (n.cum_sum() - n).alias("_start"),
        pl.when(pl.col("_names") > 0).then(pl.col("_ans").list.get(pl.col("_names") - 1, null_on_oob=True))
        .otherwise(pl.col("query_name")).alias("_last"))
    ex = answered.select("_e", "_p", "_verb", "query_name", "query_type", "_names", "_last", "_start", "_ans") \
        .explode("_ans").with_columns((pl.int_range(pl.len()) - pl.col("_start")).alias("_k"))
    k = pl.col("_k")
    is_name = k < pl.col("_names")  # a chain lists its names first
    owner = (pl.when(pl.col("query_type") == "PTR").then(
                 pl.col("query_name").str.strip_suffix(".in-addr.arpa").str.split(".").list.reverse().list.join("."))
             .when(~chain).then(pl.col("query_name"))
             .when(k == 0).then(pl.col("query_name"))
             .when(k <= pl.col("_names")).then(pl.col("_ans").shift(1))
             .otherwise(pl.col("_last")))
    value = (pl.when(chain & is_name).then(pl.lit("<CNAME>"))
             .when(chain | (pl.col("query_type") == "PTR")).then(pl.col("_ans"))
             .otherwise("<" + pl.col("query_type") + ">"))
    replies = ex.select("_e", (k + 2).alias("_o"), (pl.col("_p") + pl.col("_verb") + owner + " is " + value).alias("line"))
    tails = answered.filter(chain & (pl.col("_names") == n)).select(
        "_e", pl.lit(10_000).alias("_o"),
        (pl.col("_p") + pl.col("_verb") + pl.col("_last") + " is " + _nodata(pl.col("query_type"))).alias("line"))
    parts = [f.with_columns(pl.col("_o").cast(pl.Int64)) for f in (head, second, bare, replies, tails)]
    return pl.concat(parts).sort("_e", "_o").select("line", (pl.col("_o") == 0).alias("question"), "_e")


# --- zeek ---------------------------------------------------------------------------------------------

_TRIPLES = pl.Series([a + b + c for a in _ALNUM for b in _ALNUM for c in _ALNUM])  # 238 328 base62 triples


def _zeek_key(df: pl.DataFrame) -> pl.Expr:
    return pl.struct("query_name", "query_type", "response_code", "server", "_ans").hash(5)


def _zeek_uid() -> pl.Expr:
    triples, base = pl.lit(_TRIPLES), len(_ALNUM) ** 3
    return pl.lit("C") + pl.concat_str([triples.gather(pl.col("_h") // base ** i % base) for i in range(3)]
                                       + [triples.gather(pl.col("_h").hash(1) // base ** i % base) for i in range(3)]
                                       ).str.slice(0, 17)


def _zeek_packet() -> dict[str, pl.Expr]:
    """The per-packet fields of Zeek's dns.log (time, uid, endpoints, transaction id, round trip) from
    the columns _us, _h, client, server, response_code."""
    mdns = pl.col("server").is_in([traffic.MDNS_V4, traffic.MDNS_V6])
    return {
        "ts_s": (pl.col("_us") // 1_000_000).cast(pl.String),
        "ts_f": (pl.col("_us") % 1_000_000 + 1_000_000).cast(pl.String).str.slice(1),
        "uid": _zeek_uid(), "id.orig_h": pl.col("client"),
        "id.orig_p": pl.when(mdns).then(5353).otherwise(pl.col("_h") % 64511 + 1024).cast(pl.String),
        "id.resp_h": pl.col("server"),
        "id.resp_p": pl.when(mdns).then(pl.lit("5353")).otherwise(pl.lit("53")),
        "proto": pl.lit("udp"),
        "trans_id": pl.when(mdns).then(0).otherwise(pl.col("_h") // 2 ** 20 % 65536).cast(pl.String),
        "rtt": pl.when(pl.col("response_code").is_not_null())
        .then(pl.lit("0.") + (_rtt_us(pl.col("_h")) + 1_000_000).cast(pl.String).str.slice(1)),
    }


def _zeek_dynamic(df: pl.DataFrame) -> pl.DataFrame:
    return df.select(_zeek_key(df).alias("_key"), *(e.alias(k) for k, e in _zeek_packet().items()))


def _zeek_tsv_line(tail: pl.Expr) -> pl.Expr:
    """One TSV line in a single pass: the packet fields, then the pre-rendered question/answer tail."""
    f = _zeek_packet()
    parts = [f["ts_s"], pl.lit("."), f["ts_f"]]
    for name in ZEEK_FIELDS[1:9]:
        parts += [pl.lit("\t"), f[name].fill_null("-")]
    return pl.concat_str([*parts, pl.lit("\t"), tail]).alias("line")


def _zeek_static(df: pl.DataFrame) -> pl.DataFrame:
    """The question / answer columns, computed once per distinct (name, type, code, answers, server).
    TXT answers print as ``TXT <length> <text>`` (commas escaped in TSV); each answer gets the name's TTL."""
    u = df.with_columns(_zeek_key(df).alias("_key")).unique("_key", keep="first")
    mdns = pl.col("server").is_in([traffic.MDNS_V4, traffic.MDNS_V6])
    has_reply = pl.col("response_code").is_not_null()
    n = pl.col("_ans").list.len().cast(pl.Int64)
    txt = pl.col("query_type") == "TXT"
    first = pl.col("_ans").list.first()
    txt_answer = pl.lit("TXT ") + first.str.len_chars().cast(pl.String) + " " + first  # one string per TXT answer
    ttl = _per_name(u, "query_name", lambda name: f"{answer_ttl(name, 'NOERROR')}.000000", "_ttl")
    return u.with_columns(pl.lit(ttl).alias("_ttl")).select(
        "_key",
        pl.col("query_name").alias("query"), pl.lit("1").alias("qclass"), pl.lit("C_INTERNET").alias("qclass_name"),
        pl.col("query_type").replace_strict(QTYPE_NUMBERS, default=0, return_dtype=pl.Int64).cast(pl.String).alias("qtype"),
        pl.col("query_type").alias("qtype_name"),
        pl.col("response_code").replace_strict(RCODE_NUMBERS, default=None, return_dtype=pl.Int64).cast(pl.String)
        .alias("rcode"),
        pl.col("response_code").alias("rcode_name"),
        pl.lit("F").alias("AA"), pl.lit("F").alias("TC"),
        pl.when(mdns).then(pl.lit("F")).otherwise(pl.lit("T")).alias("RD"),
        pl.when(has_reply).then(pl.lit("T")).otherwise(pl.lit("F")).alias("RA"), pl.lit("0").alias("Z"),
        pl.when(n == 0).then(None).when(txt).then(txt_answer.str.replace_all(",", r"\x2c", literal=True))
        .otherwise(pl.col("_ans").list.join(",")).alias("answers"),
        pl.when(n == 0).then(None).when(txt).then(pl.concat_list(txt_answer)).otherwise(pl.col("_ans"))
        .alias("answers_list"),
        pl.when(n > 0).then(pl.concat_str(pl.col("_ttl"), (pl.lit(",") + pl.col("_ttl")).repeat_by((n - 1).clip(0))
                                          .list.join(""))).alias("TTLs"),
        pl.lit("F").alias("rejected"),
    )


_ZEEK_TAIL = pl.concat_str([pl.col(c).fill_null("-") for c in ZEEK_FIELDS[9:]], separator="\t").alias("_tail")


def _zeek_tsv(df: pl.DataFrame) -> pl.DataFrame:
    tail = _zeek_static(df).select("_key", _ZEEK_TAIL)
    return df.with_columns(_zeek_key(df).alias("_key")).join(tail, on="_key", how="left", maintain_order="left") \
        .select(_zeek_tsv_line(pl.col("_tail")), pl.lit(True).alias("question"))


def _json_fragments(names: tuple[str, ...]) -> pl.Expr:
    numeric = {"id.orig_p", "id.resp_p", "trans_id", "rtt", "qclass", "qtype", "rcode", "Z"}
    boolean = {"AA", "TC", "RD", "RA", "rejected"}
    parts = []
    for name in names:
        key = f'"{name}":'
        if name == "ts":
            frag = pl.lit(key) + pl.col("ts_s") + "." + pl.col("ts_f")
        elif name == "TTLs":
            frag = pl.lit(key + "[") + pl.col(name).str.replace_all(".000000", ".0", literal=True) + "]"
        elif name in numeric:
            frag = pl.lit(key) + pl.col(name)
        elif name in boolean:
            frag = pl.lit(key) + pl.when(pl.col(name) == "T").then(pl.lit("true")).otherwise(pl.lit("false"))
        else:  # strings and the answers list: let Polars do the JSON escaping
            frag = pl.struct(pl.col(name)).struct.json_encode().str.slice(1).str.strip_suffix("}")
        parts.append(pl.when(pl.col("ts_s" if name == "ts" else name).is_not_null()).then(frag))
    return pl.concat_str(parts, separator=",", ignore_nulls=True)


def _zeek_json(df: pl.DataFrame) -> pl.DataFrame:
    """Zeek's JSON writer: one object per line, unset fields left out, answers/TTLs as arrays."""
    dyn = _zeek_dynamic(df)
    static = _zeek_static(df).with_columns(pl.col("answers_list").alias("answers"))
    tail = static.select("_key", _json_fragments(ZEEK_FIELDS[9:]).alias("_tail"))
    return dyn.join(tail, on="_key", how="left", maintain_order="left").select(
        (pl.lit("{") + _json_fragments(ZEEK_FIELDS[:9]) + "," + pl.col("_tail") + "}").alias("line"),
        pl.lit(True).alias("question"))


# --- bind, windows, umbrella, csv ---------------------------------------------------------------------

def _bind(df: pl.DataFrame) -> pl.DataFrame:
    ch = pl.col("client").hash(11)
    # a client object is reused across queries: a few addresses per client, 8-byte aligned
    ptr = pl.lit("@0x7f") + _digits(ch // 4096 + pl.col("_h") % 3 * 0x2F50, "0123456789abcdef", 7).str.reverse() + \
        _digits(ch % 512 * 8, "0123456789abcdef", 3).str.reverse()
    flags = pl.lit(pl.Series(["+E(0)K", "+E(0)K", "+E(0)", "+"])).gather(ch % 4)
    line = (pl.col("ts").dt.strftime("%d-%b-%Y %H:%M:%S%.3f") + " client " + ptr + " " + pl.col("client") + "#"
            + (pl.col("_h") % 64511 + 1024).cast(pl.String) + " (" + pl.col("query_name") + "): query: "
            + pl.col("query_name") + " IN " + pl.col("query_type") + " " + flags + " (" + pl.col("server") + ")")
    return df.select(line.alias("line"), pl.lit(True).alias("question"))


def _windows_flags(code: pl.Expr, local: pl.Expr) -> pl.Expr:
    return (pl.when(code == "NOERROR").then(pl.when(local).then(pl.lit("8085 A DR  NOERROR"))
                                           .otherwise(pl.lit("8081   DR  NOERROR")))
            .when(code == "NXDOMAIN").then(pl.when(local).then(pl.lit("8385 A DR NXDOMAIN"))
                                            .otherwise(pl.lit("8381   DR NXDOMAIN")))
            .when(code == "SERVFAIL").then(pl.lit("8281   DR SERVFAIL"))
            .when(code == "REFUSED").then(pl.lit("8581   DR  REFUSED"))
            .otherwise(pl.lit("8081   DR  NOERROR")))


def _windows_name(name: str) -> str:
    return "".join(f"({len(label)}){label}" for label in name.split(".")) + "(0)"


def _windows(df: pl.DataFrame) -> pl.DataFrame:
    """Rcv (the question) and Snd (the response) packet lines, each followed by a blank line."""
    stamp = "%-m/%-d/%Y %-I:%M:%S %p"
    encoded = pl.lit(_per_name(df, "query_name", _windows_name, "_wname"))
    pkt = pl.lit("000001D3") + _digits(pl.col("_h") % 64 * 0x1A30 + 0xC9884000, "0123456789ABCDEF", 8).str.reverse()
    xid = _digits(pl.col("_h") // 2 ** 40, "0123456789abcdef", 4)
    ip = pl.col("client").str.pad_end(15)
    qtype = pl.col("query_type").str.pad_end(6)
    local = pl.col("query_name").str.ends_with("." + domains.LOCAL_ZONE) | (pl.col("query_name") == domains.LOCAL_ZONE)
    common = pl.lit(" 0E24 PACKET  ") + pkt + " UDP "
    rcv = (pl.col("ts").dt.strftime(stamp) + common + "Rcv " + ip + " " + xid + "   Q [0001   D   NOERROR] "
           + qtype + " " + encoded)
    snd_ts = (pl.col("ts") + pl.duration(microseconds=_rtt_us(pl.col("_h")))).dt.strftime(stamp)
    snd = (snd_ts + common + "Snd " + ip + " " + xid + " R Q [" + _windows_flags(pl.col("response_code"), local)
           + "] " + qtype + " " + encoded)
    answered = pl.col("response_code").is_not_null()
    four = pl.concat_list(rcv, pl.lit(""), pl.when(answered).then(snd), pl.when(answered).then(pl.lit("")))
    return (df.select(four.alias("line"), pl.concat_list(True, False, False, False).alias("question"))
            .explode("line", "question").drop_nulls("line"))


_UMBRELLA_CATEGORY = {"ad": "Advertisements", "tail-news": "News", "tail-shop": "Ecommerce/Shopping",
                      "tail-saas": "SaaS and B2B", "popular": "Software/Technology,Application"}


def _umbrella(df: pl.DataFrame) -> pl.DataFrame:
    hosts = {c.ip: c.host for c in traffic.population(254)}
    cats = {h: _UMBRELLA_CATEGORY[d.category] for h, d in domains.host_index().items()}
    who = pl.col("client").replace_strict(hosts, default=pl.col("client"), return_dtype=pl.String)
    blocked = pl.col("resolver_action").fill_null("").str.starts_with("blocked")
    cat = pl.col("query_name").replace_strict(cats, default="", return_dtype=pl.String)
    qnum = pl.col("query_type").replace_strict(QTYPE_NUMBERS, default=0, return_dtype=pl.Int64).cast(pl.String)
    fields = [pl.col("ts").dt.strftime("%Y-%m-%d %H:%M:%S"), who, who + ",Default Site,Internal Networks",
              pl.col("client"), pl.lit("203.0.113.7"),
              pl.when(blocked).then(pl.lit("Blocked")).otherwise(pl.lit("Allowed")),
              qnum + " (" + pl.col("query_type") + ")", pl.col("response_code").fill_null("NOERROR"),
              pl.col("query_name") + ".", cat, pl.lit("Internal Networks"), pl.lit("Internal Networks,Sites,Networks"),
              pl.when(blocked).then(pl.lit("Advertisements")).otherwise(pl.lit(""))]
    line = pl.concat_str([pl.lit('"') + f + pl.lit('"') for f in fields], separator=",")
    return df.select(line.alias("line"), pl.lit(True).alias("question"))


def _csv(df: pl.DataFrame) -> pl.DataFrame:
    def quote(e: pl.Expr) -> pl.Expr:
        return pl.when(e.str.contains(r'[",]')).then(pl.lit('"') + e.str.replace_all('"', '""') + '"').otherwise(e)
    line = pl.concat_str([pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"), pl.col("client"), pl.col("query_name"),
                          pl.col("query_type"), pl.col("response_code").fill_null(""),
                          quote(pl.col("_ans").list.join("|"))], separator=",")
    return df.select(line.alias("line"), pl.lit(True).alias("question"))


_BUILDERS = {"pihole": _pihole, "zeek_tsv": _zeek_tsv, "zeek_json": _zeek_json, "bind": _bind,
             "windows_dns": _windows, "umbrella_csv": _umbrella, "csv": _csv}


def _header(fmt: str, first: pl.DataFrame) -> list[str]:
    if fmt == "zeek_tsv":
        opened = first["ts"][0].strftime("%Y-%m-%d-%H-%M-%S") if first.height else "1970-01-01-00-00-00"
        return ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\tdns",
                f"#open\t{opened}", "#fields\t" + "\t".join(ZEEK_FIELDS), "#types\t" + "\t".join(ZEEK_TYPES)]
    if fmt == "windows_dns":
        t = first["ts"][0] if first.height else None
        stamp = f"{t.month}/{t.day}/{t.year} {t.hour % 12 or 12}:{t:%M:%S} {t:%p}" if t else ""
        return [f"DNS Server log file creation at {stamp}", "", *WINDOWS_HEADER, ""]
    if fmt == "csv":
        return ["ts,client,query_name,query_type,response_code,answers"]
    return []


def lines(events: pl.DataFrame, fmt: str) -> pl.DataFrame:
    """One batch of events as (line, question) rows in ``fmt`` (no file header)."""
    if fmt not in _BUILDERS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    return _BUILDERS[fmt](_prep(events)).select("line", "question")


def _emit(out: IO[bytes], text: pl.Series | list[str], fmt: str) -> None:
    frame = pl.DataFrame({"line": text}, schema={"line": pl.String})
    frame.write_csv(out, include_header=False, quote_style="never",
                    line_terminator="\r\n" if fmt == "windows_dns" else "\n")


def _batches(events: pl.DataFrame) -> Iterator[pl.DataFrame]:
    for offset in range(0, events.height, BATCH):
        yield events.slice(offset, BATCH)


def write(events: pl.DataFrame, fmt: str, path: str | Path, *, compress: str | None = None) -> int:
    """Write ``events`` (the frame :func:`netsift.synth.generate` returns) to ``path`` in ``fmt``.
    ``compress``: gzip, bz2, xz or zst (default: from the path's suffix, else none). Returns the number of
    lines written."""
    if fmt not in _BUILDERS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    path = Path(path)
    count = 0
    with _open(path, compress) as out:
        head = _header(fmt, events.head(1))
        if head:
            _emit(out, head, fmt)
            count += len(head)
        for batch in _batches(events):
            body = lines(batch, fmt)["line"]
            _emit(out, body, fmt)
            count += body.len()
        if fmt == "zeek_tsv":
            last = events["ts"].max() if events.height else None
            assert last is None or isinstance(last, datetime)
            _emit(out, [f"#close\t{last:%Y-%m-%d-%H-%M-%S}" if last else "#close\t-"], fmt)
            count += 1
    return count


# --- benchmark files --------------------------------------------------------------------------------------

class _Template:
    """The benchmark pool pre-rendered: everything about a pool row that does not depend on its time."""

    def __init__(self, fmt: str, pool: pl.DataFrame):
        self.fmt, self.pool = fmt, pool
        prepped = _prep(pool)
        if fmt == "pihole":
            body = _pihole(prepped, stamped=False).group_by("_e", maintain_order=True).agg("line", "question")
            self.rows = body.sort("_e").select("line", "question")
        elif fmt == "zeek_tsv":
            static = _zeek_static(prepped).select("_key", _ZEEK_TAIL)
            self.rows = prepped.select(_zeek_key(prepped).alias("_key")).join(
                static, on="_key", how="left", maintain_order="left").select("_tail")

    def render(self, rows: pl.Series, ts: pl.Series) -> pl.DataFrame:
        if self.fmt == "pihole":
            prefix = pl.DataFrame({"ts": ts}).select(_pihole_prefix().alias("_p")).to_series()
            return (self.rows[rows].with_columns(prefix)
                    .explode("line", "question").select((pl.col("_p") + pl.col("line")).alias("line"), "question"))
        if self.fmt == "zeek_tsv":
            us = ts.dt.epoch("us")
            cheap = self.pool.select("client", "server", "response_code")[rows].with_columns(
                us.alias("_us"), us.hash(7).alias("_h"))
            return cheap.with_columns(self.rows["_tail"][rows]).select(
                _zeek_tsv_line(pl.col("_tail")), pl.lit(True).alias("question"))
        return lines(self.pool[rows].with_columns(ts.alias("ts")), self.fmt)


def _pool(seed: int) -> pl.DataFrame:
    """Complete events (minus their time) of one synthetic day, to draw benchmark rows from."""
    return generate(seed=seed, days=1, clients=40)


def write_lines_fast(fmt: str, path: str | Path, n_lines: int, seed: int = 1, *,
                     compress: str | None = None) -> int:
    """Write exactly ``n_lines`` lines of ``fmt`` (headers included) for ingest benchmarks, in batches
    of ~100 k lines: events are drawn Zipf-like from a pool of one synthetic day and re-stamped at about
    200 questions per second from 2026-11-20 00:00 UTC. Memory stays bounded whatever ``n_lines``.
    pihole and zeek_tsv render from pre-built templates (> 1 M lines/s); other formats go through
    :func:`write`'s builders. Returns the number of DNS questions written (what a parser should count as
    records; a Pi-hole question cut off at the end of the file still counts)."""
    if fmt not in _BUILDERS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    path = Path(path)
    template = _Template(fmt, _pool(seed))
    size = template.pool.height
    rng = random.Random(seed)
    t_us = 1_795_132_800_000_000  # 2026-11-20 00:00 UTC
    questions = written = 0
    per_event = {"pihole": 3.2, "windows_dns": 4.0}.get(fmt, 1.0)
    with _open(path, compress) as out:
        stamp0 = pl.DataFrame({"ts": [t_us]}).select(pl.col("ts").cast(pl.Datetime("us")))
        head = _header(fmt, stamp0)[: max(0, n_lines - 1 if fmt == "zeek_tsv" else n_lines)]
        if head:
            _emit(out, head, fmt)
            written += len(head)
        tail = 1 if fmt == "zeek_tsv" and n_lines > written else 0
        while written < n_lines - tail:
            want = n_lines - tail - written
            k = max(1, min(BATCH, int(want / per_event) + 16))
            h = pl.int_range(k, eager=True).hash(rng.getrandbits(32))
            u = (h % 1_000_003).cast(pl.Float64) / 1_000_003  # uniform in [0, 1): Zipf-like pick below
            rows = ((size ** u) - 1).floor().cast(pl.Int64).clip(0, size - 1)
            gaps = (h // 1_000_003 % 10_000).cast(pl.Int64)  # 0-10 ms apart: ~200 questions/s
            ts = (gaps.cum_sum() + t_us).cast(pl.Datetime("us"))
            t_us += int(gaps.sum()) + 1
            body = template.render(rows, ts).head(want)
            _emit(out, body["line"], fmt)
            written += body.height
            questions += int(body["question"].sum())
        if tail:
            _emit(out, [f"#close\t{pl.select(pl.lit(t_us).cast(pl.Datetime('us'))).item():%Y-%m-%d-%H-%M-%S}"], fmt)
            written += 1
    return questions
