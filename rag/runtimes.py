"""CPU inference runtimes for the exported embedding model, and the int8 quantization behind them.

The only module that imports onnxruntime, openvino and nncf. Two runtimes take the same feed
(``input_ids``, ``attention_mask``, ``token_type_ids``) and return the last hidden state:

* OpenVINO running a *static* int8 model: NNCF calibrates activation ranges once on
  ``rag/data/calibration.txt`` (plus Python's bundled documentation text, for variety), with
  SmoothQuant. On a 2-core VNNI CPU it embeds ~1.5x faster than onnxruntime's dynamic int8
  and stays closer to fp32 (mean cosine 0.997 against 0.992 on SciFact chunks).
* onnxruntime running the dynamically quantized export of sentence-transformers: on an
  AVX2-only CPU, 1.5x (indexing) to 2.3x (an answer's sentences) faster than OpenVINO's int8.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .cpu import cores

CALIBRATION_FILE = Path(__file__).resolve().parent / "data" / "calibration.txt"
# Part of the cache folder's name: changing the recipe (or the calibration text) re-quantizes.
_RECIPE = "nncf-mixed-sq0.90-v1"
_PYDOC_SAMPLES = 300


class Runner(Protocol):
    """A loaded model: feed in, last hidden state out."""

    input_names: set[str]
    max_batch: int  # texts per run

    def __call__(self, feed: dict[str, np.ndarray]) -> np.ndarray: ...


def openvino_recipe() -> str:
    """Cache key of the OpenVINO int8 model: the recipe, and a hash of everything else that
    shapes it: the calibration text, this Python (whose documentation joins the calibration
    set) and the versions of the quantizer and the runtime. Cheap: no text is parsed."""
    digest = hashlib.sha256(CALIBRATION_FILE.read_bytes())
    digest.update(sys.version.encode())
    for package in ("nncf", "openvino"):
        try:
            digest.update(f"{package}=={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} missing".encode())
    return f"{_RECIPE}-{digest.hexdigest()[:8]}"


# --- onnxruntime -----------------------------------------------------------------------------
class _OrtRunner:
    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = cores()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self._session.get_inputs()}
        # Dynamic int8 scales activations by the range of the whole batch, so a text's vector
        # would depend on the texts run with it. One text per run: the same text always gets
        # the same vector, and no padding is computed (as fast as batches of 16 on SciFact).
        self.max_batch = 1

    def __call__(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self._session.run(None, feed)[0])


def onnxruntime_runner(path: Path) -> Runner:
    return _OrtRunner(path)


# --- OpenVINO --------------------------------------------------------------------------------
def _block_telemetry() -> None:
    """Keep OpenVINO and NNCF from phoning home: both send usage events to Google Analytics
    (`import openvino` alone sends one) unless the user opted out, and this tool works offline.
    Both fall back to a no-op stub when ``openvino_telemetry`` cannot be imported, which a
    ``None`` entry in ``sys.modules`` guarantees for this process. If something imported it
    before us, its senders are silenced instead."""
    loaded = sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]
    if loaded is not None:
        for name in ("send_event", "send_error", "send_stack_trace", "start_session", "end_session"):
            if hasattr(loaded.Telemetry, name):
                setattr(loaded.Telemetry, name, lambda *args, **kwargs: None)


class _OpenVinoRunner:
    def __init__(self, xml: Path) -> None:
        _block_telemetry()
        import openvino as ov

        core = ov.Core()
        # A compiled-blob cache next to the model: later processes compile in ~0.1 s, not
        # ~0.3 s. Best effort: a read-only model cache still loads, only a little slower.
        blobs = xml.parent / "compiled"
        try:
            blobs.mkdir(exist_ok=True)
            if os.access(blobs, os.W_OK):
                core.set_property({"CACHE_DIR": str(blobs)})
        except (OSError, RuntimeError):
            pass
        # Precision is left to OpenVINO: on CPUs with bf16 units it runs the parts that are not
        # int8 in bf16 (8 % faster here than f32, same cosine to the fp32 model).
        config = {"INFERENCE_NUM_THREADS": cores(), "PERFORMANCE_HINT": "LATENCY"}
        self._compiled = core.compile_model(str(xml), "CPU", config)
        self._request = self._compiled.create_infer_request()
        self.input_names = {name for port in self._compiled.inputs for name in port.get_names()}
        self.max_batch = 1 << 16  # static int8: a text's vector does not depend on its batch

    def __call__(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        # One request, reused: the caller (Embedder) serialises calls with its lock.
        result = self._request.infer(feed)
        return np.asarray(result[self._compiled.output(0)])


def openvino_runner(xml: Path) -> Runner:
    return _OpenVinoRunner(xml)


def quantize_openvino(
    onnx_file: Path, out_xml: Path, tokenize: Callable[[str], list[int]]
) -> None:
    """Statically int8-quantize the fp32 ONNX model with NNCF and save it as OpenVINO IR."""
    _block_telemetry()
    import nncf
    import openvino as ov
    from nncf.quantization.advanced_parameters import (
        AdvancedQuantizationParameters,
        AdvancedSmoothQuantParameters,
    )

    texts = calibration_texts()

    def feeds() -> Iterator[dict[str, np.ndarray]]:
        for text in texts:
            ids = np.array([tokenize(text)], dtype=np.int64)
            mask, types = np.ones_like(ids), np.zeros_like(ids)
            yield {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}

    model = ov.Core().read_model(str(onnx_file))
    quantized: Any = nncf.quantize(
        model,
        nncf.Dataset(list(feeds())),
        model_type=nncf.ModelType.TRANSFORMER,
        preset=nncf.QuantizationPreset.MIXED,
        subset_size=len(texts),
        advanced_parameters=AdvancedQuantizationParameters(
            smooth_quant_alphas=AdvancedSmoothQuantParameters(matmul=0.9)
        ),
    )
    ov.save_model(quantized, str(out_xml))


def calibration_texts() -> list[str]:
    """Single sentences and passages of a few sentences (both lengths the model sees), then
    paragraphs of Python's own documentation when this Python ships it."""
    lines = [
        line.strip()
        for line in CALIBRATION_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    texts = lines + [" ".join(lines[i : i + 8]) for i in range(0, len(lines), 4)]
    try:
        from pydoc_data.topics import topics
    except ImportError:  # some distributions strip it; the shipped text alone still works
        return texts
    paragraphs = [
        p.strip()
        for body in topics.values()
        for p in re.split(r"\n\s*\n", body)
        if len(p.strip()) > 80 and not p.startswith("   ")
    ]
    step = max(1, len(paragraphs) // _PYDOC_SAMPLES)
    return texts + paragraphs[::step][:_PYDOC_SAMPLES]
