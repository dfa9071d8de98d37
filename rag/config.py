"""The one typed Settings object. Built at the edge (CLI, app, API) and passed down.

Every field can be set with an environment variable ``RAG_<FIELD>`` or in a ``.env`` file.
Nothing here reads the environment at import time; ``Settings()`` does, when called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_cache() -> Path:
    return Path.home() / ".cache" / "trilateral-rag"


class Settings(BaseSettings):
    """All knobs of the assistant, with offline defaults."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_", env_file=".env", extra="ignore", validate_default=True
    )

    # --- where things live -------------------------------------------------------------
    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Folder of source documents.")
    index_dir: Path = Field(
        PROJECT_ROOT / "index", description="Folder of the persisted index (Chroma + keyword)."
    )
    chroma_url: str = Field(
        "", description="Chroma server URL (http://host:port). Empty = embedded store in index_dir."
    )
    collection: str = Field("trilateral", description="Chroma collection name.")
    model_cache_dir: Path = Field(
        default_factory=_default_cache,
        description="Where the exported, quantized embedding model is cached (re-created if missing).",
    )

    # --- embedding -----------------------------------------------------------------------
    embedding_model: str = Field(
        "all-MiniLM-L6-v2", description="Name recorded in the index for the embedding model."
    )
    embedding_model_path: str = Field(
        "", description="Folder of a sentence-transformers model. Empty = the bundled one."
    )
    embedding_backend: Literal["auto", "openvino-int8", "onnx-int8", "torch"] = Field(
        "auto",
        description="auto: the backend the index was built with, and for a new index the fastest "
        "int8 runtime on this CPU (onnx-int8 on x86 with AVX2 but no VNNI/AMX, else openvino-int8); "
        "openvino-int8: calibrated int8 model on OpenVINO; onnx-int8: dynamically quantized ONNX "
        "on onnxruntime, one text per run; torch: plain fp32.",
    )
    embed_batch_size: int = Field(
        16, ge=1, le=1024, description="Texts per embedding batch (onnx-int8 runs one at a time)."
    )

    # --- chunking ------------------------------------------------------------------------
    chunk_tokens: int = Field(
        200, ge=32, le=254, description="Max tokens per chunk (model window is 256)."
    )
    chunk_overlap_tokens: int = Field(
        24, ge=0, le=128, description="Tokens of overlap between neighbouring chunks."
    )
    sentence_vectors: bool = Field(
        True,
        description="Embed each chunk's sentences at index time and keep them with the chunk: "
        "an extractive answer then embeds only its question while the user waits (4-6x faster "
        "on a 2-core AVX2 CPU), for ~2.4x the indexing time and disk. Off: new chunks are "
        "stored without them, and answers embed what they lack. Turning it on for an existing "
        "index takes `rag index --rebuild`.",
    )
    max_file_mb: float = Field(100.0, gt=0, description="Files larger than this are rejected.")

    # --- retrieval -----------------------------------------------------------------------
    top_k: int = Field(6, ge=1, le=100, description="Passages retrieved per question.")
    candidates: int = Field(
        100, ge=1, le=1000, description="Candidates taken from each of dense and keyword search."
    )
    dense_weight: float = Field(
        0.5, ge=0, le=1, description="Weight of dense scores in hybrid fusion (keyword = 1-w)."
    )
    exact_search_max_chunks: int = Field(
        100_000,
        ge=0,
        description="Up to this many chunks in an embedded index, dense search compares the "
        "question with every chunk's vector, held in memory (1.5 KB a chunk, read once per "
        "process and again after a sync that changes the chunks: ~0.7 s for 11k chunks): exact, "
        "and 6-9 ms faster a search than asking Chroma's HNSW index on a 2-core CPU. A larger "
        "index, or a Chroma server (which other clients may write), is searched by HNSW. "
        "0: always HNSW.",
    )
    hnsw_ef_search: int = Field(256, ge=10, description="HNSW search depth (higher = better recall).")
    hnsw_ef_construction: int = Field(256, ge=10, description="HNSW build depth.")

    # --- answering -----------------------------------------------------------------------
    abstain_threshold: float = Field(
        0.34,
        ge=0,
        le=1,
        description=(
            "Minimum evidence score of the best sentence; below it the assistant abstains. "
            "Calibrated with bench/answer_bench.py on the dev QA set and bench/*_qa.jsonl: the "
            "threshold with the most questions right (answered correctly or rightly refused), "
            "the dev set entirely right; the bench prints the sweep."
        ),
    )
    max_answer_sentences: int = Field(3, ge=1, le=10, description="Sentences in an extractive answer.")
    llm_provider: Literal["none", "ollama", "openai"] = Field(
        "none", description="Optional generative backend. none = extractive answers only."
    )
    llm_model: str = Field("llama3.1", description="Model name for the LLM backend.")
    llm_base_url: str = Field(
        "", description="LLM server URL (Ollama: http://127.0.0.1:11434; OpenAI-compatible: .../v1)."
    )
    llm_api_key: str = Field("not-needed", description="API key for OpenAI-compatible servers.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds to wait for the LLM server.")

    # --- web app -------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address the web app binds to.")
    port: int = Field(7860, ge=1, le=65535, description="Port of the web app.")
    auth: str = Field(
        "", description="user:password required to log in; mandatory when host is not loopback."
    )
    max_upload_mb: float = Field(50.0, gt=0, description="Largest file accepted by the upload.")

    @field_validator("corpus_dir", "index_dir", "model_cache_dir", mode="after")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        return v.expanduser().resolve()

    @field_validator("chroma_url")
    @classmethod
    def _url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if v and not v.startswith(("http://", "https://")):
            raise ValueError(f"RAG_CHROMA_URL must start with http:// or https:// (got {v!r})")
        return v

    @model_validator(mode="after")
    def _overlap_fits(self) -> Settings:
        # A larger overlap would make each chunk repeat most of the previous one (and the index
        # many times the corpus), without improving recall.
        if self.chunk_overlap_tokens * 2 > self.chunk_tokens:
            raise ValueError(
                f"RAG_CHUNK_OVERLAP_TOKENS ({self.chunk_overlap_tokens}) must be at most half of "
                f"RAG_CHUNK_TOKENS ({self.chunk_tokens})"
            )
        return self

    def display_path(self, source: str) -> str:
        """A corpus-relative source as a path openable from the project root (or absolute)."""
        full = self.corpus_dir / source
        try:
            return full.relative_to(PROJECT_ROOT).as_posix()
        except ValueError:
            return full.as_posix()
