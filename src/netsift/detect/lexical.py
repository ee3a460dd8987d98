"""How suspicious a registered domain's *name* is, for the new_domain and rare_domain detectors: a
look-alike of a popular brand (``micros0ft-login.com``, ``paypa1.com``), phishing words, many hyphens, a
top-level domain favoured by abusers, or a machine-made label (the DGA model).

Brand look-alikes are found without comparing against every brand: a brand is *contained* in the label,
or the label is within one edit of a brand (symmetric-delete index: both sides' one-character deletions
meet), so thousands of candidates cost no more than a set lookup each.

Companies register names that contain their brand (``samsungads.com``, ``googleapis.com``) or add a letter
to it (``slackb.com``), so those shapes alone are not look-alikes: a label that *contains* a brand counts
only when the brand stands as a word of its own (``paypal-verify``) or phishing vocabulary comes with it,
and a label that *extends* a brand by one character at either end (other than repeating its last letter,
the ``paypall`` typo) only with phishing vocabulary. A label one edit *inside* a brand (``micros0ft``,
``paypa1``, ``gooogle``) is a look-alike on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from netsift.store.base import Store

PHISHING_WORDS = (
    "login",
    "logon",
    "signin",
    "sign-in",
    "secure",
    "account",
    "verify",
    "verification",
    "update",
    "support",
    "wallet",
    "banking",
    "password",
    "auth",
    "confirm",
    "billing",
    "recovery",
    "unlock",
    "invoice",
    "helpdesk",
    "webmail",
    "office365",
    "o365",
)
# Generic TLDs that reports on domain abuse (Spamhaus, Interisle) name as the most abused in proportion to
# their size. Context, not proof: a weak sub-score.
ABUSED_TLDS = frozenset(
    {
        "xyz",
        "top",
        "icu",
        "online",
        "site",
        "shop",
        "live",
        "buzz",
        "club",
        "tk",
        "ml",
        "ga",
        "cf",
        "gq",
        "cyou",
        "sbs",
        "click",
        "rest",
        "monster",
        "bond",
        "cfd",
        "support",
        "zip",
        "mov",
    }
)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass
class BrandIndex:
    """Popular registrable labels (``microsoft`` -> ``microsoft.com``, rank) for look-alike checks."""

    brands: dict[str, tuple[str, int]] = field(default_factory=dict)
    min_length: int = 5

    def __post_init__(self) -> None:
        self._by_deletion: dict[str, str] = {}
        for brand in sorted(self.brands, key=lambda b: self.brands[b][1]):
            for d in _deletions(brand):
                self._by_deletion.setdefault(d, brand)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, int]], min_length: int = 5) -> BrandIndex:
        """From (registered domain, rank) rows such as the ``top_sites`` table."""
        brands: dict[str, tuple[str, int]] = {}
        for domain, rank in rows:
            label = domain.split(".")[0]
            if (
                len(label) >= min_length
                and label.isalpha()
                and (label not in brands or rank < brands[label][1])
            ):
                brands[label] = (domain, rank)
        return cls(brands, min_length)

    def _one_edit_brand(self, token: str) -> str | None:
        if len(token) < self.min_length or token in self.brands:
            return None
        candidates = [self._by_deletion.get(token)]  # token = brand minus one character
        for d in sorted(_deletions(token)):
            candidates += [d if d in self.brands else None, self._by_deletion.get(d)]
        for brand in candidates:
            if brand and one_edit(token, brand):
                return brand
        return None

    def lookalike(self, label: str) -> tuple[str, str] | None:
        """(brand, how) when ``label`` imitates a brand: 'one edit from' (the label or one of its
        hyphen-separated words, e.g. ``micros0ft`` in ``micros0ft-secure-login``), 'extends' (the brand with
        one character added at either end, e.g. ``slackb``: weak, see the module's note), 'contains as a word'
        (``paypal-verify``) or 'contains' (``samsungads``: weak)."""
        if label in self.brands:
            return None  # the brand's own label under another TLD is not a look-alike by itself
        tokens = label.split("-")
        for token in dict.fromkeys([label, *tokens]):
            brand = self._one_edit_brand(token)
            if brand:
                return brand, "extends" if _extends(token, brand) else "one edit from"
        if len(tokens) > 1:
            for token in tokens:
                if token in self.brands:
                    return token, "contains as a word"
        n = len(label)
        for size in range(n - 1, self.min_length - 1, -1):  # longest brand first
            for i in range(n - size + 1):
                if label[i : i + size] in self.brands:
                    return label[i : i + size], "contains"
        return None


def _extends(token: str, brand: str) -> bool:
    """``token`` is ``brand`` with one character added at the start or the end — other than a repeated last
    letter (``paypall``), a typo typosquatters favour."""
    if len(token) != len(brand) + 1:
        return False
    if token.startswith(brand):
        return token[-1] != brand[-1]
    return token.endswith(brand)


# how a look-alike imitates its brand -> (weight, verb, needs other evidence to count)
LOOKALIKE_WEIGHTS = {
    "one edit from": (0.7, "is one edit from", False),
    "contains as a word": (0.45, "contains", False),
    "extends": (0.5, "adds one character to", True),
    "contains": (0.45, "contains", True),
}


def one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by exactly one substitution, insertion or deletion."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + 1 :] == b[i + 1 :] if len(a) == len(b) else a[i:] == b[i + 1 :]


def name_suspicion(
    registered_domain: str, label: str, tld: str, dga_score: float, brands: BrandIndex
) -> tuple[float, list[str]]:
    """(0..1, reasons) for one registered domain's name."""
    parts: list[tuple[float, str]] = []
    words = [w for w in PHISHING_WORDS if w in label]
    hit = brands.lookalike(label)
    if hit:
        brand, how = hit
        domain, rank = brands.brands[brand]
        weight, verb, needs_more = LOOKALIKE_WEIGHTS[how]
        # a company's own names often contain or extend its brand: alone, that is no look-alike
        if not needs_more or [w for w in words if w not in brand]:
            parts.append((weight, f"Its name {verb} the popular brand '{brand}' ({domain}, rank {rank})."))
    if words:
        parts.append((min(0.5, 0.25 * len(words)), f"Phishing vocabulary in the name: {', '.join(words)}."))
    hyphens = label.count("-")
    if hyphens >= 2:
        parts.append((0.15, f"{hyphens} hyphens in one label."))
    if tld in ABUSED_TLDS:
        parts.append((0.15, f"Top-level domain .{tld} is among the most abused in proportion to its size."))
    if dga_score >= 0.5:
        parts.append((dga_score, f"The label looks machine-generated (DGA name score {dga_score:.2f})."))
    if not parts:
        return 0.0, []
    strongest = max(w for w, _ in parts)
    lexical = min(1.0, strongest + 0.5 * (sum(w for w, _ in parts) - strongest))
    parts.sort(key=lambda p: -p[0])
    return lexical, [r for _, r in parts]


def load_brands(store: Store, max_rank: int) -> BrandIndex:
    """Brand index from the ``top_sites`` table (best rank per domain, ranks up to ``max_rank``)."""
    return BrandIndex.from_rows(
        store.rows("SELECT domain, min(rank) FROM top_sites WHERE rank <= ? GROUP BY domain", [int(max_rank)])
    )


def split_label(registered_domain: str, tld: str) -> str:
    """``paypal-login`` from (``paypal-login.co.uk``, ``co.uk``); the first label when they are equal."""
    if registered_domain.endswith("." + tld):
        return registered_domain[: -len(tld) - 1]
    return registered_domain.split(".")[0]
