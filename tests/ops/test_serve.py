"""`coffer serve --workers N` gives the workers one metrics directory, emptied of an earlier run's samples."""

from __future__ import annotations

import os

from coffer.ops.management.commands import serve


def test_several_workers_get_a_fresh_shared_metrics_directory(monkeypatch, settings, tmp_path):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.delenv("prometheus_multiproc_dir", raising=False)
    settings.VAR_DIR = tmp_path
    (tmp_path / "prometheus").mkdir()
    (tmp_path / "prometheus" / "histogram_123.db").write_bytes(b"old samples")
    (tmp_path / "prometheus" / "keep.txt").write_text("not ours")
    serve.Command()._share_metrics_between_workers()
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "prometheus")
    assert sorted(path.name for path in (tmp_path / "prometheus").iterdir()) == ["keep.txt"]


def test_a_chosen_metrics_directory_is_kept_and_created(monkeypatch, tmp_path):
    chosen = tmp_path / "chosen" / "prom"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(chosen))
    serve.Command()._share_metrics_between_workers()
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(chosen) and chosen.is_dir()
