"""Build the DGA detector's per-name model (``src/netsift/data/dga_model.json``, ``dga_words.txt``).

    pip install scikit-learn wordfreq          # training only; netsift itself needs neither
    python scripts/train_dga_model.py --shared ../shared/data            # train, evaluate, write
    python scripts/train_dga_model.py --shared ../shared/data --no-lfo   # skip the leave-family-out table
    pip install torch                          # only for --char-cnn
    python scripts/train_dga_model.py --shared ../shared/data --cache prep.pkl --char-cnn   # measure only

Inputs (read by path, never copied into the repository):

- benign: Tranco top 10k (``top_sites/tranco_top10k_2025-06_LimoWagdy.csv``) and Cisco Umbrella top 10k
  (``top_sites/cisco_umbrella_top10k_2021-03.csv``): ranks ``--train-ranks`` (default 1-5000) train, ranks
  5001-10000 are **held out** (never trained on) and measure false positives; plus the UT1 category lists
  of legitimate services (``categorisation/ut1/{bank,webmail,vpn,...}.domains``), minus held-out names.
- generated: the maltrail DGA family lists (``dga/maltrail_dga_family_domains.csv``, family,domain), plus
  synthetic names of the shapes published DGA descriptions give (word pairs, word chunks, consonant-vowel
  syllables, short random letters, base64-like, alphanumeric, two-letter pools; see ``SHAPES``), made here
  from a fixed seed.
- words: the English word list of the ``wordfreq`` package (``top_n_list('en', N)``, 3-15 letters a-z),
  written to ``dga_words.txt`` in frequency order (CC BY-SA 4.0 data, see ``dga_words.LICENSE``).

Model: per-label features (:data:`netsift.detect.dga_model.FEATURES`; benign labels' trigram features are
*out of fold*, 5 folds, so a popular name is scored by a trigram model that never saw it; the
``ngram_logit`` feature is the log-odds of a logistic regression over hashed character 1-6-gram counts
(``--ngram-orders``; 2**20 buckets, ``--ngram-bits``), also out of fold for every training row, and for
the leave-family-out table from a regression trained without the family) fed to
scikit-learn's HistGradientBoostingClassifier with ``interaction_cst="no_interactions"``: every tree uses one
feature, so the ensemble collapses exactly into one step function per feature, exported as thresholds and
values and scored with numpy. The bias is then moved so that ``--benign-fp`` of the out-of-fold benign
training labels score at or above 0.5.

Prints the per-family table: in-sample recall (5-fold cross-validation over the generated names) and
leave-family-out recall (each maltrail family scored by a model trained without it), and the false
positives on the held-out ranks. Deterministic for a given ``--seed``.

``--char-cnn`` measures one more kind of evidence without shipping it: a character-level CNN (embedding,
convolutions of widths 2-5, max-pooling, trained with torch on one thread) whose log-odds is stacked like
the n-gram regression's (out of fold, and without the family for the leave-family-out table). The run time
has no such feature, so the option prints the tables of the stack with it and writes nothing; the numpy
forward pass the run time would use is :func:`cnn_logits`. Measured in docs/detectors.md (not shipped).
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import math
import pickle
import random
import re
import string
import sys
import time
from pathlib import Path

import numpy as np

from netsift.detect.dga_model import (
    FEATURES,
    FORMAT,
    NGRAM_BITS,
    NGRAM_ORDERS,
    N_SYMBOLS,
    PAD,
    START_CODE,
    END_CODE,
    DgaModel,
    NgramModel,
    PairTable,
    ShapeModel,
    TrigramModel,
    WordTable,
    encode,
    feature_matrix,
    ngram_index,
)
from netsift.names import split_name

UT1_BENIGN = ("bank", "webmail", "vpn", "social_networks", "filehosting", "remote-control", "update", "doh",
              "dynamic-dns")
TLD_COL = FEATURES.index("tld_log_odds")
NG_COL = FEATURES.index("ngram_logit")


# --- reading -----------------------------------------------------------------------------------------


def label_of(domain: str) -> tuple[str, str] | None:
    """(registrable label, suffix) of a name, None for infrastructure/suffix-only names."""
    domain = domain.strip().lower().rstrip(".")
    if not domain or " " in domain:
        return None
    reg, suffix, _sub, infra = split_name(domain)
    if infra or reg == suffix or not reg.endswith("." + suffix):
        return None
    label = reg[: -len(suffix) - 1]
    if not label or label.startswith("xn--"):
        return None
    return label, suffix


def ranked(path: Path) -> list[tuple[int, str]]:
    """(rank, domain) of a top list: ``Domain`` header + one per line, or ``rank,domain`` rows."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if r]
    if rows and not rows[0][0].strip().isdigit():
        rows = rows[1:]
    return [(int(r[0]), r[1]) if len(r) > 1 else (i, r[0]) for i, r in enumerate(rows, start=1)]


def hosted_entries(path: Path) -> list[bool]:
    """For each maltrail row kept by :func:`label_of` (in file order): does the entry name a host *under*
    a registered domain (``x.tor2web.org``, ``lahmar.choukri.perso.neuf.fr``) rather than a registered
    domain? A DGA's output is a name to register; such an entry's registrable label is a gateway's, a
    dynamic-DNS provider's or a compromised site's, not the algorithm's. The second, labelled figure
    leaves these out; the headline counts them."""
    with open(path, newline="") as fh:
        out = []
        for r in csv.DictReader(fh):
            if label_of(r["domain"]):
                out.append(bool(split_name(r["domain"].strip().lower().rstrip("."))[2]))
        return out


def top_labels(path: Path, first: int, last: int) -> list[tuple[str, str]]:
    out, seen = [], set()
    for rank, domain in ranked(path):
        if first <= rank <= last and (ls := label_of(domain)) and ls[0] + "." + ls[1] not in seen:
            seen.add(ls[0] + "." + ls[1])
            out.append(ls)
    return out


# --- synthetic generated names ---------------------------------------------------------------------------

CONS, VOW = "bcdfghjklmnpqrstvwxz", "aeiou"


def _wordpair(rng, words, sep=""):
    return rng.choice(words) + sep + rng.choice(words)


def _chunks(rng, words):
    target = rng.randint(12, 23)
    out = ""
    while len(out) < target:
        w = rng.choice(words)
        if rng.random() < 0.33:
            w = w[: max(len(w) // 2, 2)]
        if len(out) + len(w) <= 24:
            out += w
    return out


def _syllables(rng, n, extra_vowel=0.25, tail_cons=0.3):
    out = ""
    while len(out) < n:
        out += rng.choice(CONS) + rng.choice(VOW)
        if rng.random() < extra_vowel:
            out += rng.choice(VOW)
        elif rng.random() < tail_cons:
            out += rng.choice(CONS)
    return out[:n]


def _random(rng, n, alphabet):
    return "".join(rng.choice(alphabet) for _ in range(n))


def _pool_pairs(rng, n):
    pool = [rng.choice(CONS + VOW + "y") + rng.choice(VOW + "y" + CONS) for _ in range(128)]
    return "".join(rng.choice(pool) for _ in range(n))


# shape -> (maker(rng, words), suffixes): shapes published DGA descriptions give, made from our own code
SHAPES = {
    "word pair": (lambda r, w: _wordpair(r, w), ["net", "com", "ru", "info", "org", "biz"]),
    "hyphenated word pair": (lambda r, w: _wordpair(r, w, "-"), ["com", "ru", "net", "in", "pw", "xyz"]),
    "word chunks": (lambda r, w: _chunks(r, w), ["com", "ru", "net"]),
    "consonant-vowel syllables": (
        lambda r, w: _syllables(r, r.randint(7, 12), 0.15, 0.1),
        ["com", "org", "biz", "net", "info", "mobi", "us", "name", "me", "kz"],
    ),
    "syllables with codas": (
        lambda r, w: _syllables(r, r.randint(9, 14), 0.1, 0.45),
        ["kz", "com", "ddns.net", "net", "info"],
    ),
    "short random letters": (
        lambda r, w: _random(r, r.randint(7, 11), string.ascii_lowercase),
        ["top", "com", "net", "ru", "info", "biz", "org"],
    ),
    "base64-like": (
        lambda r, w: _random(r, r.randint(10, 16), string.ascii_lowercase + string.digits + "-"),
        ["com", "net"],
    ),
    "alphanumeric": (
        lambda r, w: _random(r, r.randint(12, 24), string.ascii_lowercase + string.digits),
        ["ddns.net", "com", "net", "org", "info"],
    ),
    "two-letter pool": (lambda r, w: _pool_pairs(r, r.randint(4, 6)), ["bazar", "com", "net"]),
    "hex": (lambda r, w: _random(r, r.randint(8, 32), "0123456789abcdef"), ["com", "net", "org", "info", "ru"]),
}


def synthetic(n_per_shape: int, words: list[str], rng: random.Random) -> list[tuple[str, str, str]]:
    """(shape, label, suffix) of generated names; word shapes draw from common words (ranks 200-8000)."""
    common = [w for w in words[200:8000] if 4 <= len(w) <= 10]
    out = []
    for shape, (make, suffixes) in SHAPES.items():
        for _ in range(n_per_shape):
            out.append((shape, make(rng, common), rng.choice(suffixes)))
    return out


# --- model fitting -----------------------------------------------------------------------------------------


def tld_table(suffixes: list[str], y: np.ndarray, prior: float = 20.0, low: float = -1.0, high: float = 4.0) -> dict[str, float]:
    """Smoothed log-odds of 'generated' per suffix, relative to the overall rate (0 = no evidence)."""
    gen = collections.Counter(s for s, t in zip(suffixes, y) if t)
    ben = collections.Counter(s for s, t in zip(suffixes, y) if not t)
    rate = (sum(gen.values()) + 1) / (sum(ben.values()) + 1)
    out = {"": 0.0}
    for s in set(gen) | set(ben):
        lo = math.log((gen[s] + prior * rate / (1 + rate)) / (ben[s] + prior / (1 + rate)) / rate)
        out[s] = round(max(low, min(high, lo)), 3)
    return out


def with_tld(x: np.ndarray, suffixes: list[str], table: dict[str, float]) -> np.ndarray:
    x = x.copy()
    x[:, TLD_COL] = [table.get(s, 0.0) for s in suffixes]
    return x


NGRAM = {"bits": NGRAM_BITS, "orders": NGRAM_ORDERS}  # set from --ngram-bits / --ngram-orders


def ngram_matrix(labels: list[str]):
    """Sparse counts of the hashed character n-grams of each label (the same hashing as at run time)."""
    from scipy.sparse import csr_matrix

    bits, orders = NGRAM["bits"], NGRAM["orders"]
    codes, lengths = encode(labels)
    idx = ngram_index(codes, lengths, bits, orders)[0]
    rows = np.repeat(np.arange(len(labels)), idx.shape[1])
    keep = idx.ravel() < (1 << bits)
    m = csr_matrix((np.ones(int(keep.sum())), (rows[keep], idx.ravel()[keep])), shape=(len(labels), 1 << bits))
    m.sum_duplicates()
    return m


def fit_ngrams(m, y: np.ndarray, c: float) -> NgramModel:
    """Logistic regression (L2, balanced classes) over hashed n-gram counts."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", max_iter=200)
    lr.fit(m, y)
    w = np.concatenate([lr.coef_[0].astype(np.float16).astype(np.float32), np.zeros(1, np.float32)])
    return NgramModel(w, float(lr.intercept_[0]), NGRAM["bits"], NGRAM["orders"])


def ngram_logits(model: NgramModel, m) -> np.ndarray:
    return model.intercept + m @ model.weights[: 1 << model.bits].astype(np.float64)


BOOST = {"interactions": "pairs", "max_iter": 400, "leaves": 8, "learning_rate": 0.1, "min_leaf": 40,
         "l2": 1.0}  # set from the options


def fit(x: np.ndarray, y: np.ndarray, seed: int) -> ShapeModel:
    """Boosted trees whose every root-to-leaf path uses one feature (``--interactions none``: an additive
    model) or at most two (``pairs``): either way the ensemble collapses exactly into step functions of
    one feature and of feature pairs (:func:`export`)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    n_f = x.shape[1]
    cst = ("no_interactions" if BOOST["interactions"] == "none"
           else [[i, j] for i in range(n_f) for j in range(i + 1, n_f)])
    w = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    clf = HistGradientBoostingClassifier(
        max_iter=BOOST["max_iter"],
        learning_rate=BOOST["learning_rate"],
        max_leaf_nodes=BOOST["leaves"],
        min_samples_leaf=BOOST["min_leaf"],
        l2_regularization=BOOST["l2"],
        interaction_cst=cst,
        early_stopping=False,
        random_state=seed,
    )
    clf.fit(x, y, sample_weight=w)
    if x.shape[1] != len(FEATURES):  # an evaluated-only extra feature (--char-cnn): the run time lacks it
        return Direct(clf)
    return export(clf, np.median(x[y == 0], axis=0))


class Direct:
    """A boosted model scored through scikit-learn (for evaluation only: never written as the model)."""

    def __init__(self, clf) -> None:
        self.clf, self.bias = clf, 0.0

    def logit(self, x: np.ndarray) -> np.ndarray:
        return self.clf.decision_function(x) + self.bias


def _bins(cuts: np.ndarray, lo: float, hi: float) -> slice:
    """The bins of ``cuts`` (bin i is (cuts[i-1], cuts[i]]) that make up the interval (lo, hi]."""
    start = 0 if lo == -np.inf else int(np.searchsorted(cuts, lo, side="left")) + 1
    end = len(cuts) if hi == np.inf else int(np.searchsorted(cuts, hi, side="left"))
    return slice(start, end + 1)


def export(clf, ref: np.ndarray) -> ShapeModel:
    """Collapse a boosted ensemble whose paths use at most two features each into one step function per
    feature and one per feature pair: every leaf is a box over the features its path split on, and its
    value is added to the cells of that box. Every function is centred on its value at the reference point
    ``ref`` (the benign medians): a feature's contribution is then its Shapley value against a typical
    popular name (the run time splits a pair's value the same way), and the bias carries the rest."""
    bias = float(np.ravel(clf._baseline_prediction)[0])
    one: dict[int, list[tuple[float, float, float]]] = collections.defaultdict(list)
    two: dict[tuple[int, int], list[tuple[float, float, float, float, float]]] = collections.defaultdict(list)
    for pred in clf._predictors:
        nodes = pred[0].nodes
        stack: list[tuple[int, dict[int, tuple[float, float]]]] = [(0, {})]
        while stack:
            i, box = stack.pop()
            nd = nodes[i]
            if nd["is_leaf"]:
                v = float(nd["value"])
                if not box:
                    bias += v
                elif len(box) == 1:
                    (f, (lo, hi)), = box.items()
                    one[f].append((lo, hi, v))
                elif len(box) == 2:
                    (fa, (la, ha)), (fb, (lb, hb)) = sorted(box.items())
                    two[(fa, fb)].append((la, ha, lb, hb, v))
                else:
                    raise ValueError(f"a tree path uses {len(box)} features; cannot collapse it")
                continue
            f, t = int(nd["feature_idx"]), float(nd["num_threshold"])
            lo, hi = box.get(f, (-np.inf, np.inf))
            stack.append((int(nd["left"]), {**box, f: (lo, min(hi, t))}))
            stack.append((int(nd["right"]), {**box, f: (max(lo, t), hi)}))
    thresholds, values = {}, {}
    for fi, f in enumerate(FEATURES):
        cuts = np.array(sorted({v for lo, hi, _ in one.get(fi, ()) for v in (lo, hi) if np.isfinite(v)}))
        total = np.zeros(len(cuts) + 1)
        for lo, hi, v in one.get(fi, ()):
            total[_bins(cuts, lo, hi)] += v
        centre = float(total[np.searchsorted(cuts, ref[fi], side="left")])
        thresholds[f], values[f] = cuts, total - centre
        bias += centre
    pairs = []
    for (fa, fb), leaves in sorted(two.items()):
        ta = np.array(sorted({v for la, ha, *_ in leaves for v in (la, ha) if np.isfinite(v)}))
        tb = np.array(sorted({v for _, _, lb, hb, _ in leaves for v in (lb, hb) if np.isfinite(v)}))
        table = np.zeros((len(ta) + 1, len(tb) + 1))
        for la, ha, lb, hb, v in leaves:
            table[_bins(ta, la, ha), _bins(tb, lb, hb)] += v
        pt = PairTable(FEATURES[fa], FEATURES[fb], ta, tb, table, float(ref[fa]), float(ref[fb]))
        centre = float(pt.lookup(ref[fa : fa + 1], ref[fb : fb + 1])[0])
        pt.values = table - centre
        bias += centre
        pairs.append(pt)
    return ShapeModel(thresholds, values, bias, pairs)


# --- character CNN (--char-cnn): measured, not shipped ---------------------------------------------------------

CNN = {"epochs": 12, "filters": 32, "hidden": 64, "emb": 16}  # set from --cnn-* options
CNN_WIDTHS = (2, 3, 4, 5)
_CNN_TAIL = max(CNN_WIDTHS) - 1


def cnn_codes(labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(codes [n, longest + 2 + 4] of ``^label$`` followed by padding, n = len + 2 per label) with the run
    time's symbol codes (:func:`encode`)."""
    codes, lengths = encode(labels)
    n = lengths.astype(np.int64) + 2
    out = np.zeros((len(labels), int(n.max()) + _CNN_TAIL), dtype=np.int64)
    out[:, 0] = START_CODE
    out[:, 1 : codes.shape[1] + 1] = codes
    out[np.arange(len(labels)), lengths + 1] = END_CODE
    return out, n


def train_cnn(labels: list[str], y: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """A character CNN in the manner of the DGA literature (Woodbridge et al. 2016 use an LSTM; Yu et al.
    2018 and Saxe & Berlin 2017 convolutions): embedding (16), 1-D convolutions of widths 2-5 (``filters``
    each, ReLU) max-pooled over the positions of ``^label$``, a dense layer (``hidden``, ReLU, dropout 0.3)
    and the log-odds; balanced classes, Adam with a one-cycle schedule, one thread. Needs ``torch``
    (training only). Returns plain float32 weights for :func:`cnn_logits`."""
    import torch
    import torch.nn as nn

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    codes, n = cnn_codes(labels)
    yf = np.asarray(y, dtype=np.float32)
    emb, filters, hidden = CNN["emb"], CNN["filters"], CNN["hidden"]

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(N_SYMBOLS, emb)
            self.convs = nn.ModuleList(nn.Conv1d(emb, filters, w) for w in CNN_WIDTHS)
            self.fc1 = nn.Linear(filters * len(CNN_WIDTHS), hidden)
            self.fc2 = nn.Linear(hidden, 1)
            self.drop = nn.Dropout(0.3)

        def forward(self, c, n):
            e = self.emb(c).transpose(1, 2)
            width = c.shape[1] - _CNN_TAIL
            mask = (torch.arange(width)[None, :] < n[:, None]).float()[:, None, :]
            pooled = [(torch.relu(conv(e)[:, :, :width]) * mask).amax(dim=2) for conv in self.convs]
            return self.fc2(self.drop(torch.relu(self.fc1(self.drop(torch.cat(pooled, 1))))))[:, 0]

    net = Net()
    batch = 256
    opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-5)
    batches_per_epoch = sum(-(-len(ch) // batch) for ch in np.array_split(np.arange(len(yf)), -(-len(yf) // (batch * 8))))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=CNN["epochs"] * batches_per_epoch)
    pos_w = torch.tensor((1 - yf.mean()) / yf.mean())
    rng = np.random.default_rng(seed)
    by_len = np.argsort(n, kind="stable")  # batches of similar lengths: little padding
    for _ in range(CNN["epochs"]):
        net.train()
        batches = []
        for ch in np.array_split(by_len, -(-len(yf) // (batch * 8))):
            ch = rng.permutation(ch)
            batches += [ch[i : i + batch] for i in range(0, len(ch), batch)]
        for i in rng.permutation(len(batches)):
            b = batches[i]
            yb = torch.from_numpy(yf[b])
            z = net(torch.from_numpy(codes[b][:, : n[b].max() + _CNN_TAIL]), torch.from_numpy(n[b]))
            w = torch.where(yb > 0, pos_w, torch.tensor(1.0))
            loss = (nn.functional.binary_cross_entropy_with_logits(z, yb, reduction="none") * w).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    net.eval()
    return {
        "emb": net.emb.weight.detach().numpy().copy(),
        "conv_w": [c.weight.detach().numpy().copy() for c in net.convs],  # [filters, emb, width]
        "conv_b": np.concatenate([c.bias.detach().numpy() for c in net.convs]),
        "w1": net.fc1.weight.detach().numpy().T.copy(),
        "b1": net.fc1.bias.detach().numpy().copy(),
        "w2": net.fc2.weight.detach().numpy()[0].copy(),
        "b2": net.fc2.bias.detach().numpy().copy(),
    }


def cnn_logits(w: dict, labels: list[str]) -> np.ndarray:
    """The CNN's log-odds with numpy only, over the batch: the embedding folds into the convolutions, so
    each window offset k is a lookup table [symbol, channel]; offsets 0+1 and 2+3 are summed into pair
    tables (3 lookups a position instead of 5); labels are taken one length at a time (a window starting on
    padding would get -1e30, never the max)."""
    f = w["conv_w"][0].shape[0]
    t = np.zeros((max(CNN_WIDTHS), N_SYMBOLS, f * len(CNN_WIDTHS)))
    for j, (width, cw) in enumerate(zip(CNN_WIDTHS, w["conv_w"])):
        for k in range(width):
            t[k, :, j * f : (j + 1) * f] = w["emb"].astype(np.float64) @ cw[:, :, k].T.astype(np.float64)
    t[0, PAD] = -1e30
    t = t.astype(np.float32)
    p01 = (t[0][:, None] + t[1][None, :]).reshape(N_SYMBOLS * N_SYMBOLS, -1)
    p23 = (t[2][:, None] + t[3][None, :]).reshape(N_SYMBOLS * N_SYMBOLS, -1)
    codes, n = cnn_codes(labels)
    out = np.zeros(len(labels))
    for p in np.unique(n).tolist():  # one length at a time: no window is wasted on padding
        rows = np.flatnonzero(n == p)
        c = codes[rows, : p + _CNN_TAIL]
        acc = p01[c[:, :p] * N_SYMBOLS + c[:, 1 : p + 1]]
        acc += p23[c[:, 2 : p + 2] * N_SYMBOLS + c[:, 3 : p + 3]]
        acc += t[4][c[:, 4 : p + 4]]
        pooled = np.maximum(acc.max(axis=1) + w["conv_b"], 0)
        out[rows] = np.maximum(pooled @ w["w1"] + w["b1"], 0) @ w["w2"] + w["b2"][0]
    return out


def cnn_columns(d: dict, seed: int, t0: float) -> dict:
    """The CNN's log-odds as a stacked feature, like the n-gram regression's: out of fold (the same 5
    folds) for every training row, from a model on all rows for the held-out names, and for each maltrail
    family from a model trained without it."""
    benign, gen, y, folds = d["benign"], d["gen"], d["y"], d["folds"]
    labels = [lb for lb, _ in benign] + [g[1] for g in gen]
    fams = np.array([""] * len(benign) + list(d["families"]))
    oof = np.zeros(len(y))
    for k in range(5):
        m = train_cnn([lb for lb, f in zip(labels, folds) if f != k], y[folds != k], seed)
        oof[folds == k] = cnn_logits(m, [lb for lb, f in zip(labels, folds) if f == k])
    final = train_cnn(labels, y, seed)
    held = cnn_logits(final, [lb for lb, _ in d["held"]])
    print(f"character CNN (5 folds + final) in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    lfo = {}
    if d["lfo_ngram"] is not None:
        for fam in sorted({f for f, *_ in d["mal"]}):
            keep = fams != fam
            m = train_cnn([lb for lb, k in zip(labels, keep) if k], y[keep], seed)
            lfo[fam] = cnn_logits(m, [lb for lb, k in zip(labels, keep) if not k])
        print(f"leave-family-out CNNs in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return {"config": dict(CNN), "seed": seed, "oof": oof, "held": held, "lfo": lfo, "final": final}


# --- main ----------------------------------------------------------------------------------------------------


def prepare(args, first: int, last: int, t0: float) -> dict:
    """Everything the boosted model learns from: the word list, the labelled labels, their features with
    the out-of-fold n-gram log-odds, the held-out labels' features, the final trigram and n-gram models,
    and (unless ``--no-lfo``) each maltrail family's n-gram log-odds from a regression without it."""
    rng = random.Random(args.seed)
    np.random.seed(args.seed)
    top = args.shared / "top_sites"
    tranco, umbrella = top / "tranco_top10k_2025-06_LimoWagdy.csv", top / "cisco_umbrella_top10k_2021-03.csv"

    # words
    from wordfreq import top_n_list

    words = [w for w in top_n_list("en", args.words) if re.fullmatch(r"[a-z]{3,15}", w)]
    table = WordTable(words)

    # benign
    held = top_labels(tranco, last + 1, 10**9) + top_labels(umbrella, last + 1, 10**9)
    held_names = {lb + "." + s for lb, s in held}
    benign = top_labels(tranco, first, last) + top_labels(umbrella, first, last)
    seen = {lb + "." + s for lb, s in benign}
    held = [(lb, s) for lb, s in held if lb + "." + s not in seen]
    held_names = {lb + "." + s for lb, s in held}
    for cat in UT1_BENIGN:
        path = args.shared / "categorisation" / "ut1" / f"{cat}.domains"
        for line in path.read_text(encoding="utf-8", errors="replace").split():
            ls = label_of(line)
            if ls and (n := ls[0] + "." + ls[1]) not in seen and n not in held_names:
                seen.add(n)
                benign.append(ls)
    # generated
    with open(args.shared / "dga" / "maltrail_dga_family_domains.csv", newline="") as fh:
        mal = [(r["family"], *ls) for r in csv.DictReader(fh) if (ls := label_of(r["domain"]))]
    synth = synthetic(args.synthetic, words, rng)
    gen = mal + synth
    families = [g[0] for g in gen]
    print(f"benign train {len(benign)}, held out {len(held)}, maltrail {len(mal)}, synthetic {len(synth)}",
          file=sys.stderr)

    # features: benign trigram features out of fold; generated and held-out under the full benign model
    b_labels = [lb for lb, _ in benign]
    order = list(range(len(benign)))
    rng.shuffle(order)
    xb = np.zeros((len(benign), len(FEATURES)))
    for k in range(5):
        fold = [i for j, i in enumerate(order) if j % 5 == k]
        fold_set = set(fold)
        ng = TrigramModel.train([b_labels[i] for i in range(len(benign)) if i not in fold_set])
        xb[fold] = feature_matrix([b_labels[i] for i in fold], ["com"] * len(fold), ng, table, {})[0]
    ngrams = TrigramModel.train(b_labels)
    xg = feature_matrix([g[1] for g in gen], ["com"] * len(gen), ngrams, table, {})[0]
    xh = feature_matrix([lb for lb, _ in held], ["com"] * len(held), ngrams, table, {})[0]
    x = np.vstack([xb, xg])
    y = np.concatenate([np.zeros(len(benign)), np.ones(len(gen))])
    suffixes = [s for _, s in benign] + [g[2] for g in gen]
    print(f"features in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    # hashed n-gram logistic regression: its log-odds is a feature, out of fold for every training row
    folds = np.array([i % 5 for i in range(len(y))])
    np.random.default_rng(args.seed).shuffle(folds)
    m_all = ngram_matrix(b_labels + [g[1] for g in gen])
    m_held = ngram_matrix([lb for lb, _ in held])
    for k in range(5):
        lr_k = fit_ngrams(m_all[folds != k], y[folds != k], args.ngram_c)
        x[folds == k, NG_COL] = ngram_logits(lr_k, m_all[folds == k])
    lr_final = fit_ngrams(m_all, y, args.ngram_c)
    xh[:, NG_COL] = ngram_logits(lr_final, m_held)
    print(f"n-gram model (5 folds + final) in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    # leave-family-out: each maltrail family's n-gram log-odds from a regression that never saw the family
    lfo_ngram = None
    if not args.no_lfo:
        lfo_ngram = {}
        for fam in sorted({f for f, *_ in mal}):
            mask = np.array([True] * len(benign) + [f != fam for f in families])
            lfo_ngram[fam] = ngram_logits(fit_ngrams(m_all[mask], y[mask], args.ngram_c), m_all[~mask])
        print(f"leave-family-out n-gram models in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return {"words": words, "benign": benign, "held": held, "mal": mal, "gen": gen, "x": x, "y": y, "xh": xh,
            "suffixes": suffixes, "families": families, "folds": folds, "ngrams": ngrams, "lr_final": lr_final,
            "lfo_ngram": lfo_ngram}



def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"), help="the shared data folder")
    ap.add_argument("--train-ranks", default="1-5000", help="top-list ranks used for training")
    ap.add_argument("--out", type=Path, default=Path("src/netsift/data/dga_model.json"))
    ap.add_argument("--words-out", type=Path, default=Path("src/netsift/data/dga_words.txt"))
    ap.add_argument("--words", type=int, default=40000, help="wordfreq top-N English words to consider")
    ap.add_argument("--synthetic", type=int, default=700, help="synthetic names per shape")
    ap.add_argument("--benign-fp", type=float, default=0.0045, help="share of benign labels allowed >= 0.5")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ngram-c", type=float, default=1.0, help="inverse L2 strength of the n-gram regression")
    ap.add_argument("--ngram-bits", type=int, default=NGRAM_BITS, help="hash buckets of the n-gram model: 2**bits")
    ap.add_argument("--ngram-orders", default=",".join(map(str, NGRAM_ORDERS)), help="n-gram lengths")
    ap.add_argument("--no-lfo", action="store_true", help="skip the leave-family-out table")
    ap.add_argument("--interactions", choices=("none", "pairs"), default=BOOST["interactions"],
                    help="boosted trees on one feature each (additive) or on feature pairs")
    ap.add_argument("--max-iter", type=int, default=BOOST["max_iter"], help="boosting rounds")
    ap.add_argument("--leaves", type=int, default=BOOST["leaves"], help="leaves per tree")
    ap.add_argument("--learning-rate", type=float, default=BOOST["learning_rate"])
    ap.add_argument("--min-leaf", type=int, default=BOOST["min_leaf"], help="fewest training rows in a leaf")
    ap.add_argument("--l2", type=float, default=BOOST["l2"], help="L2 regularisation of the leaf values")
    ap.add_argument("--char-cnn", action="store_true",
                    help="measure a character CNN's log-odds as an extra stacked feature (needs torch; the run "
                         "time has no such feature, so this evaluates only and writes no model)")
    ap.add_argument("--cnn-epochs", type=int, default=CNN["epochs"])
    ap.add_argument("--cnn-filters", type=int, default=CNN["filters"], help="filters per width (2, 3, 4, 5)")
    ap.add_argument("--cnn-hidden", type=int, default=CNN["hidden"], help="units of the dense layer")
    ap.add_argument("--cache", type=Path, default=None,
                    help="pickle of the prepared features and n-gram log-odds (written if absent, read if "
                         "present: then only the boosted model is refitted; delete it when data or options "
                         "other than the boosting ones change)")
    args = ap.parse_args(argv)
    BOOST.update(interactions=args.interactions, max_iter=args.max_iter, leaves=args.leaves,
                 learning_rate=args.learning_rate, min_leaf=args.min_leaf, l2=args.l2)
    NGRAM.update(bits=args.ngram_bits, orders=tuple(int(k) for k in args.ngram_orders.split(",")))
    CNN.update(epochs=args.cnn_epochs, filters=args.cnn_filters, hidden=args.cnn_hidden)
    t0 = time.perf_counter()
    first, last = (int(v) for v in args.train_ranks.split("-"))
    if args.cache is not None and args.cache.exists():
        with open(args.cache, "rb") as fh:
            d = pickle.load(fh)
        print(f"prepared data read from {args.cache}", file=sys.stderr)
    else:
        d = prepare(args, first, last, t0)
        if args.cache is not None:
            with open(args.cache, "wb") as fh:
                pickle.dump(d, fh)
    if not args.no_lfo and d["lfo_ngram"] is None:
        raise SystemExit("the cache was prepared with --no-lfo; delete it or pass --no-lfo")
    cnn = None
    if args.char_cnn:  # kept in the cache per configuration and seed: the CNNs take minutes
        key = f"char_cnn {sorted(CNN.items())} seed {args.seed}"
        cnn = d.get(key) or cnn_columns(d, args.seed, t0)
        if key not in d and args.cache is not None:
            d[key] = cnn
            with open(args.cache, "wb") as fh:
                pickle.dump(d, fh)
        if not args.no_lfo and not cnn["lfo"]:
            raise SystemExit("the cached CNN columns lack the leave-family-out models; delete the cache")
    words, table = d["words"], WordTable(d["words"])
    if cnn is None:
        args.words_out.write_text(
            "# English words, most frequent first: wordfreq top_n_list('en', %d), 3-15 letters a-z.\n"
            "# Derived from the wordfreq package's data (CC BY-SA 4.0); see dga_words.LICENSE.\n" % args.words
            + "\n".join(words)
            + "\n",
            encoding="utf-8",
        )
    benign, held, mal, gen = d["benign"], d["held"], d["mal"], d["gen"]
    x, y, xh, suffixes, families = d["x"], d["y"], d["xh"], d["suffixes"], d["families"]
    folds, ngrams, lr_final = d["folds"], d["ngrams"], d["lr_final"]
    xb = x[: len(benign)]
    if cnn is not None:
        x, xh = np.column_stack([x, cnn["oof"]]), np.column_stack([xh, cnn["held"]])

    def train(mask: np.ndarray) -> tuple[ShapeModel, dict[str, float]]:
        tt = tld_table([s for s, m in zip(suffixes, mask) if m], y[mask])
        return fit(with_tld(x[mask], [s for s, m in zip(suffixes, mask) if m], tt), y[mask], args.seed), tt

    def logits(model: ShapeModel, tt: dict, rows: np.ndarray, sfx: list[str]) -> np.ndarray:
        return model.logit(with_tld(rows, sfx, tt))

    # in-sample: 5-fold CV over everything (benign and generated)
    oof = np.zeros(len(y))
    for k in range(5):
        m, tt = train(folds != k)
        sel = folds == k
        oof[sel] = logits(m, tt, x[sel], [s for s, f in zip(suffixes, sel) if f])
    shift = float(np.quantile(oof[: len(benign)], 1 - args.benign_fp))  # logit at the FP target
    print(f"cross-validation done, {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    final, tt = train(np.ones(len(y), dtype=bool))
    final.bias -= shift
    # leave-family-out (maltrail families only: the synthetic shapes are always in training)
    lfo: dict[str, float] = {}
    lfo_rows = np.zeros(len(gen), dtype=bool)  # per generated row: flagged by the model without its family
    if not args.no_lfo:
        for fam in sorted({f for f, *_ in mal}):
            mask = np.array([True] * len(benign) + [f != fam for f in families])
            m, t2 = train(mask)
            sel = np.array([False] * len(benign) + [f == fam for f in families])
            # the family's n-gram feature comes from a regression that never saw the family
            xs = x[sel].copy()
            xs[:, NG_COL] = d["lfo_ngram"][fam]
            if cnn is not None:  # and its CNN feature from a CNN that never saw it either
                xs[:, -1] = cnn["lfo"][fam]
            z = logits(m, t2, xs, [s for s, f in zip(suffixes, sel) if f]) - shift
            lfo[fam] = float(np.mean(z >= 0))
            lfo_rows[np.flatnonzero(sel[len(benign):])] = z >= 0
        print(f"leave-family-out done, {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    reference = {f: round(float(v), 4) for f, v in zip(FEATURES, np.median(xb, axis=0))}
    meta = {
        "trained_on": (f"Tranco and Umbrella top 10k ranks {first}-{last} + UT1 {','.join(UT1_BENIGN)} "
                       f"(benign); maltrail DGA families + synthetic shapes (generated)"),
        "benign_labels": len(benign),
        "generated_labels": len(gen),
        "benign_fp_target": args.benign_fp,
        "words": f"wordfreq top_n_list('en', {args.words}), {len(words)} words of 3-15 letters",
        "seed": args.seed,
        "boosted_model": (f"HistGradientBoostingClassifier, {BOOST['max_iter']} rounds, {BOOST['leaves']} leaves, "
                          f"learning rate {BOOST['learning_rate']}, {BOOST['min_leaf']}+ rows a leaf, "
                          f"L2 {BOOST['l2']}, paths on "
                          f"{'one feature' if BOOST['interactions'] == 'none' else 'at most two features'}"),
        "ngram_model": (f"logistic regression, C={args.ngram_c}, 2**{NGRAM['bits']} hashed character n-grams of "
                        f"orders {','.join(map(str, NGRAM['orders']))}"),
    }
    # tables
    zg = oof[len(benign):] - shift
    per_fam = collections.defaultdict(list)
    for f, z in zip(families, zg):
        per_fam[f].append(z >= 0)
    print("| family | names | in-sample (5-fold CV) | leave-family-out |")
    print("|---|---|---|---|")
    for f in sorted(per_fam, key=lambda f: (f not in lfo, f)):
        v = per_fam[f]
        lf = f"{lfo[f]:.0%}" if f in lfo else ("synthetic" if f in SHAPES else "-")
        print(f"| {f} | {len(v)} | {np.mean(v):.0%} | {lf} |")
    mal_fams = sorted({f for f, *_ in mal})
    mal_n = sum(len(per_fam[f]) for f in mal_fams) or 1
    print(f"| **maltrail all** | {mal_n} | "
          f"{sum(sum(per_fam[f]) for f in mal_fams) / mal_n:.1%} | "
          f"{sum(lfo.get(f, 0) * len(per_fam[f]) for f in mal_fams) / mal_n:.1%} |")
    hosted = np.array(hosted_entries(args.shared / "dga" / "maltrail_dga_family_domains.csv"))
    assert len(hosted) == len(mal)
    keep = ~hosted
    filtered = {"rule": "maltrail entries naming a host under a registered domain left out",
                "names": int(keep.sum()), "left_out": int(hosted.sum()),
                "cv": round(float(np.mean(zg[: len(mal)][keep] >= 0)), 4),
                "lfo": None if args.no_lfo else round(float(np.mean(lfo_rows[: len(mal)][keep])), 4)}
    print(f"| *maltrail without the {filtered['left_out']} host entries (second figure)* | {filtered['names']} | "
          f"{filtered['cv']:.1%} | {'-' if filtered['lfo'] is None else format(filtered['lfo'], '.1%')} |")
    zh = logits(final, tt, xh, [s for _, s in held])
    fps = [lb + "." + s for (lb, s), z in zip(held, zh) if z >= 0]
    print(f"\nbenign out-of-fold flagged {np.mean(oof[:len(benign)] - shift >= 0):.2%}; held-out ranks "
          f"{last + 1}+: {np.mean(zh >= 0):.2%} of {len(held)} "
          f"(e.g. {', '.join(fps[:12])})")
    meta["evaluation"] = {
        "families": {f: {"names": len(v), "cv": round(float(np.mean(v)), 4),
                         "lfo": round(lfo[f], 4) if f in lfo else None, "synthetic": f in SHAPES}
                     for f, v in sorted(per_fam.items())},
        "benign_oof_fp": round(float(np.mean(oof[: len(benign)] - shift >= 0)), 5),
        "held_out_fp": round(float(np.mean(zh >= 0)), 5),
        "held_out_names": len(held),
        "filtered": filtered,
    }
    if cnn is not None:
        print(f"character CNN ({cnn['config']}, seed {cnn['seed']}) stacked as an extra feature: evaluation "
              f"only, no model written", file=sys.stderr)
        return 0
    dga = DgaModel(ngrams, final, tt, reference, meta, table, lr_final)
    args.out.write_text(json.dumps(dga.to_json(), separators=(",", ":"), sort_keys=True) + "\n",
                        encoding="utf-8")
    assert dga.to_json()["format"] == FORMAT
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB), {args.words_out} "
          f"({args.words_out.stat().st_size // 1024} KiB) in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
