"""The enrich step of an analysis (netsift.enrich.step) on an in-memory store built from small frames:
feed modifier and reasons, network and category context, shared infrastructure, online lookups against a
local server speaking VirusTotal's and Investigate's documented JSON, --resolve against a local DNS server."""

from __future__ import annotations

import datetime as dt
import json
import socket
import sys
import threading

import polars as pl
import pytest

from netsift import pipeline
from netsift.enrich import step
from netsift.enrich.step import EnrichOptions, FeedFile
from netsift.findings import Finding, finding_id
from netsift.store import DuckDBStore
from tests.lists.http_server import Reply

T0 = dt.datetime(2026, 1, 5, 9, 0, 0)
DO = "DIGITALOCEAN-ASN"  # 188.166.0.0/16 in the bundled GeoLite2 data, country NL
ROWS = [  # client, name, answers
    ("10.0.0.5", "c2.badhost.example", ["188.166.1.1"]),
    ("10.0.0.5", "c2.badhost.example", ["188.166.1.1"]),
    ("10.0.0.6", "files.dyn.example", ["8.8.8.8"]),
    ("10.0.0.7", "a.spread.example", ["188.166.7.7"]),
    ("10.0.0.7", "b.other.example", ["188.166.7.7"]),
    ("10.0.0.7", "c.third.example", ["188.166.7.7"]),
    ("10.0.0.8", "blocked.example", ["0.0.0.0"]),
    ("10.0.0.8", "quiet.example", None),
]
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def store():
    pipeline.register_all_tables()
    st = DuckDBStore(":memory:")
    frame = pl.DataFrame(
        {"ts": [T0 + dt.timedelta(minutes=i) for i in range(len(ROWS))], "client": [r[0] for r in ROWS],
         "query_name": [r[1] for r in ROWS], "query_type": ["A"] * len(ROWS),
         "response_code": ["NOERROR"] * len(ROWS), "answers": [r[2] for r in ROWS],
         "source_file_id": [1] * len(ROWS), "source_line": list(range(1, len(ROWS) + 1))},
        schema_overrides={"ts": pl.Datetime("us"), "answers": pl.List(pl.String)},
    )
    st.append("dns_queries", frame)
    pipeline.refresh_domain_names(st)
    yield st
    st.close()


@pytest.fixture
def lists(tmp_path):
    (tmp_path / "bb.csv").write_text("Domain,Malware,Date added,Source\nbadhost.example,Emotet,2024-01-01,x\n")
    (tmp_path / "hosts.txt").write_text("0.0.0.0 c2.badhost.example\n0.0.0.0 blocked.example\n")
    (tmp_path / "cats.csv").write_text("files.dyn.example,filehosting\ndyn.example,dynamic-dns\n"
                                       "dyn.example,news\n")
    return tmp_path


def options(lists, **kw) -> EnrichOptions:
    kw.setdefault("feeds", [FeedFile(str(lists / "bb.csv"), "blackbook")])
    kw.setdefault("categories", [lists / "cats.csv"])
    return EnrichOptions(installed_lists=False, **kw)


def beacon(domain="badhost.example", score=0.6) -> Finding:
    return Finding(kind="beacon", score=score, reasons=["on a clock"], client="10.0.0.5", domain=domain)


def by_kind(findings, kind):
    return [f for f in findings if f.kind == kind]


def test_feed_modifier_raises_a_detector_finding_and_names_feed_and_family(store, lists):
    findings, summary = step.enrich(store, [beacon()], options(lists))
    [f] = by_kind(findings, "beacon")
    assert f.score == pytest.approx(0.85) and f.severity == "high"
    assert f.sub_scores["modifier_feed_hit"] == 0.25
    assert f.reasons[0] == "listed by blackbook as emotet"
    assert "answers point to AS 'DIGITALOCEAN-ASN' (NL)" in f.reasons
    [hit] = by_kind(findings, "feed_hit")
    assert hit.domain == "badhost.example" and hit.id == finding_id("feed_hit", None, "badhost.example")
    assert summary.findings_raised == 1 and summary.findings_added["feed_hit"] == 1


@pytest.mark.parametrize(("kind", "setting", "change", "reason"), [
    ("malicious", {}, 0.25, "listed by mine (malicious)"),
    ("suspicious", {}, 0.1, "listed by mine (suspicious)"),
    ("informational", {}, None, "listed by mine (informational)"),
    ("malicious", {"feed_malicious_increase": 0.4}, 0.4, "listed by mine (malicious)"),
])
def test_feed_modifier_by_kind_and_setting(store, lists, kind, setting, change, reason):
    opts = options(lists, feeds=[FeedFile(str(lists / "hosts.txt"), "mine", kind)])
    findings, _ = step.enrich(store, [beacon(score=0.5)], opts, {"enrich": setting})
    [f] = by_kind(findings, "beacon")
    assert f.reasons[0] == reason
    assert f.sub_scores.get("modifier_feed_hit") == change
    assert f.score == pytest.approx(0.5 + (change or 0))


def test_several_feeds_give_one_reason_each_and_the_strongest_change(store, lists):
    opts = options(lists, feeds=[FeedFile(str(lists / "bb.csv"), "blackbook"),
                                 FeedFile(str(lists / "hosts.txt"), "mine", "suspicious")])
    findings, _ = step.enrich(store, [beacon(score=0.5)], opts)
    [f] = by_kind(findings, "beacon")
    assert f.reasons[:2] == ["listed by blackbook as emotet", "listed by mine (suspicious)"]
    assert f.score == pytest.approx(0.75)


def test_categories_security_first_and_private_answers(store, lists):
    found = [Finding(kind="rare_domain", score=0.4, reasons=["rare"], domain="dyn.example"),
             Finding(kind="rare_domain", score=0.4, reasons=["rare"], domain="blocked.example")]
    findings, _ = step.enrich(store, found, options(lists))
    dyn = next(f for f in findings if f.domain == "dyn.example")
    assert dyn.reasons[1:] == ["answers point to AS 'GOOGLE' (US)",
                               "categories: dynamic-dns (security), filehosting, news"]
    blocked = next(f for f in findings if f.domain == "blocked.example")
    assert blocked.reasons[1:] == ["answers point to private or reserved addresses only (blocked or internal)"]
    assert dyn.score == 0.4  # context does not move the score


def test_context_is_capped_by_settings(store, lists):
    found = [Finding(kind="rare_domain", score=0.4, reasons=["rare"], domain="dyn.example")]
    findings, _ = step.enrich(store, found, options(lists), {"enrich": {"context_max_categories": 1}})
    assert findings[0].reasons[-1] == "categories: dynamic-dns (security) and 2 more"


def test_shared_infrastructure_finding_and_no_duplicate_ids(store, lists):
    earlier = Finding(kind="feed_hit", score=0.9, reasons=["from before"], domain="badhost.example")
    unexplained = Finding(kind="unexplained_domain", score=0.2, reasons=["not on a list"], domain="badhost.example")
    findings, summary = step.enrich(store, [earlier, unexplained], options(lists))
    assert len({f.id for f in findings}) == len(findings)
    assert [f.reasons[0] for f in by_kind(findings, "feed_hit")] == ["from before"]
    assert not by_kind(findings, "unexplained_domain") and summary.superseded == 1
    [shared] = by_kind(findings, "shared_infrastructure")
    assert shared.reasons[0].startswith("3 not-normal domains resolve to 188.166.7.7 (DIGITALOCEAN-ASN, NL): "
                                        "other.example, spread.example, third.example")
    assert shared.domain is None and summary.findings_added == {"shared_infrastructure": 1}


def test_shared_min_domains_setting(store, lists):
    findings, _ = step.enrich(store, [], options(lists), {"enrich": {"shared_min_domains": 4}})
    assert not by_kind(findings, "shared_infrastructure")


def test_filters_by_category_kind_alias_and_feed_hits(store, lists):
    found = [beacon(), Finding(kind="rare_domain", score=0.4, reasons=["r"], domain="dyn.example"),
             Finding(kind="rare_domain", score=0.3, reasons=["r"], domain="spread.example")]
    findings, _ = step.enrich(store, found, options(lists))

    def domains(**kw):
        return sorted({f.domain for f in step.filter_findings(store, findings, **kw)})

    assert domains(categories=("security",)) == ["dyn.example"]
    assert domains(categories=("dynamic_dns",)) == ["dyn.example"]  # another spelling of dynamic-dns
    assert domains(categories=("FileHosting",)) == ["dyn.example"]
    assert domains(categories=("bank",)) == []
    assert domains(feed_hits=True) == ["badhost.example"]
    assert len(step.filter_findings(store, findings)) == len(findings)


def test_stale_installed_list_is_reported_and_used(store, tmp_path):
    root = tmp_path / "data"
    (root / "lists").mkdir(parents=True)
    (root / "lists" / "urlhaus.txt").write_text("0.0.0.0 c2.badhost.example\n")
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=10)).isoformat()
    (root / "manifest.json").write_text(json.dumps({"lists": {"urlhaus": {
        "path": "lists/urlhaus.txt", "date": old, "kind": "feed", "format": "hosts", "url": "x", "entries": 1,
        "sha256": "0"}}}))
    findings, summary = step.enrich(store, [beacon(score=0.5)], EnrichOptions(data_dir=root))
    assert summary.stale_lists == ["urlhaus"]
    assert any(n.startswith("list urlhaus is 10 days old (stale after 2)") for n in summary.notes)
    assert summary.lists[0] | {"date": None} == {"name": "urlhaus", "kind": "malicious", "used_for": "feeds",
                                                 "source": "installed", "entries": 1, "date": None,
                                                 "age_days": 10.0, "stale": True}
    assert by_kind(findings, "beacon")[0].reasons[0] == "listed by urlhaus (malicious)"
    doc = step.overview(store, summary)
    assert (doc["feed_hits"], doc["feed_hit_domains"], doc["stale_lists"]) == (1, 1, ["urlhaus"])


def test_overview_counts(store, lists):
    _, summary = step.enrich(store, [], options(lists))
    doc = step.overview(store, summary)
    assert {k: doc[k] for k in ("feed_hits", "categorised_names", "categorised_domains", "security_names",
                                "ips", "ips_located", "ips_with_as")} == {
        "feed_hits": 1, "categorised_names": 1, "categorised_domains": 1, "security_names": 1, "ips": 4,
        "ips_located": 3, "ips_with_as": 3}
    assert [item["name"] for item in doc["lists"]] == ["blackbook", "cats"]


@pytest.mark.parametrize(("spec", "expected"), [
    ("list.txt", FeedFile("list.txt")),
    ("mine=list.txt", FeedFile("list.txt", "mine")),
    ("mine:suspicious=dir/list.txt", FeedFile("dir/list.txt", "mine", "suspicious")),
    ("mine:Informational=list.txt", FeedFile("list.txt", "mine", "informational")),
])
def test_feed_file_spec(spec, expected):
    assert FeedFile.parse(spec) == expected


def test_feed_file_spec_unknown_kind():
    with pytest.raises(ValueError, match="not one of malicious"):
        FeedFile.parse("mine:evil=list.txt")


# --- online -----------------------------------------------------------------------------------------------

def vt_body(domain: str, malicious: int) -> bytes:
    return json.dumps({"data": {"id": domain, "type": "domain", "attributes": {
        "last_analysis_stats": {"harmless": 50, "malicious": malicious, "suspicious": 0, "undetected": 9,
                                "timeout": 0},
        "reputation": -5, "categories": {"Sophos": "malware"}, "last_analysis_date": 1700000000}}}).encode()


def online(lists, server, **kw) -> EnrichOptions:
    kw.setdefault("services", ("virustotal",))
    return options(lists, online=True, base_urls={"virustotal": server.base_url, "investigate": server.base_url},
                   **kw)


def test_virustotal_verdict_modifier_and_cache(store, lists, server, monkeypatch):
    monkeypatch.setenv("VT_API_KEY", "test-key")
    server.add("/api/v3/domains/badhost.example", Reply(200, vt_body("badhost.example", 5), JSON))
    server.add("/api/v3/domains/dyn.example", Reply(200, vt_body("dyn.example", 0), JSON))
    found = [beacon(score=0.5), Finding(kind="rare_domain", score=0.3, reasons=["r"], domain="dyn.example")]
    findings, summary = step.enrich(store, found, online(lists, server))
    bad = by_kind(findings, "beacon")[0]
    assert "VirusTotal: 5 engines malicious, 0 suspicious; categories malware" in bad.reasons
    assert bad.sub_scores["modifier_virustotal"] == 0.2 and bad.score == pytest.approx(0.95)
    dyn = next(f for f in findings if f.domain == "dyn.example")
    assert "VirusTotal: 0 engines malicious, 0 suspicious; categories malware" in dyn.reasons
    assert "modifier_virustotal" not in dyn.sub_scores
    assert summary.online["virustotal"] == {"asked": 2, "cached": 0, "fetched": 2, "failed": 0, "malicious": 1}
    assert len(server.requests) == 2 and not summary.notes

    # a second analysis on the same store asks nothing: the answers are cached
    found = [beacon(score=0.5), Finding(kind="rare_domain", score=0.3, reasons=["r"], domain="dyn.example")]
    findings, summary = step.enrich(store, found, online(lists, server))
    assert len(server.requests) == 2
    assert summary.online["virustotal"]["cached"] == 2
    assert by_kind(findings, "beacon")[0].score == pytest.approx(0.95)


def test_online_top_limits_the_lookups(store, lists, server, monkeypatch):
    monkeypatch.setenv("VT_API_KEY", "test-key")
    server.add("/api/v3/domains/badhost.example", Reply(200, vt_body("badhost.example", 0), JSON))
    found = [beacon(score=0.5), Finding(kind="rare_domain", score=0.3, reasons=["r"], domain="dyn.example")]
    _, summary = step.enrich(store, found, online(lists, server, online_top=1))
    assert [r.path for r in server.requests] == ["/api/v3/domains/badhost.example"]
    assert summary.online["virustotal"]["asked"] == 1


def test_missing_key_is_one_note_and_nothing_is_sent(store, lists, server, monkeypatch):
    monkeypatch.delenv("VT_API_KEY", raising=False)
    found = [beacon(), Finding(kind="rare_domain", score=0.3, reasons=["r"], domain="dyn.example")]
    findings, summary = step.enrich(store, found, online(lists, server))
    assert summary.notes == ["virustotal: no API key; set VT_API_KEY to look domains up (nothing was sent)"]
    assert not server.requests and summary.online["virustotal"]["failed"] == 2
    assert not any("VirusTotal" in r for f in findings for r in f.reasons)


def test_rate_limited_by_the_service_is_a_note(store, lists, server, monkeypatch):
    monkeypatch.setenv("VT_API_KEY", "test-key")
    server.add("/api/v3/domains/badhost.example",
               Reply(429, b'{"error": {"code": "QuotaExceededError", "message": "quota"}}',
                     {**JSON, "Retry-After": "3600"}))
    found = [beacon(), Finding(kind="rare_domain", score=0.3, reasons=["r"], domain="dyn.example")]
    findings, summary = step.enrich(store, found, online(lists, server))
    assert len(summary.notes) == 1
    assert "rate limited by the service; retry after 3600 s" in summary.notes[0]
    assert "(2 of 2 lookups failed)" in summary.notes[0]
    assert len(server.requests) == 1  # the second lookup waits for the block instead of asking
    assert by_kind(findings, "beacon")[0].score == pytest.approx(0.85)  # feed modifier only


def test_refused_key_is_a_note(store, lists, server, monkeypatch):
    monkeypatch.setenv("VT_API_KEY", "wrong")
    server.add("/api/v3/domains/badhost.example",
               Reply(401, b'{"error": {"code": "WrongCredentialsError", "message": "no"}}', JSON))
    _, summary = step.enrich(store, [beacon()], online(lists, server))
    assert summary.notes == ["virustotal: the service refused the key in VT_API_KEY (HTTP 401 WrongCredentialsError)"]


def test_investigate_malicious_status(store, lists, server, monkeypatch):
    monkeypatch.setenv("UMBRELLA_INVESTIGATE_TOKEN", "token")
    server.add("/domains/categorization/badhost.example",
               Reply(200, json.dumps({"badhost.example": {"status": -1, "security_categories": ["Malware"],
                                                          "content_categories": []}}).encode(), JSON))
    server.add("/security/name/badhost.example", Reply(200, b'{"dga_score": -2, "attack": "", "found": true}', JSON))
    findings, summary = step.enrich(store, [beacon(score=0.5)], online(lists, server, services=("investigate",)))
    f = by_kind(findings, "beacon")[0]
    assert "Umbrella Investigate: malicious; security Malware" in f.reasons
    assert f.sub_scores["modifier_investigate"] == 0.2
    assert summary.online["investigate"]["malicious"] == 1


# --- --resolve ---------------------------------------------------------------------------------------------

class LocalDNS:
    """A UDP DNS server on 127.0.0.1 answering A questions from a dict, NXDOMAIN otherwise."""

    def __init__(self, zone: dict[str, str]):
        self.zone = zone
        self.questions: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()

    def _serve(self):
        import dns.message
        import dns.rcode
        import dns.rdatatype
        import dns.rrset

        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text().rstrip(".")
            self.questions.append(f"{name}/{dns.rdatatype.to_text(question.rdtype)}")
            reply = dns.message.make_response(query)
            if name not in self.zone:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.A:
                reply.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", self.zone[name]))
            self.sock.sendto(reply.to_wire(), peer)


def test_resolve_fills_ip_info_and_adds_a_reason(store, lists):
    pytest.importorskip("dns.resolver")
    found = [Finding(kind="rare_domain", score=0.4, reasons=["r"], domain="quiet.example"), beacon()]
    with LocalDNS({"quiet.example": "188.166.9.9"}) as server:
        findings, summary = step.enrich(store, found, options(lists, resolve=True, nameservers=(server.address,)))
    assert sorted(server.questions) == ["quiet.example/A", "quiet.example/AAAA"]  # only the domain without answers
    quiet = next(f for f in findings if f.domain == "quiet.example")
    assert quiet.reasons[-1] == "resolves now (--resolve) to AS 'DIGITALOCEAN-ASN' (NL)"
    assert summary.resolved == {"asked": 1, "answered": 1, "ips": 1}
    assert store.rows("SELECT country, as_org FROM ip_info WHERE ip = '188.166.9.9'") == [("NL", DO)]


def test_resolve_without_dnspython_is_a_note(store, lists, monkeypatch):
    monkeypatch.setitem(sys.modules, "dns.resolver", None)
    found = [Finding(kind="rare_domain", score=0.4, reasons=["r"], domain="quiet.example")]
    findings, summary = step.enrich(store, found, options(lists, resolve=True, nameservers=("127.0.0.1:9",)))
    assert summary.notes == ["--resolve needs dnspython: pip install 'netsift[resolve]' (nothing was resolved)"]
    assert findings[0].reasons == ["r"]


def test_enrich_settings_are_in_the_config_tree():
    names = {s.name for s in pipeline.settings_sections()["enrich"]}
    assert {"feed_malicious_increase", "online_malicious_increase", "resolve_timeout", "shared_min_domains",
            "virustotal_per_minute", "investigate_max_age_days"} <= names
