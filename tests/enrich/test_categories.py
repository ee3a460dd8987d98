"""Category lists: UT1 folders, flat .domains files and domain,category CSVs (own fixtures and the real UT1
sample, counts verified by hand), security/content split and parent-domain matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from netsift.enrich import categories

DATA = Path(__file__).resolve().parents[1] / "data" / "categories"


@pytest.mark.parametrize(
    ("fixture", "source", "rows", "ip_entries"),
    [
        ("ut1_tree", "ut1_tree", [("bank.example", "bank"), ("online.bank.example", "bank"),
                                  ("malware.example", "malware"), ("cdn.malware2.example", "malware"),
                                  ("vpn.example", "vpn"), ("bank.example", "vpn")], 1),
        ("flat", "flat", [("dns.doh.example", "doh"), ("doh.example", "doh"), ("mail.example", "webmail")], 0),
        ("flat/doh.domains", "doh", [("dns.doh.example", "doh"), ("doh.example", "doh")], 0),
        ("ut1_tree/blacklists/vpn/domains", "vpn", [("vpn.example", "vpn"), ("bank.example", "vpn")], 0),
        ("domain_category.csv", "domain_category", [("news.example", "news"), ("news.example", "press"),
                                                    ("portal.example", "dynamic_dns"),
                                                    ("sub.portal.example", "phishing")], 0),
        ("domain_category_no_header.csv", "domain_category_no_header",
         [("shop.example", "shopping"), ("bank.example", "finance")], 0),
    ],
)
def test_load_own_fixtures(fixture, source, rows, ip_entries):
    loaded = categories.load_categories(DATA / fixture)
    assert loaded.source == source
    assert loaded.entries.rows() == rows
    assert loaded.ip_entries == ip_entries


def test_folder_without_lists_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no <category>/domains"):
        categories.load_categories(tmp_path)


@pytest.mark.parametrize(
    ("category", "kind"),
    [("malware", "security"), ("phishing", "security"), ("dynamic-dns", "security"), ("dynamic_dns", "security"),
     ("doh", "security"), ("vpn", "security"), ("remote-control", "security"), ("cryptojacking", "security"),
     ("crypto_mining", "security"), ("residential-proxies", "security"), ("stalkerware", "security"),
     ("ddos", "security"), ("hacking", "security"), ("DOH", "security"),
     ("bank", "content"), ("webmail", "content"), ("publicite", "content"), ("social_networks", "content")],
)
def test_kind(category, kind):
    assert categories.kind_of(category) == kind


def test_match_several_categories_through_parents():
    lists = [categories.load_categories(DATA / "ut1_tree", source="ut1"),
             categories.load_categories(DATA / "domain_category.csv", source="csv")]
    hits = categories.match_categories(["online.bank.example", "x.cdn.malware2.example", "sub.portal.example",
                                        "www.news.example", "example", "unrelated.test"], lists)
    assert hits.rows() == [
        ("online.bank.example", "bank", "content", "ut1", "online.bank.example"),
        ("online.bank.example", "vpn", "security", "ut1", "bank.example"),
        ("sub.portal.example", "dynamic_dns", "security", "csv", "portal.example"),
        ("sub.portal.example", "phishing", "security", "csv", "sub.portal.example"),
        ("www.news.example", "news", "content", "csv", "news.example"),
        ("www.news.example", "press", "content", "csv", "news.example"),
        ("x.cdn.malware2.example", "malware", "security", "ut1", "cdn.malware2.example"),
    ]


def test_shared_ut1_sample(shared_data):
    ut1 = categories.load_categories(shared_data / "categorisation/ut1", source="ut1")
    # 41788 lines in 16 files, 189 of them bare IPs; 41546 distinct domains (53 in two categories)
    assert ut1.entries.height == 41599
    assert ut1.entries["domain"].n_unique() == 41546
    assert ut1.ip_entries == 189 and ut1.rejected == 0
    assert len(ut1.categories) == 16
    per = dict(ut1.entries.group_by("category").len().rows())
    assert (per["bank"], per["doh"], per["vpn"], per["remote-control"], per["update"]) == (6646, 2996, 6039, 170, 30)
    security = [c for c in ut1.categories if categories.kind_of(c) == "security"]
    assert security == ["cryptojacking", "ddos", "doh", "dynamic-dns", "hacking", "remote-control",
                        "residential-proxies", "stalkerware", "vpn"]


def test_shared_ut1_matching(shared_data):
    ut1 = categories.load_categories(shared_data / "categorisation/ut1", source="ut1")
    hits = categories.match_categories(["dns.google", "www.paypal.com", "relay.anydesk.com", "x.duckdns.org",
                                        "www.example.com"], [ut1])
    assert hits.select("name", "category", "kind", "matched").rows() == [
        ("dns.google", "doh", "security", "dns.google"),
        ("relay.anydesk.com", "remote-control", "security", "anydesk.com"),
        ("www.paypal.com", "bank", "content", "paypal.com"),
        ("x.duckdns.org", "dynamic-dns", "security", "duckdns.org"),
    ]
