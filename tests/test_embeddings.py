"""The embedding backends: the int8 models stay close to the fp32 model they were made from, the
export is cached per recipe, and a failed export leaves nothing half-written."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from rag import runtimes
from rag.config import PROJECT_ROOT, Settings
from rag.embeddings import Embedder
from rag.errors import ConfigError

SEED = next((PROJECT_ROOT / "corpus").glob("*.txt"))


def _seed_texts() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n\n") if len(p.strip()) > 40]
    questions = ["What is Freedom Edge?", "Who is South Korea's defence minister?", "secretariat"]
    return paragraphs + questions


@pytest.fixture(scope="module")
def fp32(model_cache: Path) -> np.ndarray:
    return Embedder(Settings(model_cache_dir=model_cache, embedding_backend="torch")).encode(_seed_texts())


@pytest.mark.parametrize("backend", ["openvino-int8", "onnx-int8"])
def test_int8_backends_stay_close_to_fp32(backend: str, model_cache: Path, fp32: np.ndarray) -> None:
    vectors = Embedder(Settings(model_cache_dir=model_cache, embedding_backend=backend)).encode(_seed_texts())
    assert vectors.shape == fp32.shape and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    cosine = (vectors * fp32).sum(axis=1)
    # Measured here: openvino-int8 mean 0.9976 (min 0.9967), onnx-int8 mean 0.9917 (min 0.9847).
    assert cosine.min() > 0.975 and cosine.mean() > 0.985, cosine
    # Not the fp32 model under another name: quantization does change the numbers.
    assert cosine.max() < 0.99999


def test_openvino_model_is_cached_once_per_recipe(model_cache: Path) -> None:
    Embedder(Settings(model_cache_dir=model_cache, embedding_backend="openvino-int8")).warm_up()
    folders = [p for p in model_cache.iterdir() if "openvino-int8" in p.name and p.is_dir()]
    assert [p.name.endswith(runtimes.openvino_recipe()) for p in folders] == [True]
    assert (folders[0] / "model.xml").is_file() and (folders[0] / "model.bin").is_file()
    assert not (folders[0] / "onnx").exists(), "the fp32 ONNX input is not kept"


def test_a_new_calibration_text_means_a_new_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rag.embeddings._export_onnx", _quick_onnx)
    monkeypatch.setattr("rag.embeddings.quantize_openvino", lambda onnx, xml, tok: xml.write_text("<x/>"))
    monkeypatch.setattr("rag.embeddings.openvino_runner", lambda xml: xml)
    cache = tmp_path / "cache"
    first = Embedder(Settings(model_cache_dir=cache, embedding_backend="openvino-int8"))._load()
    edited = tmp_path / "calibration.txt"
    edited.write_text(runtimes.CALIBRATION_FILE.read_text() + "One more sentence.\n")
    monkeypatch.setattr(runtimes, "CALIBRATION_FILE", edited)
    second = Embedder(Settings(model_cache_dir=cache, embedding_backend="openvino-int8"))._load()
    assert first != second and first.is_file() and second.is_file()
    again = Embedder(Settings(model_cache_dir=cache, embedding_backend="openvino-int8"))._load()
    assert again == second  # and then it is re-used


def test_exports_unused_for_a_month_are_deleted_and_the_rest_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each recipe, Python or OpenVINO version exports anew; the old copies (80 MB each) go
    once no install has loaded them for STALE_AFTER_DAYS."""
    import os
    import time

    from rag import embeddings

    monkeypatch.setattr("rag.embeddings._export_onnx", _quick_onnx)
    monkeypatch.setattr("rag.embeddings.quantize_openvino", lambda onnx, xml, tok: xml.write_text("<x/>"))
    monkeypatch.setattr("rag.embeddings.openvino_runner", lambda xml: xml)
    cache = tmp_path / "cache"
    cache.mkdir()
    old = time.time() - (embeddings.STALE_AFTER_DAYS + 1) * 86400
    stale, recent, half_done = (cache / f"all-MiniLM-L6-v2-{n}" for n in ("stale", "recent", "x.tmp"))
    other = cache / "some-other-model-old"
    for folder in (stale, recent, half_done, other):
        (folder / "model.xml").parent.mkdir()
        (folder / "model.xml").write_text("<x/>")
        os.utime(folder, (old, old))
    (cache / f"{stale.name}.lock").write_text("")
    (recent / ".last-used").touch()  # loaded yesterday by another install
    current = Embedder(Settings(model_cache_dir=cache, embedding_backend="openvino-int8"))._load()
    assert current.is_file() and (current.parent / ".last-used").is_file()
    assert not stale.exists() and not (cache / f"{stale.name}.lock").exists() and not half_done.exists()
    assert recent.exists() and other.exists()  # in use elsewhere; not this model's


def test_the_telemetry_block_also_silences_an_already_imported_sender(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import types

    sent: list[str] = []

    class Telemetry:
        def send_event(self, *args: object) -> None:
            sent.append("event")

    fake = types.ModuleType("openvino_telemetry")
    fake.Telemetry = Telemetry  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "openvino_telemetry", fake)
    runtimes._block_telemetry()
    Telemetry().send_event("ov", "import")
    assert sent == []


def test_calibration_covers_short_and_long_inputs(model_cache: Path) -> None:
    tok = Embedder(Settings(model_cache_dir=model_cache)).tokenizer
    lengths = [len(tok.encode(t).ids) for t in runtimes.calibration_texts()]
    assert len(lengths) >= 100
    assert min(lengths) < 20 and max(lengths) > 150  # queries and chunk-sized passages


def _quick_onnx(model_path: Path, target: Path) -> None:
    (target / "onnx").mkdir(parents=True)
    (target / "onnx" / "model.onnx").write_bytes(b"not really a model")


def test_a_failed_export_leaves_no_model_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rag.embeddings._export_onnx", _quick_onnx)

    def broken(onnx_file: Path, out_xml: Path, tokenize: object) -> None:
        out_xml.write_text("<half a model")
        raise RuntimeError("quantizer crashed")

    monkeypatch.setattr("rag.embeddings.quantize_openvino", broken)
    embedder = Embedder(Settings(model_cache_dir=tmp_path / "cache", embedding_backend="openvino-int8"))
    with pytest.raises(ConfigError, match="quantizer crashed.*RAG_EMBEDDING_BACKEND=onnx-int8"):
        embedder.warm_up()
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.is_dir()] == [], "nothing half-written"


def test_an_export_without_its_model_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rag.embeddings._export_onnx", _quick_onnx)
    monkeypatch.setattr("rag.embeddings.quantize_openvino", lambda *args: None)
    with pytest.raises(ConfigError, match="RAG_EMBEDDING_BACKEND"):
        Embedder(Settings(model_cache_dir=tmp_path / "cache", embedding_backend="openvino-int8")).warm_up()


def test_recent_vectors_are_reused_and_equal_fresh_ones(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat keeps retrieving the same passages: their sentences are embedded once."""
    from rag import embeddings

    embedder = Embedder(Settings(model_cache_dir=model_cache))
    texts = _seed_texts()[:6]
    encoded: list[str] = []
    real = embedder.encode
    monkeypatch.setattr(embedder, "encode", lambda batch: encoded.extend(batch) or real(batch))
    first = embedder.encode_cached(texts[:4])
    again = embedder.encode_cached([texts[3], texts[4], texts[3]])
    assert encoded == texts[:5]  # only the new text was embedded the second time
    fresh = real(texts[:5])
    assert np.allclose(first, fresh[:4], atol=1e-5)
    assert np.allclose(again, fresh[[3, 4, 3]], atol=1e-5)
    # The cache is bounded: the least recently used vectors go first (texts[3] was used last).
    monkeypatch.setattr(embeddings, "_CACHED_VECTORS", 3)
    embedder.encode_cached([texts[5]])  # keeps 3, 4, 5
    embedder.encode_cached([texts[3]])  # 3 is now the most recent: 4 goes next
    embedder.encode_cached([texts[0]])
    encoded.clear()
    embedder.encode_cached([texts[3], texts[5], texts[0], texts[4]])
    assert encoded == [texts[4]]


@pytest.mark.parametrize("backend", ["openvino-int8", "onnx-int8"])
def test_a_vector_does_not_depend_on_the_texts_embedded_with_it(backend: str, model_cache: Path) -> None:
    """Dynamic int8 scales activations by the whole batch's range: onnx-int8 runs one text at a
    time, so a sentence cached from one answer is the vector another answer would compute."""
    embedder = Embedder(Settings(model_cache_dir=model_cache, embedding_backend=backend))
    texts = _seed_texts()[:6]
    together = embedder.encode(texts)
    alone = np.stack([embedder.encode([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_batches_group_texts_of_similar_length() -> None:
    """An answer's sentences run 10 to 80 tokens: padded to the longest, half the work was padding."""
    from rag.embeddings import _batches

    assert _batches([10, 80, 12, 75, 11], 16) == [[1, 3], [2, 4, 0]]
    assert _batches([50] * 5, 2) == [[0, 1], [2, 3], [4]]
    assert _batches([], 16) == []
