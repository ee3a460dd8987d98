"""The per-name model behind the DGA detector: how much does a label look machine-made?

A label (the registrable part of a name: ``google`` in ``www.google.co.uk``) is described by about twenty
numbers — how likely its character trigrams are under a model of popular names, length, entropy, digits,
consonant runs, consonant/vowel alternation, and a **word segmentation** against an English word list
(how many words, how much of the label they cover, how common they are) — plus how often its TLD carries
generated names. A boosted additive model (one shape function per feature, learnt by gradient-boosted
trees that may not mix features) turns them into a log-odds score; every feature's share of the decision
is therefore exact and explains the verdict.

Everything is numpy over a batch of labels (:meth:`DgaModel.score_labels`): labels are packed into a byte
matrix, trigram log-probabilities come from a dense table, dictionary words are found with a polynomial
rolling hash looked up in an open-addressed table, and the segmentation is a dynamic programme over
positions that runs for every label at once. No database, no network.

Package data (built offline by ``scripts/train_dga_model.py``; the training lists are never shipped):

- ``netsift/data/dga_model.json`` — trigram counts, the shape functions, the TLD table, reference medians.
- ``netsift/data/dga_words.txt`` — English words in frequency order, derived from the ``wordfreq`` package
  (CC BY-SA 4.0 data; see ``dga_words.LICENSE``).
"""

from __future__ import annotations

import base64
import functools
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

VOWELS = frozenset("aeiouy")
LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
DIGITS = frozenset("0123456789")
START, END = "^", "$"
FORMAT = "netsift-dga-model/4"  # /3: no pair tables; still read

# symbol codes: 0 padding, 1-26 a-z, 27-36 0-9, 37 '-', 38 any other character, 39 start, 40 end
N_SYMBOLS = 41
PAD, HYPHEN, OTHER, START_CODE, END_CODE = 0, 37, 38, 39, 40
_CODE = np.full(256, OTHER, dtype=np.uint8)
for _i, _ch in enumerate("abcdefghijklmnopqrstuvwxyz0123456789-"):
    _CODE[ord(_ch)] = _i + 1
    _CODE[ord(_ch.upper())] = _i + 1  # upper-case letters are their lower-case symbol
_SYMBOL = "_" + "abcdefghijklmnopqrstuvwxyz0123456789-" + "_" + START + END
_IS_VOWEL = np.zeros(N_SYMBOLS, dtype=bool)
_IS_VOWEL[[ord(c) - 96 for c in "aeiouy"]] = True
_IS_LETTER = np.zeros(N_SYMBOLS, dtype=bool)
_IS_LETTER[1:27] = True
_IS_DIGIT = np.zeros(N_SYMBOLS, dtype=bool)
_IS_DIGIT[27:37] = True

MAX_LABEL = 63
SEG_WIDTH = 40  # the word segmentation looks at the first 40 characters
MIN_WORD, MAX_WORD = 3, 15
UNKNOWN_COST = 4.0  # cost of a character no dictionary word covers (a word costs ln(rank + 2) + 1)
_HASH_BASE = np.uint64(0x9E3779B97F4A7C15)
_TABLE_BITS = 20
_FILTER_BITS = 20

# The features the model sees, in order. Each is computed by :func:`feature_matrix`.
FEATURES = (
    "log_likelihood",  # mean log10 probability per character transition (higher = more name-like)
    "total_log_likelihood",  # the sum: evidence grows with length, so long random labels stand out
    "worst_transitions",  # mean of the 3 least likely transitions
    "length",  # characters in the label
    "entropy",  # Shannon entropy, bits per character
    "distinct_ratio",  # distinct characters / length
    "digit_ratio",  # share of digits
    "digit_switches",  # letter<->digit changes ("d34ft" has 2)
    "hyphens",  # '-' count
    "consonant_run",  # longest run of consonants (y counts as a vowel)
    "vowel_ratio",  # share of vowels among letters
    "cv_alternation",  # share of adjacent letter pairs that switch consonant<->vowel (pronounceable DGAs)
    "word_cost",  # word segmentation cost per character (lower = made of common words)
    "word_coverage",  # share of the label's letters covered by dictionary words of 3+ letters
    "word_count",  # words in the best segmentation
    "full_word_count",  # word_count when the words cover the whole label (letters), else 0
    "longest_word",  # letters in the longest word found
    "word_rarity",  # mean ln(rank) of the words found (0 when none)
    "full_word_length",  # length when words cover the whole label, else 0 (word-pair DGAs: 10-20)
    "ngram_logit",  # log-odds of a logistic regression over hashed character 1-6-grams (generated vs popular)
    "tld_log_odds",  # how often the TLD carried generated names in training (smoothed log-odds)
)

_FEATURE_INDEX = {f: i for i, f in enumerate(FEATURES)}

# feature -> group named in the reasons
GROUPS = {
    "log_likelihood": "characters",
    "total_log_likelihood": "characters",
    "worst_transitions": "characters",
    "entropy": "characters",
    "distinct_ratio": "characters",
    "consonant_run": "characters",
    "vowel_ratio": "characters",
    "length": "length",
    "digit_ratio": "digits",
    "digit_switches": "digits",
    "hyphens": "digits",
    "cv_alternation": "syllables",
    "word_cost": "words",
    "word_coverage": "words",
    "word_count": "words",
    "full_word_count": "words",
    "longest_word": "words",
    "word_rarity": "words",
    "full_word_length": "words",
    "ngram_logit": "ngrams",
    "tld_log_odds": "tld",
}


def entropy(text: str) -> float:
    if not text:
        return 0.0
    n = len(text)
    counts: dict[str, int] = {}
    for ch in text:
        counts[ch] = counts.get(ch, 0) + 1
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def normalise_label(label: str) -> str:
    """Lower-case; any character outside a-z, 0-9 and '-' becomes '_' (one shared 'other' symbol)."""
    return "".join(ch if ch in LETTERS or ch in DIGITS or ch == "-" else "_" for ch in label.lower())


# --- character trigram model ---------------------------------------------------------------------------


@dataclass
class TrigramModel:
    """Character trigram model over padded labels (``^^label$``) with interpolated Kneser-Ney smoothing
    (absolute discount ``discount``; lower orders use continuation counts), so that a character sequence
    never seen in training still gets a sensible probability from its shorter history."""

    trigrams: dict[str, int]
    discount: float = 0.75

    def __post_init__(self) -> None:
        self._ctx3: dict[str, list[int]] = {}  # "ab" -> [count of ab*, distinct chars after ab]
        cont2: dict[str, int] = {}  # "bc" -> distinct chars seen before bc
        for tri, c in self.trigrams.items():
            entry = self._ctx3.setdefault(tri[:2], [0, 0])
            entry[0] += c
            entry[1] += 1
            cont2[tri[1:]] = cont2.get(tri[1:], 0) + 1
        self._cont2 = cont2
        self._ctx2: dict[str, list[int]] = {}
        cont1: dict[str, int] = {}
        for bi, c in cont2.items():
            entry = self._ctx2.setdefault(bi[:1], [0, 0])
            entry[0] += c
            entry[1] += 1
            cont1[bi[1:]] = cont1.get(bi[1:], 0) + 1
        self._cont1 = cont1
        self._cont1_total = sum(cont1.values())
        self._vocab = len(cont1) + 1
        self._d = self.discount

    @classmethod
    def train(cls, labels: list[str], discount: float = 0.75) -> TrigramModel:
        tri: dict[str, int] = {}
        for label in labels:
            padded = START + START + normalise_label(label) + END
            for i in range(2, len(padded)):
                tri[padded[i - 2 : i + 1]] = tri.get(padded[i - 2 : i + 1], 0) + 1
        return cls(tri, discount)

    def _p1(self, ch: str) -> float:
        d = self._d
        return max(self._cont1.get(ch, 0) - d, 0) / self._cont1_total + d * len(self._cont1) / (
            self._cont1_total * self._vocab
        )

    def _p2(self, ctx: str, ch: str) -> float:
        entry = self._ctx2.get(ctx)
        if entry is None:
            return self._p1(ch)
        total, types = entry
        return max(self._cont2.get(ctx + ch, 0) - self._d, 0) / total + self._d * types / total * self._p1(ch)

    def _p3(self, ctx: str, ch: str) -> float:
        entry = self._ctx3.get(ctx)
        if entry is None:
            return self._p2(ctx[1], ch)
        total, types = entry
        return max(self.trigrams.get(ctx + ch, 0) - self._d, 0) / total + (
            self._d * types / total * self._p2(ctx[1], ch)
        )

    def transition_logprobs(self, label: str) -> list[float]:
        """log10 P(char | two previous chars) for every character of the padded label (incl. the end)."""
        padded = START + START + normalise_label(label) + END
        return [math.log10(self._p3(padded[i - 2 : i], padded[i])) for i in range(2, len(padded))]

    @functools.cached_property
    def table(self) -> np.ndarray:
        """log10 P(c | a b) for every symbol code triple, as a dense float32 array [41, 41, 41]: the same
        smoothing as :meth:`_p3`, computed over count arrays at once (a Python loop over the 64,000 triples
        took a second of every start-up)."""
        sym = {ch: i for i, ch in enumerate(_SYMBOL) if i}  # '_' is 38 (other), never the padding 0
        counts = np.zeros((N_SYMBOLS, N_SYMBOLS, N_SYMBOLS))
        if self.trigrams:
            idx = np.array([[sym[ch] for ch in tri] for tri in self.trigrams], dtype=np.int64)
            np.add.at(counts, (idx[:, 0], idx[:, 1], idx[:, 2]), np.fromiter(self.trigrams.values(), float))
        d = self._d
        total3 = counts.sum(axis=2)
        types3 = (counts > 0).sum(axis=2)
        cont2 = (counts > 0).sum(axis=0).astype(float)  # [b, c]: distinct characters seen before "bc"
        total2 = cont2.sum(axis=1)
        types2 = (cont2 > 0).sum(axis=1)
        cont1 = (cont2 > 0).sum(axis=0).astype(float)  # [c]: distinct characters seen before c
        cont1_total = max(cont1.sum(), 1.0)
        kinds = float((cont1 > 0).sum())
        p1 = np.maximum(cont1 - d, 0) / cont1_total + d * kinds / (cont1_total * (kinds + 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            p2 = np.where(
                total2[:, None] > 0,
                np.maximum(cont2 - d, 0) / total2[:, None] + d * (types2 / total2)[:, None] * p1[None, :],
                p1[None, :],
            )
            p3 = np.where(
                total3[:, :, None] > 0,
                np.maximum(counts - d, 0) / total3[:, :, None] + d * (types3 / total3)[:, :, None] * p2[None, :, :],
                p2[None, :, :],
            )
        out = np.zeros((N_SYMBOLS, N_SYMBOLS, N_SYMBOLS), dtype=np.float32)
        out[1:, 1:, 1:] = np.log10(p3[1:, 1:, 1:])
        return out

    def to_json(self) -> dict:
        return {"trigrams": self.trigrams, "discount": self.discount}

    @classmethod
    def from_json(cls, data: dict) -> TrigramModel:
        return cls(data["trigrams"], data["discount"])


# --- packing and word table ------------------------------------------------------------------------------


def encode(labels: list[str], width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(codes uint8 [n, width], lengths int [n]) of lower-case labels; labels longer than MAX_LABEL are cut."""
    raw = [lb.encode("ascii", "replace")[:MAX_LABEL] for lb in labels]
    lengths = np.fromiter((len(r) for r in raw), dtype=np.int64, count=len(raw))
    w = int(lengths.max(initial=1)) if width is None else width
    w = max(w, 1)
    flat = np.frombuffer(b"".join(raw), dtype=np.uint8)
    codes = np.zeros((len(raw), w), dtype=np.uint8)
    if flat.size:
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        cols = np.arange(w)
        mask = cols[None, :] < np.minimum(lengths, w)[:, None]
        idx = (starts[:, None] + cols[None, :])[mask]
        codes[mask] = _CODE[flat[idx]]
    return codes, np.minimum(lengths, w)


def _hash_windows(codes: np.ndarray, k: int) -> np.ndarray:
    """Polynomial hash of every window of k symbols, shape [n, width - k + 1] (uint64, wrapping)."""
    n, w = codes.shape
    h = np.zeros((n, w - k + 1), dtype=np.uint64)
    c = codes.astype(np.uint64)
    for j in range(k):
        h = h * _HASH_BASE + c[:, j : j + w - k + 1]
    return h


@dataclass
class WordTable:
    """English words (frequency order) in an open-addressed hash table: two probes, 64-bit keys."""

    words: list[str]
    keys: np.ndarray = field(init=False, repr=False)
    ranks: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        size = 1 << _TABLE_BITS
        self.keys = np.zeros(size, dtype=np.uint64)
        self.ranks = np.full(size, -1, dtype=np.int32)
        # inserted shortest first, then by rank: a word takes the first free of its two slots. Words whose
        # first slot is nobody else's candidate always get it (set at once); the few others go in order.
        order = sorted(range(len(self.words)), key=lambda i: (len(self.words[i]), i))
        hashes = np.zeros(len(self.words), dtype=np.uint64)
        by_len: dict[int, list[int]] = {}
        for i in order:
            by_len.setdefault(len(self.words[i]), []).append(i)
        for k, ids in by_len.items():
            codes, _ = encode([self.words[i] for i in ids], k)
            hashes[ids] = _hash_windows(codes, k)[:, 0]
        s1, s2 = self._slots(hashes)
        candidates = np.bincount(np.concatenate([s1, s2]), minlength=size)
        free = candidates[s1] == 1
        self.keys[s1[free]] = hashes[free]
        self.ranks[s1[free]] = np.flatnonzero(free)
        keys, ranks, free_l = self.keys, self.ranks, free.tolist()
        for i in (i for i in order if not free_l[i]):
            for slot in (int(s1[i]), int(s2[i])):
                if ranks[slot] < 0:
                    keys[slot], ranks[slot] = hashes[i], i
                    break
        # cost of each word by rank (ln(rank + 2) + 1), and inf for 'no word' (index -1)
        self.costs = np.concatenate([np.log(np.arange(len(self.words)) + 2.0) + 1.0, [np.inf]])
        # a one-hash filter (2**_FILTER_BITS bits, 128 KiB: stays in cache) answers most misses
        self.filter = np.zeros(1 << _FILTER_BITS, dtype=bool)
        self.filter[self._fslot(self.keys[self.ranks >= 0])] = True

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """word -> rank."""
        return {w: i for i, w in enumerate(self.words)}

    @staticmethod
    def _fslot(h: np.ndarray) -> np.ndarray:
        return ((h * np.uint64(0x94D049BB133111EB)) >> np.uint64(64 - _FILTER_BITS)).astype(np.int64)

    def maybe(self, h: np.ndarray) -> np.ndarray:
        """False where ``h`` is certainly not a word's hash."""
        return self.filter[self._fslot(h)]

    @staticmethod
    def _slots(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shift = np.uint64(64 - _TABLE_BITS)
        return (h >> shift).astype(np.int64), ((h * np.uint64(0xC2B2AE3D27D4EB4F)) >> shift).astype(np.int64)

    def lookup(self, h: np.ndarray) -> np.ndarray:
        """Rank of the word with hash ``h`` (any shape), -1 when it is not a word."""
        s1, s2 = self._slots(h)
        r = np.where(self.keys[s1] == h, self.ranks[s1], -1)
        return np.where((r < 0) & (self.keys[s2] == h), self.ranks[s2], r)


def segment(codes: np.ndarray, lengths: np.ndarray, words: WordTable) -> dict[str, np.ndarray]:
    """Best segmentation of every label into dictionary words (3-15 letters) and unknown characters,
    minimising ``sum(ln(rank + 2) + 1)`` over words plus ``UNKNOWN_COST`` per unknown character. Returns
    per-label cost, covered letters, word count, longest word, summed ln(rank), and the back-pointer
    matrix (word length ending at each position, 0 = unknown character) for :func:`words_of`.

    Vectorised over labels *and* word lengths: one step per end position ``j`` takes the best of "an
    unknown character" and "a word of length k ending at j" for every k at once; the statistics are then
    read off the best path by walking the back-pointers of all labels together."""
    n = codes.shape[0]
    w = min(codes.shape[1], SEG_WIDTH)
    codes = codes[:, :w]
    lens = np.minimum(lengths, w)
    rows = np.arange(n)
    back = np.zeros((n, w + 1), dtype=np.int8)  # returned as is only when no word fits
    ks = np.arange(MIN_WORD, min(MAX_WORD, w) + 1)
    if n == 0 or not len(ks):
        z = np.zeros(n)
        zi = np.zeros(n, dtype=np.int64)
        cost = lens * UNKNOWN_COST
        return {"cost": cost, "covered": zi, "count": zi, "longest": zi, "rarity": z, "back": back}
    letter = _IS_LETTER[codes]
    nonletter_prefix = np.concatenate([np.zeros((n, 1), np.int32), np.cumsum(~letter, axis=1, dtype=np.int32)], 1)
    # rank_end[j, i, :]: rank of the word of length ks[i] that ends before position j (-1: none); j-major
    # so that each step of the programme reads contiguous memory
    rank_end = np.full((w + 1, len(ks), n), -1, dtype=np.int32)
    c = codes.astype(np.uint64)
    h = _hash_windows(codes, MIN_WORD - 1)
    for i, k in enumerate(ks):
        h = h[:, :-1] * _HASH_BASE + c[:, k - 1 :]  # rolling: the hash of k symbols from that of k - 1
        ok = (nonletter_prefix[:, k:] - nonletter_prefix[:, : w - k + 1]) == 0
        ok &= np.arange(w - k + 1)[None, :] + k <= lens[:, None]
        ok &= words.maybe(h)
        if ok.any():
            r = np.full(h.shape, -1, dtype=np.int32)
            r[ok] = words.lookup(h[ok])
            rank_end[k:, i, :] = r.T
    has_any: np.ndarray = np.asarray((rank_end >= 0).any(axis=2))  # [w+1, K]
    wcost = words.costs[rank_end]  # rank -1 picks the last entry: inf
    cost = np.zeros((w + 1, n))
    backT = np.zeros((w + 1, n), dtype=np.int8)
    for j in range(1, w + 1):
        m = int(np.searchsorted(ks, j, side="right"))
        unknown = cost[j - 1] + UNKNOWN_COST
        if m == 0 or not has_any[j, :m].any():
            cost[j] = unknown
            continue
        cand = cost[j - ks[:m]] + wcost[j, :m]  # [m, n]
        a = np.argmin(cand, axis=0)
        best = np.take_along_axis(cand, a[None, :], 0)[0]
        better = best < unknown
        cost[j] = np.where(better, best, unknown)
        backT[j] = np.where(better, ks[a], 0)
    back = np.ascontiguousarray(backT.T)
    covered = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    longest = np.zeros(n, dtype=np.int64)
    rarity = np.zeros(n)
    at = lens.astype(np.int64).copy()  # every label's position on its best path, walked back together
    while True:
        active = at > 0
        if not active.any():
            break
        k = back[rows, at].astype(np.int64)
        isw = active & (k > 0)
        if isw.any():
            kw = np.where(isw, k, 0)
            covered += kw
            count += isw
            longest = np.maximum(longest, kw)
            rk = rank_end[at, np.maximum(k - MIN_WORD, 0), rows]
            rarity += np.where(isw, np.log(np.maximum(rk, 0) + 2.0), 0.0)
        at = np.where(active, at - np.maximum(k, 1), 0)
    return {
        "cost": cost[lens, rows],
        "covered": covered,
        "count": count,
        "longest": longest,
        "rarity": rarity,
        "back": back,
    }


def words_of(label: str, back_row: np.ndarray) -> list[str]:
    """The dictionary words of one label's best segmentation (from its back-pointer row)."""
    out = []
    j = min(len(label), SEG_WIDTH, len(back_row) - 1)
    while j > 0:
        k = int(back_row[j])
        if k > 0:
            out.append(label[j - k : j])
            j -= k
        else:
            j -= 1
    return out[::-1]


# --- hashed character n-grams -----------------------------------------------------------------------------

NGRAM_ORDERS = (1, 2, 3, 4, 5, 6)  # defaults of the training script; a model carries its own
NGRAM_BITS = 20
_NGRAM_MIX = np.uint64(0xD6E8FEB86659FD93)


def ngram_index(
    codes: np.ndarray, lengths: np.ndarray, bits: int = NGRAM_BITS, orders: tuple[int, ...] = NGRAM_ORDERS
) -> tuple[np.ndarray, np.ndarray]:
    """Hashed indices of the character n-grams (of each order in ``orders``) of ``^label$``: (index
    int64 [n, windows] with ``2**bits`` for windows past the label's end, window start/order pairs
    [windows, 2] for naming them)."""
    n, w = codes.shape
    padded = np.zeros((n, w + 2), dtype=np.uint8)
    padded[:, 0] = START_CODE
    padded[:, 1 : w + 1] = codes
    padded[np.arange(n), lengths + 1] = END_CODE
    idx, where = [], []
    shift = np.uint64(64 - bits)
    for k in orders:
        if k > w + 2:
            continue
        h = _hash_windows(padded, k) ^ np.uint64(k)
        i = ((h * _NGRAM_MIX) >> shift).astype(np.int64)
        starts = np.arange(w + 2 - k + 1)
        i[starts[None, :] + k > (lengths + 2)[:, None]] = 1 << bits
        idx.append(i)
        where.append(np.column_stack([starts, np.full(len(starts), k)]))
    return np.concatenate(idx, axis=1), np.concatenate(where, axis=0)


@dataclass
class NgramModel:
    """Logistic regression over hashed character n-gram counts (``2**bits`` weights + intercept); its
    log-odds is one feature of the shape model. The weights are stored as float16."""

    weights: np.ndarray  # float32 [2**bits + 1], the last one (padding) 0
    intercept: float
    bits: int = NGRAM_BITS
    orders: tuple[int, ...] = NGRAM_ORDERS

    def logit(self, idx: np.ndarray) -> np.ndarray:
        return self.intercept + self.weights[idx].sum(axis=1, dtype=np.float64)

    def to_json(self) -> dict:
        raw = self.weights[: 1 << self.bits].astype("<f2").tobytes()
        return {"bits": self.bits, "intercept": self.intercept, "orders": list(self.orders),
                "weights_f16_b64": base64.b64encode(raw).decode("ascii")}

    @classmethod
    def from_json(cls, data: dict) -> NgramModel:
        w = np.frombuffer(base64.b64decode(data["weights_f16_b64"]), dtype="<f2").astype(np.float32)
        return cls(np.concatenate([w, np.zeros(1, np.float32)]), float(data["intercept"]), int(data["bits"]),
                   tuple(int(k) for k in data["orders"]))


# --- features --------------------------------------------------------------------------------------------

_BUCKETS = (8, 12, 16, 20, 26, 34, MAX_LABEL)


def feature_matrix(
    labels: list[str],
    tlds: list[str],
    ngrams: TrigramModel,
    words: WordTable,
    tld_table: dict[str, float],
    lr: NgramModel | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features [n, len(FEATURES)], segmentation back-pointers [n, SEG_WIDTH + 1], the 3 n-grams that
    weigh most towards 'generated' as (start in ``^label$``, order) [n, 3, 2], -1 when none) of lower-case
    labels. Labels are grouped by length (so a batch of short names does not pay for its longest one);
    without ``lr`` the n-gram feature is 0."""
    n = len(labels)
    codes, lengths = encode(labels)
    x = np.zeros((n, len(FEATURES)))
    back = np.zeros((n, SEG_WIDTH + 1), dtype=np.int8)
    top = np.full((n, 3, 2), -1, dtype=np.int16)
    if n == 0:
        return x, back, top
    table = ngrams.table
    lo = 0
    for hi in _BUCKETS:
        sel = np.flatnonzero((lengths > lo) & (lengths <= hi)) if lo else np.flatnonzero(lengths <= hi)
        lo = hi
        if not len(sel):
            continue
        w = max(int(lengths[sel].max()), 1)
        xb, bb, tb = _block(codes[sel, :w], lengths[sel], table, words, lr)
        x[sel] = xb
        back[sel, : bb.shape[1]] = bb
        top[sel] = tb
    default_tld = tld_table.get("", 0.0)
    x[:, FEATURES.index("tld_log_odds")] = [tld_table.get(t, default_tld) for t in tlds]
    return x, back, top


def _block(
    codes: np.ndarray, lengths: np.ndarray, table: np.ndarray, words: WordTable, lr: NgramModel | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, w = codes.shape
    rows = np.arange(n)
    lens = np.maximum(lengths, 1).astype(float)
    cols = np.arange(w)
    valid = cols[None, :] < lengths[:, None]
    # trigram transitions over ^^label$
    padded = np.zeros((n, w + 3), dtype=np.uint8)
    padded[:, :2] = START_CODE
    padded[:, 2 : w + 2] = codes
    padded[rows, lengths + 2] = END_CODE
    lp = table[padded[:, :-2], padded[:, 1:-1], padded[:, 2:]]  # [n, w+1]
    tvalid = np.arange(w + 1)[None, :] <= lengths[:, None]
    lp = np.where(tvalid, lp, 0.0)
    total = lp.sum(axis=1, dtype=np.float64)
    n_trans = lengths + 1
    k3 = min(3, w + 1)
    worst = np.where(tvalid, lp, np.inf)
    if w + 1 > 3:
        worst = np.partition(worst, k3 - 1, axis=1)[:, :k3]
    worst_n = np.minimum(n_trans, 3)
    worst_mean = np.where(np.isfinite(worst), worst, 0.0).sum(axis=1) / worst_n
    # character counts
    flat = (rows[:, None] * N_SYMBOLS + codes).ravel()
    counts = np.bincount(flat, minlength=n * N_SYMBOLS).reshape(n, N_SYMBOLS)
    counts[:, PAD] = 0
    p = counts / lens[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(p > 0, p * np.log2(np.where(p > 0, p, 1)), 0.0).sum(axis=1)
    distinct = (counts > 0).sum(axis=1) / lens
    is_letter = _IS_LETTER[codes] & valid
    is_digit = _IS_DIGIT[codes] & valid
    is_vowel = _IS_VOWEL[codes] & valid
    is_cons = is_letter & ~is_vowel
    n_letters = is_letter.sum(axis=1)
    digit_ratio = is_digit.sum(axis=1) / lens
    switches = ((is_digit[:, :-1] & is_letter[:, 1:]) | (is_letter[:, :-1] & is_digit[:, 1:])).sum(axis=1)
    hyphens = (codes == HYPHEN).sum(axis=1)
    run = np.zeros(n, dtype=np.int32)
    best = np.zeros(n, dtype=np.int32)
    for j in range(w):
        run = np.where(is_cons[:, j], run + 1, 0)
        np.maximum(best, run, out=best)
    vowel_ratio = is_vowel.sum(axis=1) / np.maximum(n_letters, 1)
    pair = is_letter[:, :-1] & is_letter[:, 1:]
    alt = pair & (is_vowel[:, :-1] != is_vowel[:, 1:])
    cv_alt = alt.sum(axis=1) / np.maximum(pair.sum(axis=1), 1)
    seg = segment(codes, lengths, words)
    seg_letters = np.maximum(np.minimum(n_letters, SEG_WIDTH), 1)
    coverage = seg["covered"] / seg_letters
    full = (seg["covered"] >= np.minimum(n_letters, SEG_WIDTH)) & (seg["count"] > 0)
    word_cost = seg["cost"] / np.maximum(np.minimum(lengths, SEG_WIDTH), 1)
    rarity = np.where(seg["count"] > 0, seg["rarity"] / np.maximum(seg["count"], 1), 0.0)
    top = np.full((n, 3, 2), -1, dtype=np.int16)
    if lr is not None:
        idx, where = ngram_index(codes, lengths, lr.bits, lr.orders)
        wts = lr.weights[idx]
        ngram = lr.intercept + wts.sum(axis=1, dtype=np.float64)
        work = wts.copy()
        work[:, where[:, 1] < 2] = -np.inf  # single characters are not worth quoting
        for q in range(min(3, wts.shape[1])):  # the 3 heaviest n-grams, heaviest first
            a = work.argmax(axis=1)
            pos = work[rows, a] > 0.2
            top[:, q] = np.where(pos[:, None], where[a], -1)
            work[rows, a] = -np.inf
    else:
        ngram = np.zeros(n)
    x = np.column_stack(
        [
            total / n_trans,
            total,
            worst_mean,
            lengths.astype(float),
            ent,
            distinct,
            digit_ratio,
            switches,
            hyphens,
            best,
            vowel_ratio,
            cv_alt,
            word_cost,
            coverage,
            seg["count"],
            np.where(full, seg["count"], 0),
            seg["longest"],
            rarity,
            np.where(full, lengths, 0),
            ngram,
            np.zeros(n),  # tld_log_odds, filled by the caller
        ]
    ).astype(float)
    return x, seg["back"], top


# --- the additive model ----------------------------------------------------------------------------------


@dataclass
class PairTable:
    """A step function of two features: ``values[searchsorted(ta, x[a]), searchsorted(tb, x[b])]`` log-odds
    (``x <= t[i]`` falls in bin i). Made by collapsing boosted trees whose every path uses at most these two
    features. When naming evidence its value is shared between the two features by their Shapley values
    against the reference point (``ra``, ``rb``: the popular names' medians, where the table is 0): a
    feature at its reference value gets no share."""

    a: str
    b: str
    ta: np.ndarray
    tb: np.ndarray
    values: np.ndarray  # [len(ta) + 1, len(tb) + 1]
    ra: float
    rb: float

    def lookup(self, xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
        return self.values[np.searchsorted(self.ta, xa, side="left"), np.searchsorted(self.tb, xb, side="left")]


@dataclass
class ShapeModel:
    """Sum of per-feature step functions: feature f contributes ``values[f][searchsorted(thresholds[f],
    x)]`` log-odds (``x <= thresholds[i]`` falls in bin i), plus step functions of feature pairs
    (:class:`PairTable`, none in a purely additive model); ``bias`` includes the calibration that puts the
    0.5 decision point at the chosen false-positive rate on held-out popular names. The training script
    centres every function on its value at the popular names' medians, so a feature's contribution is its
    Shapley value against a typical popular name."""

    thresholds: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    bias: float
    pairs: list[PairTable] = field(default_factory=list)

    def __post_init__(self) -> None:
        # every pair's cuts of one feature are a subset of that feature's cuts over all pairs: one
        # searchsorted per feature, then each pair maps the shared bin to its own with small index arrays
        self._cuts: dict[str, np.ndarray] = {}
        self._maps: list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        for pt in self.pairs:
            for f, t in ((pt.a, pt.ta), (pt.b, pt.tb)):
                self._cuts[f] = np.union1d(self._cuts.get(f, np.zeros(0)), t)
        for pt in self.pairs:
            ma, mb = self._bin_map(pt.a, pt.ta), self._bin_map(pt.b, pt.tb)
            nb = len(pt.tb) + 1
            values = np.asarray(pt.values, dtype=np.float64)
            ia, ib = np.searchsorted(pt.ta, pt.ra, side="left"), np.searchsorted(pt.tb, pt.rb, side="left")
            # f(a, rb) per shared bin of a, f(ra, b) per shared bin of b: the pieces of the Shapley values
            self._maps.append((pt.a, pt.b, ma * nb, mb, values.ravel(), values[ma, ib], values[ia, mb]))

    def _bin_map(self, f: str, t: np.ndarray) -> np.ndarray:
        """For each bin of the feature's shared cuts, the bin of ``t`` (a subset of those cuts) it lies in."""
        # shared bin i is (cuts[i-1], cuts[i]]: its right edge (or +inf) locates it among t's bins
        edges = np.concatenate([self._cuts[f], [np.inf]])
        return np.searchsorted(t, edges, side="left").astype(np.int64)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Log-odds per feature (rows of ``x``); with the bias they sum to :meth:`logit` exactly."""
        out = np.zeros_like(x)
        for i, f in enumerate(FEATURES):
            t = self.thresholds.get(f)
            if t is None or not len(t):
                if f in self.values:
                    out[:, i] = self.values[f][0]
                continue
            out[:, i] = self.values[f][np.searchsorted(t, x[:, i], side="left")]
        if self._maps:
            bins = {f: np.searchsorted(c, x[:, _FEATURE_INDEX[f]], side="left") for f, c in self._cuts.items()}
            for a, b, ma, mb, flat, f_a, f_b in self._maps:
                ba, bb = bins[a], bins[b]
                v = flat[ma[ba] + mb[bb]]
                alone_a, alone_b = f_a[ba], f_b[bb]  # f(a, rb), f(ra, b)
                out[:, _FEATURE_INDEX[a]] += 0.5 * (v + alone_a - alone_b)
                out[:, _FEATURE_INDEX[b]] += 0.5 * (v + alone_b - alone_a)
        return out

    def logit(self, x: np.ndarray) -> np.ndarray:
        return self.bias + self.contributions(x).sum(axis=1)


@dataclass
class Scored:
    """What :meth:`DgaModel.score_labels` returns for a batch: scores, features, contributions and the
    segmentation back-pointers (for naming the words found)."""

    scores: np.ndarray
    features: np.ndarray
    contributions: np.ndarray
    back: np.ndarray
    top_ngrams: np.ndarray | None = None

    def grams(self, row: int, label: str) -> list[str]:
        """The (up to 3) character n-grams of ``^label$`` that weigh most towards 'generated'."""
        if self.top_ngrams is None:
            return []
        padded = "^" + label + "$"
        return [padded[a : a + k] for a, k in self.top_ngrams[row].tolist() if a >= 0]


@dataclass
class DgaModel:
    ngrams: TrigramModel
    shapes: ShapeModel
    tld_table: dict[str, float]
    reference: dict[str, float]  # median of each feature over the popular names the model was trained on
    meta: dict
    words: WordTable
    lr: NgramModel

    def score_labels(self, labels: list[str], tlds: list[str]) -> Scored:
        if not labels:
            z = np.zeros((0, len(FEATURES)))
            return Scored(np.zeros(0), z, z, np.zeros((0, 1), dtype=np.int8))
        x, back, top = feature_matrix(labels, tlds, self.ngrams, self.words, self.tld_table, self.lr)
        contrib = self.shapes.contributions(x)
        z = np.clip(self.shapes.bias + contrib.sum(axis=1), -50, 50)
        return Scored(1.0 / (1.0 + np.exp(-z)), x, contrib, back, top)

    def score_label(self, label: str, tld: str = "com") -> tuple[float, dict[str, float], dict[str, float]]:
        """(score 0..1, features, per-feature contribution to the decision) for one label."""
        s = self.score_labels([label], [tld])
        return (
            float(s.scores[0]),
            dict(zip(FEATURES, s.features[0].tolist())),
            dict(zip(FEATURES, s.contributions[0].tolist())),
        )

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "meta": self.meta,
            "features": list(FEATURES),
            "shapes": {
                "bias": self.shapes.bias,
                "thresholds": {f: [float(v) for v in t] for f, t in self.shapes.thresholds.items()},
                "values": {f: [round(float(v), 5) for v in t] for f, t in self.shapes.values.items()},
                "pairs": [
                    {"a": p.a, "b": p.b, "ta": [float(v) for v in p.ta], "tb": [float(v) for v in p.tb],
                     "values": [[round(float(v), 5) for v in row] for row in p.values], "ra": p.ra, "rb": p.rb}
                    for p in self.shapes.pairs
                ],
            },
            "tld_log_odds": self.tld_table,
            "reference": self.reference,
            "ngrams": self.ngrams.to_json(),
            "ngram_model": self.lr.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict, words: WordTable) -> DgaModel:
        if data.get("format") not in (FORMAT, "netsift-dga-model/3"):
            raise ValueError(f"not a netsift DGA model (format {data.get('format')!r})")
        if list(data["features"]) != list(FEATURES):
            raise ValueError("the DGA model was built for other features; rebuild it")
        s = data["shapes"]
        shapes = ShapeModel(
            {f: np.asarray(t, dtype=float) for f, t in s["thresholds"].items()},
            {f: np.asarray(v, dtype=float) for f, v in s["values"].items()},
            float(s["bias"]),
            [
                PairTable(p["a"], p["b"], np.asarray(p["ta"], dtype=float), np.asarray(p["tb"], dtype=float),
                          np.asarray(p["values"], dtype=float).reshape(len(p["ta"]) + 1, len(p["tb"]) + 1),
                          float(p["ra"]), float(p["rb"]))
                for p in s.get("pairs", ())
            ],
        )
        return cls(
            TrigramModel.from_json(data["ngrams"]),
            shapes,
            data["tld_log_odds"],
            data["reference"],
            data.get("meta", {}),
            words,
            NgramModel.from_json(data["ngram_model"]),
        )


@functools.cache
def load_words(path: str | None = None) -> WordTable:
    """The shipped English word list (``netsift/data/dga_words.txt``), or one at ``path``."""
    if path is None:
        text = resources.files("netsift").joinpath("data/dga_words.txt").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    # one word a line; the '#' header lines are not words (split() would have made words of them, shifting
    # every rank away from the ranks the model was trained with)
    lines = (ln.strip() for ln in text.splitlines())
    return WordTable([ln for ln in lines if ln and not ln.startswith("#")])


@functools.cache
def load_model(path: str | None = None) -> DgaModel:
    """The shipped model (``netsift/data/dga_model.json``), or one at ``path``."""
    if path is None:
        text = resources.files("netsift").joinpath("data/dga_model.json").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    model = DgaModel.from_json(json.loads(text), load_words())
    _ = model.ngrams.table  # build the dense table once
    return model
