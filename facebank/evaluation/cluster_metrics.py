"""How well found clusters match true identities: purity, completeness, pairwise and BCubed.

`truth[i]` is face i's identity, `found[i]` its cluster. Faces whose identity is None are
distractors: they took part in the clustering (they can join or bridge clusters) but are
left out of every figure, since nobody knows who they are.
- purity: each cluster counted by its commonest identity, over all faces (1.0: no cluster
  mixes people);
- completeness: each identity counted by its largest cluster, over all faces (1.0: nobody
  is split), the inverse purity;
- pairwise precision / recall: of the face pairs put together, the share that are one
  person / of the same-person pairs, the share put together;
- BCubed precision / recall / F (Amigó et al. 2009): per face, the share of its cluster
  that is its person / of its person that is in its cluster, averaged over faces;
- clusters, identities, singletons (clusters of one face), exact (identities whose faces
  form exactly one cluster holding nobody else);
- with_unlabelled: the share of faces whose cluster also holds an unlabelled face (with
  synthetic strangers as the unlabelled ones, the mixing purity cannot see).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ClusterScores:
    faces: int
    identities: int
    clusters: int
    singletons: int
    exact: int
    purity: float
    completeness: float
    pair_precision: float
    pair_recall: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f: float
    with_unlabelled: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def score_clusters(truth: Sequence[str | None], found: Sequence[int]) -> ClusterScores:
    if len(truth) != len(found):
        raise ValueError(f"{len(truth)} labels for {len(found)} cluster ids")
    pairs = [(t, f) for t, f in zip(truth, found, strict=True) if t is not None]
    if not pairs:
        raise ValueError("no labelled faces to score")
    unlabelled_clusters = {f for t, f in zip(truth, found, strict=True) if t is None}
    joint = Counter(pairs)
    by_identity = Counter(t for t, _ in pairs)
    by_cluster = Counter(f for _, f in pairs)
    n = len(pairs)
    b_precision, b_recall = _bcubed(joint, by_identity, by_cluster, n)
    return ClusterScores(
        faces=n,
        identities=len(by_identity),
        clusters=len(by_cluster),
        singletons=sum(1 for size in by_cluster.values() if size == 1),
        exact=_exact(joint, by_identity, by_cluster),
        purity=_dominant_share(joint, by_cluster, n, key=1),
        completeness=_dominant_share(joint, by_identity, n, key=0),
        pair_precision=_ratio(_pairs(joint.values()), _pairs(by_cluster.values())),
        pair_recall=_ratio(_pairs(joint.values()), _pairs(by_identity.values())),
        bcubed_precision=b_precision,
        bcubed_recall=b_recall,
        bcubed_f=_harmonic(b_precision, b_recall),
        with_unlabelled=sum(1 for _, f in pairs if f in unlabelled_clusters) / n,
    )


def _dominant_share(
    joint: Counter[tuple[str, int]], groups: Counter[str] | Counter[int], n: int, key: int
) -> float:
    best: dict[object, int] = {}
    for cell, count in joint.items():
        best[cell[key]] = max(best.get(cell[key], 0), count)
    return sum(best[g] for g in groups) / n


def _bcubed(
    joint: Counter[tuple[str, int]], by_identity: Counter[str], by_cluster: Counter[int], n: int
) -> tuple[float, float]:
    # A face in cell (t, f) has precision joint/|f| and recall joint/|t|; a cell holds
    # `joint` such faces.
    precision = sum(c * c / by_cluster[f] for (_, f), c in joint.items()) / n
    recall = sum(c * c / by_identity[t] for (t, _), c in joint.items()) / n
    return precision, recall


def _exact(
    joint: Counter[tuple[str, int]], by_identity: Counter[str], by_cluster: Counter[int]
) -> int:
    return sum(1 for (t, f), c in joint.items() if c == by_identity[t] == by_cluster[f])


def _pairs(sizes: Iterable[int]) -> int:
    return sum(s * (s - 1) // 2 for s in sizes)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0  # nothing to get wrong is all right


def _harmonic(a: float, b: float) -> float:
    return 2 * a * b / (a + b) if a + b else 0.0
