"""The character model behind the DGA detector: how much does a label look like the names people register?

A label (the registrable part of a name: ``google`` in ``www.google.co.uk``) is described by a few
numbers — how likely its character trigrams are under a model of popular names, its length, entropy,
digits, consonant runs — and a small logistic regression turns them into a 0..1 score. Both the trigram
counts and the regression weights are package data (``netsift/data/dga_model.json``), built offline by
``scripts/train_dga_model.py`` from a top-sites list; the list itself is never shipped.

Everything here is pure Python on plain strings: no database, no network.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

VOWELS = frozenset("aeiouy")
LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
DIGITS = frozenset("0123456789")
START, END = "^", "$"

# The features the classifier sees, in order. Each is computed by :func:`features`.
FEATURES = (
    "log_likelihood",  # mean log10 probability per character transition (higher = more name-like)
    "total_log_likelihood",  # the sum: evidence grows with length, so long random labels stand out
    "worst_transitions",  # mean of the 3 least likely transitions
    "length",  # characters in the label
    "entropy",  # Shannon entropy, bits per character
    "digit_ratio",  # share of digits
    "consonant_run",  # longest run of consonants (y counts as a vowel)
    "vowel_ratio",  # share of vowels among letters
    "digit_switches",  # letter<->digit changes ("d34ft" has 2)
)


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


@dataclass
class TrigramModel:
    """Character trigram model over padded labels (``^^label$``) with interpolated Kneser-Ney smoothing
    (absolute discount ``discount``; lower orders use continuation counts), so that a character sequence
    never seen in training still gets a sensible probability from its shorter history."""

    trigrams: dict[str, int]
    discount: float = 0.75

    def __post_init__(self) -> None:
        d = self.discount
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
        self._d = d

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

    def to_json(self) -> dict:
        return {"trigrams": self.trigrams, "discount": self.discount}

    @classmethod
    def from_json(cls, data: dict) -> TrigramModel:
        return cls(data["trigrams"], data["discount"])


def features(label: str, model: TrigramModel) -> dict[str, float]:
    """The numbers the classifier sees for one label."""
    label = normalise_label(label)
    lps = model.transition_logprobs(label)
    worst = sorted(lps)[:3]
    letters = [ch for ch in label if ch in LETTERS]
    run = best = 0
    for ch in label:
        run = run + 1 if ch in LETTERS and ch not in VOWELS else 0
        best = max(best, run)
    switches = sum(
        1
        for a, b in itertools.pairwise(label)
        if (a in DIGITS and b in LETTERS) or (a in LETTERS and b in DIGITS)
    )
    return {
        "log_likelihood": sum(lps) / len(lps),
        "total_log_likelihood": sum(lps),
        "worst_transitions": sum(worst) / len(worst),
        "length": float(len(label)),
        "entropy": entropy(label),
        "digit_ratio": sum(ch in DIGITS for ch in label) / max(len(label), 1),
        "consonant_run": float(best),
        "vowel_ratio": sum(ch in VOWELS for ch in letters) / max(len(letters), 1),
        "digit_switches": float(switches),
    }


@dataclass
class Classifier:
    """Logistic regression on standardised features; ``bias`` already includes the calibration that puts
    the 0.5 decision point at the chosen false-positive rate on popular names."""

    weights: dict[str, float]
    means: dict[str, float]
    scales: dict[str, float]
    bias: float

    def contributions(self, feats: dict[str, float]) -> dict[str, float]:
        return {k: self.weights[k] * (feats[k] - self.means[k]) / self.scales[k] for k in self.weights}

    def score(self, feats: dict[str, float]) -> float:
        z = self.bias + sum(self.contributions(feats).values())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass
class DgaModel:
    ngrams: TrigramModel
    classifier: Classifier
    reference: dict[str, float]  # median of each feature over the popular names the model was trained on
    meta: dict

    def score_label(self, label: str) -> tuple[float, dict[str, float], dict[str, float]]:
        """(score 0..1, features, per-feature contribution to the decision) for one label."""
        feats = features(label, self.ngrams)
        return self.classifier.score(feats), feats, self.classifier.contributions(feats)

    def to_json(self) -> dict:
        c = self.classifier
        return {
            "format": "netsift-dga-model/1",
            "meta": self.meta,
            "features": list(FEATURES),
            "classifier": {"weights": c.weights, "means": c.means, "scales": c.scales, "bias": c.bias},
            "reference": self.reference,
            "ngrams": self.ngrams.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict) -> DgaModel:
        if data.get("format") != "netsift-dga-model/1":
            raise ValueError(f"not a netsift DGA model (format {data.get('format')!r})")
        c = data["classifier"]
        return cls(
            TrigramModel.from_json(data["ngrams"]),
            Classifier(c["weights"], c["means"], c["scales"], c["bias"]),
            data["reference"],
            data.get("meta", {}),
        )


@functools.cache
def load_model(path: str | None = None) -> DgaModel:
    """The shipped model (``netsift/data/dga_model.json``), or one at ``path``."""
    if path is None:
        text = resources.files("netsift").joinpath("data/dga_model.json").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return DgaModel.from_json(json.loads(text))
