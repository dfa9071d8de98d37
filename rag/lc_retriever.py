"""The hybrid searcher as a LangChain ``BaseRetriever``: ``Document``s with scores in metadata."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .retrieve import Hit, Mode
from .sentence_vectors import KEY


def hit_to_document(hit: Hit) -> Document:
    meta = {k: v for k, v in hit.metadata.items() if k != KEY}  # an index's cache, not data
    meta.update(id=hit.id, score=hit.score, dense_score=hit.dense, keyword_score=hit.keyword)
    return Document(page_content=hit.text, metadata=meta, id=hit.id)


class HybridRetriever(BaseRetriever):
    """LangChain retriever over the hybrid searcher; ``k`` documents with scores in metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Any
    k: int = 6
    mode: Mode = "hybrid"

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        # ``k`` may also be given per call: ``retriever.invoke(query, k=3)`` (LangChain convention).
        return [hit_to_document(h) for h in self.searcher.search(query, k or self.k, self.mode)]
