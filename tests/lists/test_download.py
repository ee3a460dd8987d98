"""``lists update`` against a real HTTP server on 127.0.0.1: good downloads of every format, and every way
a download can go wrong (404, truncated transfer, corrupt archive, HTML page, too few entries, too big),
each leaving the installed copy and the manifest untouched."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import hashlib
import io
import json
import tarfile
import zipfile

import pytest

from netsift.lists import catalog, download
from tests.lists.http_server import LocalServer, Reply


def tranco_zip(rows: int = 1500, first: str = "google.com") -> bytes:
    lines = [f"1,{first}"] + [f"{i},site{i}.example" for i in range(2, rows + 1)]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("top-1m.csv", "\r\n".join(lines) + "\r\n")
    return buf.getvalue()


def ut1_tar(categories: dict[str, list[str]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for cat, domains in categories.items():
            for fname, text in (("domains", "\n".join(domains) + "\n"), ("urls", "x.example/path\n")):
                data = text.encode()
                info = tarfile.TarInfo(f"blacklists/{cat}/{fname}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("blacklists/alias")
        link.type = tarfile.SYMTYPE
        link.linkname = next(iter(categories))
        tar.addfile(link)
        evil = tarfile.TarInfo("../../escape/domains")
        evil.size = 4
        tar.addfile(evil, io.BytesIO(b"x.y\n"))
    return buf.getvalue()


@pytest.fixture
def server():
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NETSIFT_DATA_DIR", str(tmp_path / "data"))
    for spec in catalog.CATALOG.values():
        monkeypatch.delenv(spec.env_var, raising=False)
    return tmp_path / "data"


def leftovers(root):
    return sorted(p.name for p in (root / "lists").iterdir() if p.name.startswith("."))


def test_tranco_zip_installs_with_manifest(server, data_dir, monkeypatch):
    body = tranco_zip()
    server.add("/top-1m.csv.zip", Reply(body=body, headers={"Content-Type": "application/zip"}))
    monkeypatch.setenv("NETSIFT_LIST_URL_TRANCO", server.url("/top-1m.csv.zip"))
    seen = []

    [result] = download.update(["tranco"], progress=lambda name, done, total: seen.append((name, done, total)))

    assert result.ok, result.error
    assert result.entries == 1500
    assert result.sha256 == hashlib.sha256(body).hexdigest()
    assert result.path == data_dir / "lists" / "tranco.csv"
    assert result.path.read_text().splitlines()[:2] == ["1,google.com", "2,site2.example"]
    assert seen[-1] == ("tranco", len(body), len(body))
    manifest = json.loads((data_dir / "manifest.json").read_text())["lists"]["tranco"]
    assert manifest["url"] == server.url("/top-1m.csv.zip")
    assert manifest["sha256"] == result.sha256 and manifest["entries"] == 1500
    assert manifest["path"] == "lists/tranco.csv"
    assert leftovers(data_dir) == []
    # the request asked for the stored bytes, and nothing else was contacted
    assert [r.path for r in server.requests] == ["/top-1m.csv.zip"]
    assert server.requests[0].headers.get("Accept-Encoding") == "identity"


def test_installed_reports_age_and_staleness(server, data_dir):
    server.add("/t.zip", Reply(body=tranco_zip()))
    [result] = download.update(["tranco"], urls={"tranco": server.url("/t.zip")})
    [fresh] = download.installed()
    assert (fresh.name, fresh.entries, fresh.stale, fresh.kind) == ("tranco", 1500, False, "toplist")
    [old] = download.installed(now=result.date + dt.timedelta(days=31))
    assert old.stale and old.age_days == pytest.approx(31)
    assert download.list_path("tranco") == data_dir / "lists" / "tranco.csv"
    assert download.list_path("urlhaus") is None


def test_data_dir_argument_beats_environment(server, data_dir, tmp_path):
    server.add("/t.zip", Reply(body=tranco_zip()))
    other = tmp_path / "other"
    [result] = download.update(["tranco"], data_dir=other, urls={"tranco": server.url("/t.zip")})
    assert result.path == other / "lists" / "tranco.csv"
    assert download.installed() == []
    assert [i.name for i in download.installed(other)] == ["tranco"]


def _truncated_zip() -> bytes:
    body = tranco_zip(5000)
    return body[: len(body) // 2]


FAILURES = [
    ("not_found", Reply(404, b"no"), "HTTP 404"),
    ("truncated_transfer", Reply(body=tranco_zip(5000), cut_at=2000), "could not download"),
    ("corrupt_zip", Reply(body=_truncated_zip()), "damaged or truncated"),
    ("html_page", Reply(body=b"<!DOCTYPE html><html><body>Service unavailable</body></html>"), "HTML page"),
    ("too_few_entries", Reply(body=tranco_zip(20)), "only 20 entries"),
    ("wrong_format", Reply(body=b"\n".join(b"domain%d.example;x;y" % i for i in range(2000))), "not in tranco_csv"),
    ("empty", Reply(body=b""), "empty body"),
]


@pytest.mark.parametrize(("scenario", "reply", "message"), FAILURES, ids=[f[0] for f in FAILURES])
def test_failed_update_keeps_previous_copy(server, data_dir, scenario, reply, message):
    server.add("/good.zip", Reply(body=tranco_zip()))
    [good] = download.update(["tranco"], urls={"tranco": server.url("/good.zip")})
    before_file = good.path.read_bytes()
    before_manifest = (data_dir / "manifest.json").read_bytes()

    server.add("/bad", reply)
    [bad] = download.update(["tranco"], urls={"tranco": server.url("/bad")})

    assert not bad.ok
    assert message in bad.error
    assert good.path.read_bytes() == before_file
    assert (data_dir / "manifest.json").read_bytes() == before_manifest
    assert leftovers(data_dir) == []


def test_size_limit(server, data_dir, monkeypatch):
    small = dataclasses.replace(catalog.CATALOG["tranco"], max_bytes=1000)
    monkeypatch.setitem(catalog.CATALOG, "tranco", small)
    server.add("/t.zip", Reply(body=tranco_zip()))
    [result] = download.update(["tranco"], urls={"tranco": server.url("/t.zip")})
    assert not result.ok and "1000-byte limit" in result.error


def test_unknown_name_raises_before_any_request(server, data_dir):
    with pytest.raises(ValueError, match="unknown list 'alexa'"):
        download.update(["tranco", "alexa"], urls={"tranco": server.url("/t.zip")})
    assert server.requests == []


HOSTS = "# Title: test hosts\n0.0.0.0 evil.example\n0.0.0.0 bad.example.net\n" + "".join(
    f"127.0.0.1\tm{i}.example\n" for i in range(20)
)
BLACKBOOK = "Domain,Malware,Date added,Source\n" + "".join(
    f"d{i}.example,emotet,2024-01-01,test\n" for i in range(150)
)
DOMAINS = "# Copyright\n\n# Reference: x\npacketriot.net\npktriot.net\n\ndnstunnel.run\nbtunnel.in\n"


@pytest.mark.parametrize(
    ("name", "body", "entries", "installed_as"),
    [
        ("urlhaus", HOSTS.encode(), 22, "lists/urlhaus.txt"),
        ("urlhaus", gzip.compress(HOSTS.encode()), 22, "lists/urlhaus.txt"),
        ("blackbook", BLACKBOOK.encode(), 150, "lists/blackbook.csv"),
        ("maltrail-dns-tunneling", DOMAINS.encode(), 4, "lists/maltrail-dns-tunneling.txt"),
    ],
    ids=["hosts", "hosts_gzip", "csv", "domains"],
)
def test_text_formats(server, data_dir, name, body, entries, installed_as):
    server.add("/list", Reply(body=body))
    [result] = download.update([name], urls={name: server.url("/list")})
    assert result.ok, result.error
    assert result.entries == entries
    assert result.path == data_dir / installed_as


def test_ut1_tarball_keeps_only_category_domain_files(server, data_dir):
    cats = {"malware": [f"mal{i}.example" for i in range(80)], "vpn": [f"vpn{i}.example" for i in range(40)]}
    server.add("/blacklists.tar.gz", Reply(body=ut1_tar(cats)))
    [result] = download.update(["ut1"], urls={"ut1": server.url("/blacklists.tar.gz")})
    assert result.ok, result.error
    assert result.entries == 120
    root = data_dir / "lists" / "ut1"
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "malware/domains", "vpn/domains"]
    assert not (data_dir / "escape").exists() and not (data_dir.parent / "escape").exists()
    # a second update replaces the folder whole
    server.add("/blacklists.tar.gz", Reply(body=ut1_tar({"phishing": [f"p{i}.example" for i in range(200)]})))
    [again] = download.update(["ut1"], urls={"ut1": server.url("/blacklists.tar.gz")})
    assert again.ok and sorted(p.name for p in root.iterdir()) == ["phishing"]
    assert leftovers(data_dir) == []


def test_ut1_truncated_tarball(server, data_dir):
    body = ut1_tar({"malware": [f"mal{i}.example" for i in range(5000)]})
    server.add("/b.tgz", Reply(body=body[: len(body) // 2]))
    [result] = download.update(["ut1"], urls={"ut1": server.url("/b.tgz")})
    assert not result.ok and "damaged or truncated" in result.error
    assert not (data_dir / "lists" / "ut1").exists()


def test_remove(server, data_dir):
    server.add("/t.zip", Reply(body=tranco_zip()))
    download.update(["tranco"], urls={"tranco": server.url("/t.zip")})
    assert download.remove("tranco") is True
    assert download.installed() == [] and not (data_dir / "lists" / "tranco.csv").exists()
    assert download.remove("tranco") is False
