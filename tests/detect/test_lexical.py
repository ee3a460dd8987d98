"""lexical: brand look-alikes, phishing words, abused TLDs."""

from __future__ import annotations

import pytest

from netsift.detect.lexical import BrandIndex, name_suspicion, one_edit, split_label

BRANDS = BrandIndex.from_rows(
    [
        ("microsoft.com", 4),
        ("paypal.com", 50),
        ("apple.com", 10),
        ("google.com", 1),
        ("anydesk.com", 297),
        ("signal.org", 327),
        ("x.com", 20),
        ("slack.com", 300),
        ("samsung.com", 200),
        ("bytedance.com", 900),
    ]
)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("microsoft", "micros0ft", True),
        ("paypal", "paypa1", True),
        ("paypal", "paypall", True),
        ("paypal", "aypal", True),
        ("paypal", "paypal", False),
        ("signal", "signly", False),
        ("anydesk", "paydesk", False),
        ("ab", "ba", False),
    ],
)
def test_one_edit(a, b, expected):
    assert one_edit(a, b) is expected and one_edit(b, a) is expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("micros0ft", ("microsoft", "one edit from")),
        ("micros0ft-secure-login", ("microsoft", "one edit from")),
        ("paypa1", ("paypal", "one edit from")),
        ("paypal-verify", ("paypal", "contains as a word")),
        ("pineapple", ("apple", "contains")),
        ("paypall", ("paypal", "one edit from")),  # a repeated last letter: the classic typo
        ("gooogle", ("google", "one edit from")),
        ("slackb", ("slack", "extends")),
        ("samsungads", ("samsung", "contains")),
        ("signly", None),  # two edits from 'signal'
        ("paydesk", None),  # two edits from 'anydesk'
        ("microsoft", None),  # the brand's own label (another TLD) is not a look-alike by itself
        ("xbox", None),  # brands shorter than 5 letters are ignored
        ("weatherstation", None),
    ],
)
def test_lookalike(label, expected):
    assert BRANDS.lookalike(label) == expected


@pytest.mark.parametrize(
    ("domain", "tld", "dga", "low", "high"),
    [
        ("micros0ft-secure-login.com", "com", 0.0, 0.95, 1.0),
        ("paypa1.com", "com", 0.0, 0.7, 0.7),
        ("account-verify-center.xyz", "xyz", 0.0, 0.5, 0.8),
        ("kxqzvbnwtrpl.top", "top", 0.93, 0.93, 1.0),
        ("pineapple-recipes.com", "com", 0.0, 0.0, 0.0),  # contains a brand, nothing else: not a look-alike
        # companies' own domains that contain or extend their brand
        ("samsungads.com", "com", 0.0, 0.0, 0.0),
        ("slackb.com", "com", 0.0, 0.0, 0.0),
        ("byteoversea.com", "com", 0.0, 0.0, 0.0),
        ("bytedance-cdn.com", "com", 0.0, 0.45, 0.45),  # the brand as a word of its own still counts
        # ... but with phishing vocabulary they are
        ("samsungaccount.com", "com", 0.0, 0.55, 0.8),
        ("slackb-login.com", "com", 0.0, 0.6, 0.8),
        ("paypall.com", "com", 0.0, 0.7, 0.7),
        ("weatherstation.com", "com", 0.0, 0.0, 0.0),
        ("weatherstation.shop", "shop", 0.0, 0.15, 0.15),
    ],
)
def test_name_suspicion(domain, tld, dga, low, high):
    score, reasons = name_suspicion(domain, split_label(domain, tld), tld, dga, BRANDS)
    assert low <= score <= high
    assert bool(reasons) == (score > 0)


@pytest.mark.parametrize(
    ("domain", "tld", "label"),
    [
        ("paypal-login.co.uk", "co.uk", "paypal-login"),
        ("github.io", "github.io", "github"),
        ("a.b", "b", "a"),
    ],
)
def test_split_label(domain, tld, label):
    assert split_label(domain, tld) == label
