"""Build ``src/netsift/data/dga_model.json``: the character model of the DGA detector.

    python scripts/train_dga_model.py ../shared/data/top_sites/tranco_top10k_2025-06_LimoWagdy.csv \
        --ranks 1-5000 --out src/netsift/data/dga_model.json

What it does, step by step:

1. Reads a top-sites list (one domain per line with a ``Domain`` header, or ``rank,domain`` CSV) and keeps
   the registrable label of every domain ranked inside ``--ranks`` (``google`` for ``google.co.uk``),
   each distinct label once.
2. Counts character trigrams over those labels (the shipped n-gram model).
3. Describes the popular labels with :func:`netsift.detect.dga_model.features`, *out of fold* (5 folds:
   a label is scored by a model that never saw it, as a new benign name would be).
4. Generates random labels (letters, letters and digits, hex, consonant clusters, random syllables) as the
   "machine-made" class — no malware list is used for training, so the DGA families in
   ``../shared/data/dga/`` stay an honest test set for ``bench/detection.py``.
5. Fits a logistic regression (numpy, L2) and moves its bias so that ``--benign-fp`` of the out-of-fold
   popular labels score above 0.5.

Only derived counts and weights are written; the list itself is never copied. Needs numpy (installed with
pyarrow). Deterministic for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import string
import sys
from pathlib import Path

import numpy as np

from netsift.detect.dga_model import FEATURES, Classifier, DgaModel, TrigramModel, features
from netsift.enrich.psl import split_name


def read_labels(path: Path, first: int, last: int) -> list[str]:
    labels: list[str] = []
    seen: set[str] = set()
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if r]
    if rows and not rows[0][0].strip().isdigit():
        rows = rows[1:]  # header
    for line_no, row in enumerate(rows, start=1):
        rank, domain = (int(row[0]), row[1]) if len(row) > 1 else (line_no, row[0])
        if not first <= rank <= last:
            continue
        reg, suffix, _sub, infra = split_name(domain.strip().lower().rstrip("."))
        if infra or reg == suffix:
            continue
        label = reg[: -len(suffix) - 1]
        if label and label not in seen:
            seen.add(label)
            labels.append(label)
    return labels


def random_labels(n: int, rng: random.Random) -> list[str]:
    """Machine-made labels of several kinds, lengths 6-24."""
    consonants = "bcdfghjklmnpqrstvwxz"
    makers = [
        lambda k: "".join(rng.choice(string.ascii_lowercase) for _ in range(k)),
        lambda k: "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(k)),
        lambda k: "".join(rng.choice("0123456789abcdef") for _ in range(k + 4)),
        lambda k: "".join(rng.choice(consonants + "aeiou" if i % 3 else consonants) for i in range(k)),
        lambda k: "".join(rng.choice(consonants) + rng.choice("aeiouy") for _ in range(k // 2)),
    ]
    weights = [0.3, 0.25, 0.15, 0.15, 0.15]
    return [rng.choices(makers, weights)[0](rng.randint(6, 20)) for _ in range(n)]


def matrix(labels: list[str], model: TrigramModel) -> np.ndarray:
    return np.array([[features(lb, model)[f] for f in FEATURES] for lb in labels])


def out_of_fold(labels: list[str], folds: int, rng: random.Random, discount: float) -> np.ndarray:
    order = list(range(len(labels)))
    rng.shuffle(order)
    rows = np.zeros((len(labels), len(FEATURES)))
    for k in range(folds):
        held = [i for j, i in enumerate(order) if j % folds == k]
        held_set = set(held)
        model = TrigramModel.train([labels[i] for i in range(len(labels)) if i not in held_set], discount)
        rows[held] = matrix([labels[i] for i in held], model)
    return rows


# The direction each feature may push towards "machine-made" (+1), away from it (-1), or either (0).
# Fitting under these sign constraints keeps every weight explainable ("a long consonant run made it look
# generated") instead of letting correlated features cancel each other with odd signs.
SIGNS = {
    "log_likelihood": -1,
    "total_log_likelihood": -1,
    "worst_transitions": -1,
    "length": 0,
    "entropy": 1,
    "digit_ratio": 1,
    "consonant_run": 1,
    "vowel_ratio": -1,
    "digit_switches": 1,
}


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 4000, lr: float = 0.5):
    """Logistic regression by projected gradient descent under :data:`SIGNS`."""
    signs = np.array([SIGNS[f] for f in FEATURES])
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        w -= lr * (x.T @ (p - y) / len(y) + l2 * w)
        b -= lr * float(np.mean(p - y))
        w = np.where(signs > 0, np.maximum(w, 0), np.where(signs < 0, np.minimum(w, 0), w))
    return w, b


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("top_sites", type=Path)
    ap.add_argument("--ranks", default="1-5000", help="rank range used for training, e.g. 1-5000")
    ap.add_argument("--out", type=Path, default=Path("src/netsift/data/dga_model.json"))
    ap.add_argument("--benign-fp", type=float, default=0.003, help="share of popular labels allowed >= 0.5")
    ap.add_argument("--discount", type=float, default=0.75, help="Kneser-Ney absolute discount")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    first, last = (int(v) for v in args.ranks.split("-"))
    rng = random.Random(args.seed)

    benign = read_labels(args.top_sites, first, last)
    model = TrigramModel.train(benign, args.discount)
    x_benign = out_of_fold(benign, 5, rng, args.discount)
    machine = random_labels(2 * len(benign), rng)
    x_machine = matrix(machine, model)

    x = np.vstack([x_benign, x_machine])
    y = np.concatenate([np.zeros(len(benign)), np.ones(len(machine))])
    means, scales = x.mean(axis=0), x.std(axis=0) + 1e-9
    w, b = fit_logistic((x - means) / scales, y)
    z_benign = ((x_benign - means) / scales) @ w + b
    b -= float(np.quantile(z_benign, 1 - args.benign_fp))  # put 0.5 at the chosen benign quantile

    clf = Classifier(
        {f: round(float(v), 5) for f, v in zip(FEATURES, w)},
        {f: round(float(v), 5) for f, v in zip(FEATURES, means)},
        {f: round(float(v), 5) for f, v in zip(FEATURES, scales)},
        round(b, 5),
    )
    reference = {f: round(float(v), 4) for f, v in zip(FEATURES, np.median(x_benign, axis=0))}
    meta = {
        "trained_on": f"{args.top_sites.name} ranks {first}-{last}",
        "benign_labels": len(benign),
        "random_labels": len(machine),
        "benign_fp_target": args.benign_fp,
        "discount": args.discount,
        "seed": args.seed,
    }
    dga = DgaModel(model, clf, reference, meta)
    benign_flagged = np.mean([clf.score(dict(zip(FEATURES, row))) >= 0.5 for row in x_benign])
    machine_flagged = np.mean([clf.score(dict(zip(FEATURES, row))) >= 0.5 for row in x_machine])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(dga.to_json(), separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8"
    )
    print(
        f"{len(benign)} popular labels, {len(machine)} random labels; out-of-fold popular flagged "
        f"{benign_flagged:.2%}, random flagged {machine_flagged:.2%}; wrote {args.out} "
        f"({args.out.stat().st_size // 1024} KiB)",
        file=sys.stderr,
    )
    print("weights:", {f: round(float(v), 2) for f, v in zip(FEATURES, w)}, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
