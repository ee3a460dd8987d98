"""The list catalog: every entry well-formed, URLs overridable by argument and environment."""

from __future__ import annotations

import pytest

from netsift.lists import catalog


@pytest.mark.parametrize("spec", list(catalog.CATALOG.values()), ids=lambda s: s.name)
def test_spec_is_well_formed(spec):
    assert spec.kind in catalog.KINDS
    assert spec.format in catalog.FORMATS
    assert spec.url.startswith("https://")
    assert spec.max_age_days > 0 and spec.license
    assert (spec.feed_kind in catalog.FEED_KINDS) == (spec.kind == "feed")


@pytest.mark.parametrize(
    ("name", "var"),
    [("tranco", "NETSIFT_LIST_URL_TRANCO"), ("maltrail-dns-tunneling", "NETSIFT_LIST_URL_MALTRAIL_DNS_TUNNELING")],
)
def test_env_var_name(name, var):
    assert catalog.url_env_var(name) == var


def test_url_precedence(monkeypatch):
    spec = catalog.get("tranco")
    monkeypatch.delenv(spec.env_var, raising=False)
    assert catalog.url_for(spec) == "https://tranco-list.eu/top-1m.csv.zip"
    monkeypatch.setenv(spec.env_var, "http://127.0.0.1:1/env.zip")
    assert catalog.url_for(spec) == "http://127.0.0.1:1/env.zip"
    assert catalog.url_for(spec, "http://127.0.0.1:1/arg.zip") == "http://127.0.0.1:1/arg.zip"


def test_unknown_list_names_the_known_ones():
    with pytest.raises(ValueError, match="known lists: tranco"):
        catalog.get("alexa")
