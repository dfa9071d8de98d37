"""One exception tree for the library. Every message says what to do next."""

from __future__ import annotations


class RagError(Exception):
    """Base class of every error the library raises on purpose."""


class ConfigError(RagError):
    """A setting has a value the library cannot use."""


class IndexMissingError(RagError):
    """No index has been built yet at the configured location."""


class IndexBusyError(RagError):
    """Another process is writing to the same index."""


class ModelMismatchError(RagError):
    """The index was built with a different embedding model than this run uses."""


class StoreUnavailableError(RagError):
    """The Chroma server (or embedded store) cannot be reached or opened."""


class LoaderError(RagError):
    """One document could not be read; the message says why and what to do."""


class LLMUnavailableError(RagError):
    """The configured LLM server did not answer."""
