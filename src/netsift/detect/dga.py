"""dga — clients that ask for machine-generated domain names.

Per name: the registrable label (``kq3vxz8`` in ``www.kq3vxz8.info``) is scored by the character model of
:mod:`netsift.detect.dga_model` (trigram likelihood under popular names, length, entropy, digits,
consonant runs). Per client: how many distinct unexplained registered domains look generated, how sure the
model is, what share of them answered NXDOMAIN, and the client's worst hour of distinct NXDOMAIN names
(Slips alarms at 10 per host per hour). A finding names the client and lists sample names.

:func:`score_names` is the same per-name scoring for ``netsift score domains``: one dict per input name,
``{"name", "score", "verdict": "dga" | "benign", "reasons"}``, no database needed.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import polars as pl

from netsift.config import Setting, Settings
from netsift.detect.context import UNEXPLAINED_QUERIES
from netsift.detect.dga_model import FEATURES, GROUPS, DgaModel, load_model, words_of
from netsift.detect.scoring import MIN_SCORE, log_ramp, noisy_or, plural, ramp, sample
from netsift import names as psl
from netsift.findings import Finding
from netsift.store import Store

SETTINGS = (
    Setting("threshold", 0.5, "Name score at or above which a name counts as machine-generated.", 0.05, 0.99),
    Setting(
        "platform_factor",
        0.5,
        "Multiplier for the odds of names under a hosting platform's suffix (x.duckdns.org).",
        0,
        1,
    ),
    Setting(
        "min_names",
        3,
        "Generated-looking registered domains a client needs (unless it has an NXDOMAIN burst).",
        1,
        1000,
    ),
    Setting("names_high", 20, "Generated-looking registered domains for a full volume sub-score.", 2, 100000),
    Setting(
        "nxdomain_burst",
        10,
        "Distinct NXDOMAIN names per client per hour that make a burst (Slips: 10).",
        1,
        100000,
    ),
    Setting(
        "nxdomain_burst_high", 100, "Distinct NXDOMAIN names per hour for a full burst sub-score.", 2, 1e6
    ),
    Setting(
        "word_list_min",
        8,
        "NXDOMAIN-only registered domains made of dictionary words a client needs for word-list DGA evidence.",
        3,
        10000,
    ),
    MIN_SCORE,
)


# --- per name ---------------------------------------------------------------------------------------


def _label(name: str) -> tuple[str, str, str, bool, bool]:
    """(label, registered_domain, suffix, is_infrastructure, under_private_suffix)."""
    reg, suffix, _sub, infra = psl.split_name(name)
    if infra:
        return "", reg, suffix, True, False
    if reg == suffix or not reg.endswith("." + suffix):  # the name is itself a (platform) suffix
        return name.split(".")[0], reg, suffix, False, True
    private = "." in suffix and bool(psl._extractor()(name).is_private)
    return reg[: -len(suffix) - 1], reg, suffix, False, private


_SLOW_CHARS = frozenset(":/?#@[]\\ %\u3002\uff0e\uff61")


def _fast_label(name: str) -> tuple[str, str, bool, bool]:
    """(label, suffix, is_infrastructure, under_private_suffix) of a lower-case name: the same answer as
    :func:`_label` (tldextract's suffix walk, private domains included), without tldextract's URL and
    punycode handling, ~1 µs instead of ~12 µs. Names that need that handling go the slow way."""
    if "xn--" in name or ".." in name or not name.isascii() or not _SLOW_CHARS.isdisjoint(name):
        label, _reg, suffix, infra, private = _label(name)
        return label, suffix, infra, private
    labels = name.split(".")
    n = len(labels)
    last = labels[-1]
    if n == 1 or last in psl.PRIVATE_TLDS:  # incl. arpa: reverse lookups
        return "", last, True, False
    hit = psl.suffix_walk(labels)  # tldextract's suffix walk over the same snapshot
    if hit is None:  # no suffix rule: the last label is the suffix
        return labels[-2], last, False, False
    idx, private = hit
    suffix = ".".join(labels[idx:]) if idx < n - 1 else labels[-1]
    if idx <= 0:  # the name is itself a (platform) suffix
        return labels[0], suffix, False, True
    return labels[idx - 1], suffix, False, private and idx < n - 1


_NOT_DOMAIN = "Not a domain name; not scored."
_INFRA = "Reverse lookup, local/private-TLD or single-label name: nothing registrable to score."
_PUNYCODE = "Internationalised (punycode) label: the character model only knows ASCII names; not scored."
BATCH = 20000
_PENDING: dict = {}  # placeholder of a name still to be scored (replaced, never returned)
MAX_REASONS = 3  # evidence groups named per name, strongest first


def _quoted(items: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in items)


def _reasons(
    group: str,
    generated: Sequence[bool],
    labels: Sequence[str],
    suffixes: Sequence[str],
    f: dict[str, Sequence[float]],
    reference: dict[str, float],
    words: Sequence[list[str] | None],
    grams: Sequence[list[str]],
) -> list[str | None]:
    """The sentence of one evidence group for each of several labels, saying how it moved the decision the
    way it went (None: nothing to say). Column-wise: ``f`` maps the features the sentences quote to one
    value per label (a list comprehension per group, not a function call per label)."""
    rows = range(len(labels))
    if group == "characters":
        ref_ll = reference["log_likelihood"]
        return [
            (
                f"Character statistics lean towards generated names: entropy {ent:.2f} bits per "
                f"character, {ll:.2f} log10-probability per character over {len(label)} characters (popular "
                f"names: median {ref_ll:.2f})."
            )
            if gen and ll >= ref_ll
            else (
                f"Random characters: its character sequences are rare in popular domain names, "
                f"{ll:.2f} log10-probability per character over {len(label)} characters (popular names: "
                f"median {ref_ll:.2f}); entropy {ent:.2f} bits per character."
            )
            if gen
            else (
                f"Its character sequences are common in popular domain names: {ll:.2f} log10-probability "
                f"per character (popular names: median {ref_ll:.2f})."
            )
            if ll >= ref_ll - 0.15
            else None
            for gen, ll, ent, label in zip(generated, f["log_likelihood"], f["entropy"], labels)
        ]
    if group == "words":
        out: list[str | None] = []
        for gen, cover, label, ws in zip(generated, f["word_coverage"], labels, words):
            quoted = _quoted((ws or [])[:6])
            if gen and ws and cover >= 0.85:
                out.append(
                    f"Dictionary words: {quoted} (word-list DGA shape: {len(ws)} words cover "
                    f"{cover:.0%} of its {len(label)} characters)."
                )
            elif gen and ws:
                out.append(
                    f"Few English words in it: {quoted} cover {cover:.0%} of its {len(label)} characters, "
                    f"not a name made of words."
                )
            elif gen:
                out.append(f"No English word of 3+ letters covers it ({cover:.0%} covered): not a name made of words.")
            else:
                out.append(f"Made of common words: {quoted} ({cover:.0%} of its letters), as real names often are."
                           if ws else None)
        return out
    if group == "ngrams":
        return [
            (
                f"Character n-grams typical of generated names{': ' + _quoted(gs) if gs else ''} "
                f"(n-gram model log-odds {lo:+.1f}; ^ and $ mark the label's start and end)."
            )
            if gen
            else f"Its character n-grams are typical of popular names (n-gram model log-odds {lo:+.1f})."
            for gen, lo, gs in zip(generated, f["ngram_logit"], grams)
        ]
    if group == "syllables":
        ref_cv = reference["cv_alternation"]
        return [
            None if not gen else
            f"Pronounceable syllables: {cv:.0%} of its letter pairs alternate consonant and vowel (popular "
            f"names: median {ref_cv:.0%})." if cv >= ref_cv else
            f"Letters seldom alternate consonant and vowel: {cv:.0%} of its letter pairs do (popular names: "
            f"median {ref_cv:.0%})."
            for gen, cv in zip(generated, f["cv_alternation"])
        ]
    if group == "length":
        ref_n = reference["length"]
        return [
            f"{'Long' if n > ref_n else 'Short'} label: {int(n)} characters (popular names: median {ref_n:.0f})."
            for n in f["length"]
        ]
    if group == "digits":
        return [
            f"Digits mixed into letters: {round(dr * n)} digits, {int(sw)} switches between letters and digits, "
            f"{int(hy)} hyphens." if gen else None
            for gen, dr, n, sw, hy in zip(generated, f["digit_ratio"], f["length"], f["digit_switches"], f["hyphens"])
        ]
    # tld: said only when its log-odds point the way of the verdict
    return [
        None if (lo > 0) != gen or lo == 0 else
        f"The suffix .{suffixes[i]} is {'common among generated' if gen else 'common among popular'} names in "
        f"the training data (log-odds {lo:+.1f})."
        for i, gen, lo in zip(rows, generated, f["tld_log_odds"])
    ]


def _texts(
    group: str,
    rows: list[int],
    generated: Sequence[bool],
    labels: list[str],
    suffixes: list[str],
    x: np.ndarray,
    reference: dict[str, float],
    scored,
) -> dict[int, str]:
    """row -> :func:`_reasons` sentence of one evidence group, for the rows that name it."""
    sub = np.asarray(rows)
    f = {name: x[sub, _F[name]].tolist() for name in _GROUP_QUOTES[group]}
    sub_labels = [labels[r] for r in rows]
    words: list[list[str] | None] = [None] * len(rows)
    grams: list[list[str]] = [[]] * len(rows)
    gen = [generated[r] for r in rows]
    if group == "words":
        words = [words_of(label, back) for label, back in zip(sub_labels, scored.back[sub].tolist())]
    elif group == "ngrams" and scored.top_ngrams is not None:
        grams = [
            list(dict.fromkeys(("^" + label + "$")[a : a + k] for a, k in top if a >= 0)) if g else []
            for g, label, top in zip(gen, sub_labels, scored.top_ngrams[sub].tolist())
        ]
    texts = _reasons(group, gen, sub_labels, [suffixes[r] for r in rows], f, reference, words, grams)
    return {r: t or "" for r, t in zip(rows, texts)}


_F = {f: i for i, f in enumerate(FEATURES)}
# the features each group's sentence quotes
_GROUP_QUOTES = {
    "characters": ("log_likelihood", "entropy"),
    "words": ("word_coverage",),
    "ngrams": ("ngram_logit",),
    "syllables": ("cv_alternation",),
    "length": ("length",),
    "digits": ("digit_ratio", "length", "digit_switches", "hyphens"),
    "tld": ("tld_log_odds",),
}
GROUP_NAMES = tuple(dict.fromkeys(GROUPS[f] for f in FEATURES))
_G = {g: i for i, g in enumerate(GROUP_NAMES)}
_GROUP_MATRIX = np.zeros((len(FEATURES), len(GROUP_NAMES)))
for _i, _f in enumerate(FEATURES):
    _GROUP_MATRIX[_i, GROUP_NAMES.index(GROUPS[_f])] = 1.0


def explain_label(
    label: str,
    suffix: str,
    feats: dict[str, float],
    contrib: dict[str, float],
    reference: dict[str, float],
    words: list[str],
    generated: bool,
    grams: Sequence[str] = (),
) -> list[str]:
    """Human sentences for the evidence that moved the decision the way it went, strongest first. Each
    names its evidence: "random characters", "dictionary words: ..." (word-list DGA shape), "character
    n-grams", "pronounceable syllables", "long label", "digits mixed into letters", "suffix"."""
    groups: dict[str, float] = {}
    for f, v in contrib.items():
        groups[GROUPS[f]] = groups.get(GROUPS[f], 0.0) + v
    sign = 1.0 if generated else -1.0
    out = []
    for group, v in sorted(groups.items(), key=lambda t: -sign * t[1]):
        if sign * v <= 0.05:
            continue
        text = _reasons(group, [generated], [label], [suffix], {k: [v] for k, v in feats.items()}, reference,
                        [words], [list(grams)])[0]
        if text:
            out.append(text)
    return out


def _platform(score: float, factor: float) -> float:
    """The score with its odds multiplied by ``factor`` (a hosting platform's suffix)."""
    if score >= 1.0:
        return 1.0 if factor > 0 else 0.0
    odds = score / (1.0 - score) * factor
    return odds / (1.0 + odds)


def score_batch(
    names: list[str],
    model: DgaModel | None = None,
    settings: Settings | None = None,
    detail: bool = False,
    all_reasons: bool = False,
) -> list[dict]:
    """``{"name", "score", "verdict", "reasons"}`` for each name (FQDN or registered domain), in order;
    the model runs once over the whole batch. Reasons: every piece of evidence behind a ``dga`` verdict,
    strongest first; for a ``benign`` verdict the strongest one (all of them with ``all_reasons``). With
    ``detail`` also ``"_words"`` (the dictionary words found) and ``"_features"`` for the per-client
    evidence (dropped by :func:`score_names`)."""
    # many small objects are made here and none is cyclic: the collector would only walk them
    collect = gc.isenabled()
    gc.disable()
    try:
        return _score_batch(names, model or load_model(), settings or Settings(SETTINGS), detail, all_reasons)
    finally:
        if collect:
            gc.enable()


def _score_batch(
    names: list[str], model: DgaModel, s: Settings, detail: bool, all_reasons: bool
) -> list[dict]:
    threshold = s.threshold
    out: list[dict] = []
    todo: list[int] = []
    todo_names: list[str] = []
    labels: list[str] = []
    suffixes: list[str] = []
    platforms: list[bool] = []
    for raw in names:
        name = raw.strip().lower().rstrip(".")
        if not name or "." not in name and not name.isalnum():
            out.append({"name": name, "score": 0.0, "verdict": "benign", "reasons": [_NOT_DOMAIN]})
            continue
        label, suffix, infra, platform = _fast_label(name)
        if infra:
            out.append({"name": name, "score": 0.0, "verdict": "benign", "reasons": [_INFRA]})
            continue
        if label.startswith("xn--"):
            out.append({"name": name, "score": 0.0, "verdict": "benign", "reasons": [_PUNYCODE]})
            continue
        todo.append(len(out))
        todo_names.append(name)
        out.append(_PENDING)
        labels.append(label)
        suffixes.append(suffix)
        platforms.append(platform)
    if not todo:
        return out
    scored = model.score_labels(labels, suffixes)
    raw_scores = scored.scores
    plat = np.asarray(platforms)
    scores = raw_scores
    if plat.any():
        factor = s.platform_factor
        odds = raw_scores / np.maximum(1.0 - raw_scores, 1e-300) * factor
        hosted = np.where(raw_scores >= 1.0, 1.0 if factor > 0 else 0.0, odds / (1.0 + odds))
        scores = np.where(plat, hosted, scores)
    scores = np.round(scores, 4)  # the verdict follows the score as printed
    generated = scores >= threshold
    raw_generated = raw_scores >= threshold
    # evidence groups, signed towards the raw verdict; a group is named when it moved the decision that
    # way (> 0.05 log-odds) and has something to say; the strongest MAX_REASONS behind a dga verdict,
    # the strongest one behind a benign verdict (all of them with all_reasons)
    x = scored.features
    n = len(todo)
    weight = (scored.contributions @ _GROUP_MATRIX) * np.where(raw_generated, 1.0, -1.0)[:, None]
    says = np.ones_like(weight, dtype=bool)
    benign_rows = ~raw_generated
    name_like = x[:, _F["log_likelihood"]] >= model.reference["log_likelihood"] - 0.15
    says[:, _G["characters"]] = raw_generated | name_like
    says[:, _G["words"]] = raw_generated | (x[:, _F["word_count"]] > 0)
    says[:, _G["syllables"]] = raw_generated
    # digits are named only when there are some (a pair table can credit "no digits" with a share)
    says[:, _G["digits"]] = raw_generated & ((x[:, _F["digit_ratio"]] > 0) | (x[:, _F["hyphens"]] > 0))
    tld_lo = x[:, _F["tld_log_odds"]]
    says[:, _G["tld"]] = np.where(raw_generated, tld_lo > 0, tld_lo < 0)
    order = np.argsort(-weight, axis=1, kind="stable")
    ok = np.take_along_axis((weight > 0.05) & says, order, axis=1)
    limit = len(GROUP_NAMES) if all_reasons else np.where(benign_rows, 1, MAX_REASONS)[:, None]
    ok &= np.cumsum(ok, axis=1) <= limit
    rawgen_l = raw_generated.tolist()
    texts: dict[int, dict[int, str]] = {}
    for g, name in enumerate(GROUP_NAMES):
        rows_g = np.flatnonzero((ok & (order == g)).any(axis=1)).tolist()
        if rows_g:
            texts[g] = _texts(name, rows_g, rawgen_l, labels, suffixes, x, model.reference, scored)
    reasons_l: list[list[str]] = [[] for _ in range(n)]
    for r in range(ok.shape[1]):
        sel = np.flatnonzero(ok[:, r])
        if not len(sel):
            continue
        for row, g in zip(sel.tolist(), order[sel, r].tolist()):
            reasons_l[row].append(texts[g][row])
    score_l, gen_l = scores.tolist(), generated.tolist()
    # a score that no evidence pushed the way of its verdict: name what leant the other way (up to 2)
    bare = np.flatnonzero(~ok.any(axis=1))
    other: dict[int, list[str]] = {}
    if len(bare):
        back_order = np.argsort(weight[bare], axis=1, kind="stable")[:, :2]  # most negative first
        leans = np.take_along_axis(weight[bare], back_order, axis=1) < -0.05
        lean_gen = [True] * n
        for g, name in enumerate(GROUP_NAMES):
            sel = bare[((back_order == g) & leans).any(axis=1)].tolist()
            if sel:
                texts[len(GROUP_NAMES) + g] = _texts(
                    name, sel, lean_gen, labels, suffixes, x, model.reference, scored
                )
        for row, gs, ls in zip(bare.tolist(), back_order.tolist(), leans.tolist()):
            other[row] = [texts[len(GROUP_NAMES) + g][row] for g, ok_g in zip(gs, ls) if ok_g]
    plat_note = f"where machine-made names are common (odds x{s.platform_factor:g})."
    for row, i in enumerate(todo):
        reasons = reasons_l[row]
        if platforms[row]:
            reasons.append(f"Under the hosting platform suffix {suffixes[row]}, {plat_note}")
        score = score_l[row]
        if not reasons:
            head = f"Scored {score:.2f} on the name model, under the threshold {threshold:g}"
            leant = " ".join(t for t in other.get(row, ()) if t)
            reasons.append(f"{head}; the strongest evidence the other way: {leant}" if leant else f"{head}.")
        o = out[i] = {"name": todo_names[row], "score": score, "verdict": "dga" if gen_l[row] else "benign",
                      "reasons": reasons}
        if detail:
            o["_words"] = words_of(labels[row], scored.back[row].tolist())
            o["_features"] = dict(zip(FEATURES, x[row].tolist()))
    return out


def score_name(
    name: str, model: DgaModel | None = None, settings: Settings | None = None, all_reasons: bool = False
) -> dict:
    """``{"name", "score", "verdict", "reasons"}`` for one name (FQDN or registered domain)."""
    return score_batch([name], model, settings, all_reasons=all_reasons)[0]


def score_names(names: Iterable[str], settings: Settings | None = None) -> Iterator[dict]:
    """Score each name (blank lines and ``#`` comments skipped), one dict per name, in input order;
    names are scored in batches of :data:`BATCH`."""
    model = load_model()
    s = settings or Settings(SETTINGS)
    batch: list[str] = []
    for raw in names:
        name = raw.strip()
        if not name or name.startswith("#"):
            continue
        batch.append(name)
        if len(batch) >= BATCH:
            yield from score_batch(batch, model, s)
            batch = []
    if batch:
        yield from score_batch(batch, model, s)


def left_to_dga(
    candidates: list[tuple[str, list[str], float]], threshold: float = 0.5, min_names: int = 3
) -> set[str]:
    """Of (domain, clients, name score) candidates of the new/rare-domain detectors, the generated-looking
    domains whose every client asked for at least ``min_names`` of them: the dga detector reports those
    clients (one finding per infected host instead of one per generated name)."""
    per_client: dict[str, int] = {}
    for _dom, clients, score in candidates:
        if score >= threshold:
            for c in clients:
                per_client[c] = per_client.get(c, 0) + 1
    return {
        dom
        for dom, clients, score in candidates
        if score >= threshold and clients and all(per_client[c] >= min_names for c in clients)
    }


# --- per client -------------------------------------------------------------------------------------


def word_list_shape(names: list[tuple[str, str, list[str]]], s: Settings) -> tuple[float, dict[str, float]]:
    """(0..1, details) of the shape a client's unanswered names share, for word-list DGAs whose single
    names score modestly (``pleasantwhistle.net``). ``names``: (label, suffix, words) of the client's
    distinct NXDOMAIN-only unexplained registered domains that are made of dictionary words (2+ words
    covering the label). Evidence: how many (``word_list_min`` .. ``names_high``), the share inside one
    length band (median +-4 characters), the share on its 3 commonest suffixes, and how much the word
    stock is reused across names."""
    n = len(names)
    if n < s.word_list_min:
        return 0.0, {}
    lengths = sorted(len(label) for label, _, _ in names)
    median = lengths[n // 2]
    band = sum(abs(x - median) <= 4 for x in lengths) / n
    suffixes: dict[str, int] = {}
    for _, sfx, _ in names:
        suffixes[sfx] = suffixes.get(sfx, 0) + 1
    tld_share = sum(sorted(suffixes.values(), reverse=True)[:3]) / n
    words = [w for _, _, ws in names for w in ws]
    reuse = 1.0 - len(set(words)) / max(len(words), 1)
    volume = log_ramp(n, s.word_list_min - 1, max(s.names_high, s.word_list_min))
    shape = volume * ramp(band, 0.5, 0.9) * (0.5 + 0.5 * ramp(tld_share, 0.5, 0.9)) * (0.8 + 0.2 * min(1.0, 4 * reuse))
    return shape, {
        "word_names": float(n),
        "length_band": band,
        "suffix_share": tld_share,
        "word_reuse": reuse,
        "median_length": float(median),
    }


def score_client(
    generated: int,
    mean_name_score: float,
    nxdomain_share: float,
    peak_nx_names: int,
    s: Settings,
    word_shape: float = 0.0,
) -> tuple[float, dict[str, float]]:
    """(score, sub_scores) of one client. ``generated``: distinct generated-looking registered domains it
    asked for; ``mean_name_score``: their mean name score; ``nxdomain_share``: share of them that only
    ever answered NXDOMAIN; ``peak_nx_names``: most distinct NXDOMAIN names it asked in one hour;
    ``word_shape``: :func:`word_list_shape` of its unanswered word-made names."""
    if generated < s.min_names and peak_nx_names < s.nxdomain_burst and word_shape <= 0:
        return 0.0, {}
    volume = log_ramp(generated, 1, s.names_high) if generated else 0.0
    quality = ramp(mean_name_score, s.threshold, 0.9) if generated else 0.0
    burst = 0.0
    if peak_nx_names >= s.nxdomain_burst:
        burst = 0.5 + 0.5 * log_ramp(peak_nx_names, s.nxdomain_burst, s.nxdomain_burst_high)
    subs = {
        "generated_names": volume,
        "name_score": quality,
        "nxdomain_burst": burst,
        "nxdomain_share": nxdomain_share,
    }
    if word_shape > 0:
        subs["word_list_shape"] = word_shape
    score = noisy_or(
        [
            0.8 * volume * (0.5 + 0.5 * quality),
            0.45 * burst * (0.3 + 0.7 * max(volume, word_shape)),
            0.3 * nxdomain_share * volume,
            0.75 * word_shape * (0.6 + 0.4 * burst),
        ]
    )
    return score, subs


def gather(store: Store, s: Settings) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """(per-client aggregates over generated-looking domains, per-client NXDOMAIN peak hour)."""
    domains = store.frame(f"SELECT DISTINCT registered_domain FROM ({UNEXPLAINED_QUERIES}) u")
    model = load_model()
    names = [d for d in domains["registered_domain"].to_list() if d]
    results = score_batch(names, model, s, detail=True)
    scored = [(d, o["score"]) for d, o in zip(names, results)]
    word_made = {
        d: o["_words"]
        for d, o in zip(names, results)
        if "_features" in o
        and o["_features"]["word_coverage"] >= 0.85
        and len(o["_words"]) >= 2
    }
    scores = pl.DataFrame(
        [(d, v) for d, v in scored if v >= s.threshold],
        schema={"registered_domain": pl.String, "name_score": pl.Float64},
        orient="row",
    )
    with store.temp_table("dga_name_scores", scores):
        per_client = store.frame(
            f"""
            WITH u AS ({UNEXPLAINED_QUERIES}),
            per_domain AS (
                SELECT u.client, u.registered_domain, any_value(g.name_score) AS name_score, count(*) AS queries,
                       bool_and(u.response_code = 'NXDOMAIN') AS only_nx, min(u.ts) AS first_seen,
                       max(u.ts) AS last_seen
                FROM u JOIN dga_name_scores g ON g.registered_domain = u.registered_domain
                GROUP BY u.client, u.registered_domain
            )
            SELECT client, count(*) AS generated, avg(name_score) AS mean_name_score,
                   avg(CASE WHEN only_nx THEN 1.0 ELSE 0.0 END) AS nxdomain_share, sum(queries)::BIGINT AS queries,
                   min(first_seen) AS first_seen, max(last_seen) AS last_seen,
                   list(registered_domain ORDER BY name_score DESC, registered_domain)[1:8] AS samples,
                   list(registered_domain ORDER BY queries DESC, registered_domain) FILTER (WHERE NOT only_nx)
                       AS resolved
            FROM per_domain GROUP BY client
            """,
        )
    peaks = store.frame(
        f"""
        WITH hourly AS (
            SELECT client, date_trunc('hour', ts) AS hour, count(DISTINCT query_name) AS nx_names,
                   count(*) AS nx_queries, min(ts) AS first_seen, max(ts) AS last_seen
            FROM ({UNEXPLAINED_QUERIES}) u WHERE response_code = 'NXDOMAIN'
            GROUP BY client, hour
        )
        SELECT client, arg_max(hour, nx_names) AS peak_hour, max(nx_names) AS peak_nx_names,
               sum(nx_queries)::BIGINT AS nx_queries, min(first_seen) AS nx_first, max(last_seen) AS nx_last
        FROM hourly GROUP BY client HAVING max(nx_names) >= ?
        """,
        [s.nxdomain_burst],
    )
    word_shapes = _word_shapes(store, word_made, s)
    return per_client, peaks, word_shapes


def _word_shapes(store: Store, word_made: dict[str, list[str]], s: Settings) -> dict:
    """client -> (shape, details, names) for clients whose NXDOMAIN-only word-made names share a shape."""
    if not word_made:
        return {}
    names_frame = pl.DataFrame({"registered_domain": list(word_made)}, schema={"registered_domain": pl.String})
    with store.temp_table("dga_word_names", names_frame):
        rows = store.frame(
            f"""
            SELECT u.client, u.registered_domain, any_value(u.tld) AS tld
            FROM ({UNEXPLAINED_QUERIES}) u JOIN dga_word_names w ON w.registered_domain = u.registered_domain
            GROUP BY u.client, u.registered_domain
            HAVING bool_and(u.response_code = 'NXDOMAIN')
            """,
        )
    per_client: dict = {}
    for r in rows.iter_rows(named=True):
        per_client.setdefault(r["client"], []).append(r["registered_domain"])
    out = {}
    for client, doms in per_client.items():
        if len(doms) < s.word_list_min:
            continue
        names = []
        for d in sorted(doms):
            label, suffix, _infra, _platform = _fast_label(d)
            names.append((label, suffix, word_made[d]))
        shape, details = word_list_shape(names, s)
        if shape > 0:
            out[client] = (shape, details, sorted(doms))
    return out


def run(store: Store, s: Settings) -> list[Finding]:
    per_client, peaks, word_shapes = gather(store, s)
    rows = {r["client"]: r for r in per_client.iter_rows(named=True)}
    peak_rows = {r["client"]: r for r in peaks.iter_rows(named=True)}
    findings = []
    for client in sorted(set(rows) | set(peak_rows) | set(word_shapes), key=str):
        r = rows.get(client) or {
            "generated": 0,
            "mean_name_score": 0.0,
            "nxdomain_share": 0.0,
            "queries": 0,
            "samples": [],
            "resolved": [],
            "first_seen": None,
            "last_seen": None,
        }
        p = peak_rows.get(client) or {"peak_nx_names": 0}
        shape, shape_details, shape_names = word_shapes.get(client, (0.0, {}, []))
        score, subs = score_client(
            r["generated"],
            r["mean_name_score"] or 0.0,
            r["nxdomain_share"] or 0.0,
            p["peak_nx_names"],
            s,
            shape,
        )
        if score < s.min_score:
            continue
        reasons = []
        if r["generated"]:
            nx = round(r["nxdomain_share"] * r["generated"])
            reasons.append(
                f"Asked for {plural(r['generated'], 'registered domain')} whose names look machine-generated "
                f"(mean name score {r['mean_name_score']:.2f}, threshold {s.threshold:g}), "
                f"e.g. {sample(r['samples'], total=r['generated'])}; {nx} of them never resolved (NXDOMAIN)."
            )
            if r["resolved"] and nx:
                reasons.append(
                    f"Of those names, these resolved — the likely command-and-control: "
                    f"{sample(r['resolved'], 3)}."
                )
        if shape > 0:
            d = shape_details
            reasons.append(
                f"Word-list DGA shape: {plural(len(shape_names), 'unanswered (NXDOMAIN) registered domain')} "
                f"made of dictionary words, e.g. {sample(shape_names, total=len(shape_names))}; "
                f"{d['length_band']:.0%} within 4 characters of the median length {d['median_length']:.0f}, "
                f"{d['suffix_share']:.0%} on its 3 commonest suffixes, {d['word_reuse']:.0%} of the words "
                f"reused across names."
            )
        if p["peak_nx_names"] >= s.nxdomain_burst:
            reasons.append(
                f"{p['peak_nx_names']} distinct names answered NXDOMAIN in one hour "
                f"({p['peak_hour']:%Y-%m-%d %H:00} UTC; Slips alarms at {s.nxdomain_burst} per host per hour)."
            )
        first = [t for t in (r["first_seen"], p.get("nx_first")) if t is not None]
        last = [t for t in (r["last_seen"], p.get("nx_last")) if t is not None]
        findings.append(
            Finding(
                kind="dga",
                client=client,
                score=score,
                reasons=reasons,
                sub_scores=subs,
                first_seen=min(first) if first else None,
                last_seen=max(last) if last else None,
                evidence_count=max(int(r["queries"] or 0), int(p.get("nx_queries") or 0)),
            )
        )
    return findings
