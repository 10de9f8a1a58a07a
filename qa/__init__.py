"""Bayyina — answers from your documents, in Arabic and English, with every claim cited.

The public API. ``import qa`` is light: models, FAISS and BM25 load only when used.
"""

from index.embed import DEFAULT_EMBEDDER, Embedder, SentenceTransformerEmbedder, cache_dir
from index.config import IndexConfig
from index.hybrid import Index
from index.types import AddReport, Hit, IndexInfo, ShardInfo, SourceInfo
from qa.abstention import AbstentionModel, Decision, Signals
from qa.assistant import MAX_QUESTION_CHARS, Assistant, question_language
from qa.llm.base import ChatModel, Generation, LLMError, Message
from qa.llm.mistral import MistralRsChat
from qa.llm.models import DEFAULT_LOCAL_MODEL, LOCAL_MODELS, LocalModel, local_model_path
from qa.readers.base import Evidence, Reader, Reading, ReadingChunk
from qa.readers.extractive import ExtractiveReader
from qa.readers.factory import READERS, ReaderOptions, ReaderStatus, make_reader, reader_status
from qa.readers.llm import LLMReader
from qa.question_form import question_type
from qa.types import Answer, AnswerChunk, Citation, Timings, Turn
from qa.api import (bundled_corpus_path, build_index_ray, default_index, default_index_dir, load_embedder,
                    open_index)
from qa.errors import (
    BayyinaError,
    IndexStoreError,
    IndexMismatchError,
    MissingDependencyError,
    ModelError,
    QuestionError,
    SourceError,
)
from sources.chunking import ChunkConfig
from sources.loaders import LoadReport, Skipped, load, load_paths
from sources.text import detect_language, normalize, tokenize
from sources.types import Document, Passage

__version__ = "0.1.0"

# The public face: what a user needs to ask, index, choose a reader, plug in their own pieces
# (the Protocols) and catch errors. Everything else imported above stays reachable as ``qa.X``
# for the CLI, the evaluation harness and extension code, but is not promised here.
__all__ = [
    "Assistant", "Answer", "AnswerChunk", "Citation",
    "Index", "IndexConfig", "ChunkConfig", "Document", "Hit",
    "load", "load_embedder", "open_index", "default_index", "bundled_corpus_path",
    "make_reader", "ReaderOptions", "READERS", "ExtractiveReader", "OpenAIChat",
    "Reader", "ChatModel", "Embedder",
    "BayyinaError", "QuestionError", "SourceError", "ModelError", "MissingDependencyError", "IndexStoreError",
    "__version__",
]


def __getattr__(name: str):
    # LangChain loads only when its chat-model adapters are asked for.
    if name in ("OpenAIChat", "LangChainChat"):
        from qa import chain

        return getattr(chain, name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
