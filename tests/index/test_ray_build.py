"""The Ray engine on a 2-node cluster on this machine: workers write the shards, the driver gets
only their manifests, the build equals a local one, a bad file is skipped with its reason, a dying
worker fails the build and touches nothing."""

import os

import numpy as np
import pytest

import qa
from tests.conftest import FakeEmbedder

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray", reason='needs Ray: pip install "bayyina[ray]"')


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    c.add_node(num_cpus=1)
    ray.init(address=c.address, include_dashboard=False, log_to_driver=False)
    yield c
    ray.shutdown()
    c.shutdown()


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.ar.txt").write_text("اعتمد مجلس الأمن القرار 678 في 29 نوفمبر 1990. وانتهت العمليات العسكرية في 27 فبراير "
                                "1991. " * 8, encoding="utf-8")
    (d / "b.en.md").write_text("# Lighthouse\n\nThe keeper, Captain Idris Farouk, kept the lamp burning for forty-one "
                               "years. " * 6, encoding="utf-8")
    (d / "c.en.txt").write_text("Collective security depends on the Security Council acting together.", encoding="utf-8")
    return d


class _DyingEmbedder(FakeEmbedder):
    def embed_passages(self, texts, *, progress=False):
        os._exit(1)          # the worker process dies mid-build


def test_a_distributed_build_equals_the_local_build(cluster, folder):
    local = qa.Index(FakeEmbedder())
    local.add_paths([folder])
    index, report, stats = qa.build_index_ray([folder], FakeEmbedder(), workers=2, embedder_factory=FakeEmbedder)
    assert [p.to_dict() for p in index.passages] == [p.to_dict() for p in local.passages]
    assert len(report.added) == 3 and stats.passages == len(local)
    np.testing.assert_allclose(index._vectors(), local._vectors(), atol=1e-6)
    for q in ("القرار 678", "lighthouse keeper", "collective security", "متى انتهت العمليات"):
        assert [h.passage.id for h in index.search(q, 5)] == [h.passage.id for h in local.search(q, 5)]


def test_the_driver_receives_counts_and_manifests_never_vectors(cluster, folder, monkeypatch):
    import pickle

    from index import ray_build

    received, blocks = [], []
    real_get, real_count, real_write = ray.get, ray_build._embed_files, ray_build._write_shards

    def spy_get(refs, *args, **kwargs):          # everything the driver fetches, Ray Data's blocks included
        out = real_get(refs, *args, **kwargs)
        blocks.extend(o for o in (out if isinstance(out, list) else [out]) if hasattr(o, "column_names"))
        return out

    def spy(real):
        def call(*args, **kwargs):
            out = real(*args, **kwargs)
            received.extend(out)
            return out
        return call

    monkeypatch.setattr(ray, "get", spy_get)
    monkeypatch.setattr(ray_build, "_embed_files", spy(real_count))
    monkeypatch.setattr(ray_build, "_write_shards", spy(real_write))
    config = qa.IndexConfig(shard_passages=3)
    index, _, stats = qa.build_index_ray([folder], FakeEmbedder(), config, workers=2, embedder_factory=FakeEmbedder)
    assert {type(r).__name__ for r in received} == {"FileCount", "ShardManifest"}
    assert stats.shards == len(index.info().shards) >= 2
    counts = {"order", "path", "source", "kind", "hash", "passages", "error"}
    assert all(set(b.column_names) <= counts for b in blocks)       # Ray Data sent counts, no text, no vectors
    # a manifest is its entry, checksums and documents: a few kilobytes whatever the shard holds
    assert max(len(pickle.dumps(r)) for r in received if type(r).__name__ == "ShardManifest") < 8192

    def no_arrays(obj):
        assert not isinstance(obj, np.ndarray)
        for value in (obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else
                      vars(obj).values() if hasattr(obj, "__dataclass_fields__") else ()):
            no_arrays(value)

    for r in received:
        no_arrays(r)
    assert stats.bm25_tokens == sum(s.sparse.tokens for s in index._shards)   # global BM25 counts from the workers'


def test_shards_built_by_ray_tasks_equal_the_local_shards(cluster, folder, tmp_path):
    config = qa.IndexConfig(shard_passages=3, dense_kind="ivf")      # several shards, each an IVF written by a worker
    local = qa.Index(FakeEmbedder(), config)
    local.add_paths([folder])
    index, report, _ = qa.build_index_ray([folder], FakeEmbedder(), config, workers=2, embedder_factory=FakeEmbedder)
    assert len(index.info().shards) >= 2 and index.info().shards == local.info().shards
    assert [p.to_dict() for p in index.passages] == [p.to_dict() for p in local.passages]
    index.save(tmp_path / "idx")                    # the shards' files were opened from a folder now gone
    again = qa.Index.load(tmp_path / "idx", FakeEmbedder())
    for q in ("القرار 678", "lighthouse keeper", "collective security"):
        ids = [h.passage.id for h in local.search(q, 5)]
        assert [h.passage.id for h in index.search(q, 5)] == ids == [h.passage.id for h in again.search(q, 5)]


def test_a_bad_file_is_skipped_with_its_reason_and_the_rest_indexed(cluster, folder, tmp_path):
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    index, report, _ = qa.build_index_ray([folder], FakeEmbedder(), workers=2, embedder_factory=FakeEmbedder)
    assert [s.path.endswith("broken.docx") for s in report.skipped] == [True]
    assert "docx" in report.skipped[0].reason
    assert len(index.sources) == 3
    index.save(tmp_path / "idx")
    assert len(qa.Index.load(tmp_path / "idx", FakeEmbedder())) == len(index)


def test_a_worker_that_dies_fails_the_build_and_the_saved_index_stays(cluster, folder, tmp_path):
    saved = tmp_path / "idx"
    before = qa.Index(FakeEmbedder())
    before.add_paths([folder / "c.en.txt"])
    before.save(saved)
    files = sorted(p.name for p in saved.rglob("*"))
    with pytest.raises(qa.BayyinaError, match="Ray build failed.*nothing was saved"):
        qa.build_index_ray([folder], FakeEmbedder(), workers=2, embedder_factory=_DyingEmbedder)
    assert sorted(p.name for p in saved.rglob("*")) == files
    assert [s.source for s in qa.Index.load(saved, FakeEmbedder()).sources] == [before.sources[0].source]


def test_without_ray_the_error_names_the_install_line(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    from index.ray_build import _ray

    with pytest.raises(qa.MissingDependencyError, match=r'pip install "bayyina\[ray\]"'):
        _ray()
