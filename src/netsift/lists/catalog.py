"""The public lists ``netsift lists update`` knows how to fetch, declared once.

Each :class:`ListSpec` says where a list lives, what it is (a top-sites list, a threat feed, a category
collection), how its bytes are laid out, under which licence it is published and after how many days a
copy counts as stale. The URL of every list can be overridden by the environment variable
``NETSIFT_LIST_URL_<NAME>`` (name upper-cased, ``-`` written ``_``) or by an argument to ``update``, so
tests and air-gapped mirrors can point it elsewhere.

Formats:

``tranco_csv``
    ``rank,domain`` lines without header, delivered zipped (``top-1m.csv.zip``), gzipped or plain.
``hosts``
    hosts-file lines ``0.0.0.0 name`` / ``127.0.0.1 name`` with ``#`` comments.
``domains``
    one domain per line, ``#`` comments (Maltrail trails).
``csv``
    a CSV with a header whose first column is the domain (blackbook: ``Domain,Malware,Date added,Source``).
``ut1_tar``
    the UT1 blacklists tarball: ``blacklists/<category>/domains`` files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

KINDS = ("toplist", "feed", "categories")
FORMATS = ("tranco_csv", "hosts", "domains", "csv", "ut1_tar")
FEED_KINDS = ("malicious", "suspicious", "informational")

_MALTRAIL = "https://raw.githubusercontent.com/stamparm/maltrail/master/trails/static"


@dataclass(frozen=True)
class ListSpec:
    name: str
    url: str
    kind: str  # toplist | feed | categories
    format: str  # one of FORMATS
    license: str
    max_age_days: int
    description: str
    feed_kind: str | None = None  # for feeds: malicious | suspicious | informational
    family_column: str | None = None  # for CSV feeds: column naming the malware family
    min_entries: int = 1  # fewer entries than this means the download is not the list
    max_bytes: int = 512 * 1024 * 1024

    @property
    def env_var(self) -> str:
        return url_env_var(self.name)


CATALOG: dict[str, ListSpec] = {
    spec.name: spec
    for spec in (
        ListSpec(
            "tranco", "https://tranco-list.eu/top-1m.csv.zip", "toplist", "tranco_csv",
            "Tranco list: free to use, cite Le Pochat et al., NDSS 2019", 30,
            "Tranco research top-1M sites (rank,domain), the baseline's default popularity list",
            min_entries=1000,
        ),
        ListSpec(
            "urlhaus", "https://urlhaus.abuse.ch/downloads/hostfile/", "feed", "hosts",
            "abuse.ch URLhaus: CC0", 2,
            "URLhaus malware-distribution hosts (hosts-file format)",
            feed_kind="malicious", min_entries=10,
        ),
        ListSpec(
            "blackbook", "https://raw.githubusercontent.com/stamparm/blackbook/master/blackbook.csv", "feed",
            "csv", "stamparm/blackbook: public domain", 30,
            "Malware-dedicated domains with their malware family (Domain,Malware,Date added,Source)",
            feed_kind="malicious", family_column="Malware", min_entries=100,
        ),
        ListSpec(
            "maltrail-dynamic-domain", f"{_MALTRAIL}/suspicious/dynamic_domain.txt", "feed", "domains",
            "Maltrail: MIT", 30, "Dynamic-DNS provider zones (context: not malicious by itself)",
            feed_kind="suspicious", min_entries=10,
        ),
        ListSpec(
            "maltrail-crypto-mining", f"{_MALTRAIL}/suspicious/crypto_mining.txt", "feed", "domains",
            "Maltrail: MIT", 30, "Crypto-mining pools", feed_kind="suspicious", min_entries=10,
        ),
        ListSpec(
            "maltrail-dns-tunneling", f"{_MALTRAIL}/suspicious/dns_tunneling_service.txt", "feed", "domains",
            "Maltrail: MIT", 30, "DNS/HTTP tunnelling services", feed_kind="suspicious", min_entries=3,
        ),
        ListSpec(
            "ut1", "https://dsi.ut-capitole.fr/blacklists/download/blacklists.tar.gz", "categories", "ut1_tar",
            "UT1 (Universite Toulouse Capitole): CC BY-SA 4.0", 30,
            "UT1 content and security categories (<category>/domains)", min_entries=100,
        ),
    )
}


def url_env_var(name: str) -> str:
    """``NETSIFT_LIST_URL_<NAME>``: the variable that overrides a list's URL."""
    return "NETSIFT_LIST_URL_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def get(name: str) -> ListSpec:
    """The spec of a list, or a ValueError naming the lists that exist."""
    try:
        return CATALOG[name]
    except KeyError:
        raise ValueError(f"unknown list {name!r}; known lists: {', '.join(CATALOG)}") from None


def url_for(spec: ListSpec, override: str | None = None) -> str:
    """Where to fetch a list: the explicit override, else the environment variable, else the catalog."""
    return override or os.environ.get(spec.env_var) or spec.url
