"""The sentence-transformers backend runs on the GPU when PyTorch sees one (there is none here: PyTorch
and the model class are stand-ins that record what they are asked)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from gridkb.storage.embedders import SentenceTransformerEmbedder


class FakeModel:
    created: list[str] = []

    def __init__(self, path: str, device: str, local_files_only: bool) -> None:
        FakeModel.created.append(device)

    def get_embedding_dimension(self) -> int:
        return 8


@pytest.fixture()
def fake_torch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> types.SimpleNamespace:
    cuda = types.SimpleNamespace(is_available=lambda: False)
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    monkeypatch.setitem(sys.modules, "sentence_transformers", types.SimpleNamespace(SentenceTransformer=FakeModel))
    FakeModel.created = []
    return cuda


@pytest.mark.parametrize(("gpu", "device"), [(True, "cuda"), (False, "cpu")])
def test_the_gpu_is_used_when_present(fake_torch: types.SimpleNamespace, tmp_path: Path, gpu: bool, device: str) -> None:
    fake_torch.is_available = lambda: gpu
    embedder = SentenceTransformerEmbedder(str(tmp_path))
    assert FakeModel.created == [device] and embedder.device == device and embedder.dim == 8
