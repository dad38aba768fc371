"""OrtSessionFactory: provider choice and session options."""

from __future__ import annotations

import pytest

from facebank.models.pack import locate_model_pack
from facebank.models.session_factory import (
    CPU,
    CUDA,
    OrtSessionFactory,
    read_signature,
    resolve_providers,
)


def test_auto_prefers_cuda_when_present() -> None:
    assert resolve_providers("auto", [CUDA, CPU]) == [CUDA, CPU]
    assert resolve_providers("AUTO", ["AzureExecutionProvider", CPU]) == [CPU]


def test_explicit_list() -> None:
    assert resolve_providers(f" {CPU} ", [CUDA, CPU]) == [CPU]
    assert resolve_providers(f"{CUDA},{CPU}", [CUDA, CPU]) == [CUDA, CPU]
    with pytest.raises(ValueError, match="not available"):
        resolve_providers(f"{CUDA},{CPU}", [CPU])
    with pytest.raises(ValueError, match="empty"):
        resolve_providers(" , ", [CPU])


@pytest.mark.parametrize("threads", [0, 1, 2])
def test_session_options(threads: int) -> None:
    factory = OrtSessionFactory("auto", intra_op_threads=threads)
    assert factory.providers_in_use == []
    session = factory.create(locate_model_pack(None).detector_path)
    opts = session.get_session_options()
    assert opts.intra_op_num_threads == threads
    assert opts.inter_op_num_threads == 1
    assert opts.execution_mode.name == "ORT_SEQUENTIAL"
    assert opts.graph_optimization_level.name == "ORT_ENABLE_ALL"
    assert factory.providers_in_use == session.get_providers()
    assert CPU in factory.providers_in_use


def test_negative_threads_rejected() -> None:
    with pytest.raises(ValueError, match="intra_op_threads"):
        OrtSessionFactory(intra_op_threads=-1)


def test_read_signature() -> None:
    pack = locate_model_pack(None)
    det = read_signature(pack.detector_path)
    rec = read_signature(pack.embedder_path)
    assert len(det.outputs) == 9 and det.inputs[0].shape[1] == 3
    assert rec.inputs[0].shape[1:] == (3, 112, 112) and len(rec.outputs) == 1
