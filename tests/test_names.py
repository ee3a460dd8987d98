"""names.py splits plain names over the PSL snapshot itself (no tldextract import on the ingest path) and
must split every name exactly as tldextract does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tldextract

from netsift import names
from netsift.ingest.run import IngestOptions, ingest
from netsift.store import open_store

SRC = Path(__file__).resolve().parents[1] / "src"
SNAPSHOT = Path(tldextract.__file__).parent / ".tld_set_snapshot"


def _rule_names() -> list[str]:
    """Every PSL rule (wildcards, exceptions, private domains) as a name, with one and two labels before it."""
    out = []
    for m in names._RULE.finditer(SNAPSHOT.read_text(encoding="utf-8")):
        rule = m.group("suffix")
        base = rule.lstrip("!*.")
        out += [base, "a." + base, "x.y." + base]
        if rule.startswith("!"):
            out.append("q." + rule[1:])
    return out


@pytest.mark.parametrize("name", [
    "www.example.com", "a.b.example.co.uk", "co.uk", "x.github.io", "github.io", "foo.ck", "www.ck", "a.www.ck",
    "city.kawasaki.jp", "a.b.kawasaki.jp", "host.localnet", "nosuchtld", "a.nosuchtld", "1.2.3.4", "_dmarc.x.org",
    "xn--80ak6aa92e.xn--p1ai", "www.xn--80ak6aa92e.com", "a.b.c.d.e.f.s3.amazonaws.com", "EXAMPLE.COM", "a..b.com",
    "x@y.com", "host:53", "a.b.c.",
])
def test_split_matches_tldextract(name):
    ext = names._extractor()(name)
    assert names._split_suffix(name) == (ext.subdomain, ext.domain, ext.suffix)


def test_every_psl_rule_splits_as_tldextract_does():
    extract = names._extractor()
    differ = []
    for name in _rule_names():
        ext = extract(name)
        if names._split_suffix(name) != (ext.subdomain, ext.domain, ext.suffix):
            differ.append(name)
    assert differ == []


DERIVE = """
import json, sys
from netsift.names import derive_names
derive_names(["www.example.co.uk", "a.b.foo.ck", "x.github.io", "printer.lan"])
print(json.dumps("tldextract" in sys.modules or "requests" in sys.modules))
"""


def test_plain_names_do_not_import_tldextract():
    out = subprocess.run([sys.executable, "-c", DERIVE], capture_output=True, text=True, check=True, cwd=SRC)
    assert json.loads(out.stdout) is False


LINE = "May  9 02:36:{s:02d} dnsmasq[1]: query[A] {tag}{i}.example.com from 10.0.0.{c}\n"


def _log(path: Path, n: int = 20) -> str:
    path.write_text("".join(LINE.format(s=i % 60, i=i, c=i % 7, tag=path.stem) for i in range(n)))
    os.utime(path, (0, 0))
    return str(path)


def _names(store) -> set[str]:
    return {r[0] for r in store.rows("SELECT query_name FROM domain_names")}


def test_an_ingest_derives_the_names_of_its_own_rows(tmp_path):
    """`ingest` derives domain_names for the rows it wrote (reading only those, not the whole store); a name
    left without its row by an earlier run that died is derived by the next full refresh (`analyze`)."""
    with open_store(":memory:") as store:
        ingest(store, [_log(tmp_path / "a.log")], IngestOptions(year=2024))
        assert _names(store) == {f"a{i}.example.com" for i in range(20)}
        store.execute("DELETE FROM domain_names WHERE query_name = 'a3.example.com'")  # as if the run had died
        ingest(store, [_log(tmp_path / "b.log")], IngestOptions(year=2024))
        assert _names(store) == {f"{t}{i}.example.com" for t in "ab" for i in range(20)} - {"a3.example.com"}
        assert names.refresh_domain_names(store) == 1
        assert "a3.example.com" in _names(store)
        ingest(store, [str(tmp_path / "b.log")], IngestOptions(year=2024))  # unchanged: nothing to derive
        assert len(_names(store)) == 40
