"""nprobe chosen for the merged result of every shard (``index.tuning``), against exact search."""

import numpy as np

from index.dense import TARGET_RECALL, DenseIndex
from index.shards import _merge, offsets
from index.tuning import tune


def _scattered(shards: int, per_shard: int, per_centre: int, dim: int = 32, seed: int = 0):
    """Vectors around random centres, each centre's vectors spread over every shard (a shard holds
    fewer than ten of a centre: its own top ten is partly noise, the merged top ten is not)."""
    rng = np.random.default_rng(seed)
    n = shards * per_shard
    c = rng.normal(size=(n // per_centre, dim))

    def draw(m):
        x = c[rng.integers(0, len(c), m)] + rng.normal(scale=0.5, size=(m, dim))
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    return [draw(per_shard) for _ in range(shards)], draw(300), draw(200)


def _ivf(x):
    d = DenseIndex(x.shape[1], "ivf")
    d.add(x)
    return d


class _Shard:           # what ``index.shards`` reads of a shard
    def __init__(self, dense):
        self.dense, self.size = dense, dense.size


def _merged_recall(denses, data, queries, k=10):
    exact = np.argsort(-(queries @ np.concatenate(data).T), axis=1)[:, :k]
    shards = [_Shard(d) for d in denses]
    starts = offsets(shards)
    got = []
    for q in queries:
        parts = [(s, r + starts[i]) for i, d in enumerate(denses) for s, r in [d.search(q, k)]]
        got.append(set(_merge(parts, k)[1].tolist()))
    return float(np.mean([len(g & set(e.tolist())) / k for g, e in zip(got, exact)]))


def test_merged_tuning_reaches_the_target_with_fewer_cells_than_tuning_each_shard():
    data, tuning_q, fresh = _scattered(shards=4, per_shard=2500, per_centre=20)
    alone = [_ivf(x) for x in data]
    for d in alone:              # each shard for its own top ten (what a shard tuned by itself does)
        tune([d], tuning_q)
    merged = [_ivf(x) for x in data]
    recall = tune(merged, tuning_q)
    assert recall >= TARGET_RECALL and all(d.recall == recall for d in merged)
    assert len({d.nprobe for d in merged}) == 1           # one probe level: the shards have as many cells
    assert merged[0].nprobe < min(d.nprobe for d in alone)
    assert _merged_recall(merged, data, fresh) >= TARGET_RECALL - 0.03


def test_exact_shards_take_part_and_leave_one_out_tuning_skips_itself():
    data, tuning_q, fresh = _scattered(shards=2, per_shard=2000, per_centre=20, seed=1)
    flat = DenseIndex(32, "flat")
    flat.add(data[1][:300])
    ivf = _ivf(data[0])
    recall = tune([ivf, flat], tuning_q)
    assert flat.nprobe == 0 and ivf.nprobe >= 1 and recall >= TARGET_RECALL
    alone = _ivf(data[0])
    alone.tune()                 # stored vectors as queries, each without itself
    assert 1 <= alone.nprobe <= alone.nlist and alone.recall >= TARGET_RECALL
