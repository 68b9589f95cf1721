"""The optional LLM answerer: any OpenAI-compatible chat server through LangChain's `ChatOpenAI`.

Configuration (`[llm]` in regiostrat.toml or `REGIOSTRAT_LLM__…` variables, plus
`answer.backend = "llm"`):

* a hosted or self-run OpenAI-compatible server (vLLM, llama.cpp `llama-server`, LM Studio,
  OpenAI): `base_url` such as `http://localhost:8000/v1`, `model` as the server names it; the API
  key comes from `llm.api_key` or the `OPENAI_API_KEY` environment variable;
* Ollama through its OpenAI-compatible endpoint: `base_url = "http://localhost:11434/v1"`,
  `model = "llama3.1:8b"` (any pulled model); Ollama needs no key (a placeholder is sent).
  (LangChain's native `ChatOllama` lives in `langchain-ollama`, which this product does not
  need.)

The answer streams as it is generated; `verify` then checks every sentence against the passages
it cites (`assistant.verify`). Any failure — server unreachable, no first token (or no further
token) within `llm.timeout_s`, an HTTP error, an empty or uncited answer — raises `LLMError` with
a short German reason; the `Assistant` then shows the extractive answer with a notice. Retries are
off so the fallback comes quickly.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlparse

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant import prompts
from assistant.verify import VerifiedAnswer, cited_numbers, is_abstention, verify_answer
from regiostrat.embedders import Embedder
from regiostrat.errors import ConfigError, LLMError
from regiostrat.settings import LLMSettings
from regiostrat.types import Citation, Passage, Turn

PLACEHOLDER_API_KEY = "not-needed"  # local servers (Ollama, llama.cpp) ignore the key
MAX_REWRITE_CHARS = 500
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_REWRITE_PREFIX = re.compile(r"^(?:eigenständige\s+frage|frage|umformulierte\s+frage)\s*:\s*", re.I)
_QUOTES = "\"'„“”‚‘’«»"


def api_key_for(settings: LLMSettings) -> str:
    """The configured key, else OPENAI_API_KEY, else a placeholder for keyless local servers."""
    if settings.api_key is not None and settings.api_key.get_secret_value():
        return settings.api_key.get_secret_value()
    return os.environ.get("OPENAI_API_KEY") or PLACEHOLDER_API_KEY


def _content_text(content: Any) -> str:
    """The text of a message's content (a string, or a list of content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
        return "".join(parts)
    return ""


def strip_reasoning(text: str) -> str:
    """The answer without a reasoning model's `<think>…</think>` block."""
    return _THINK.sub("", text).strip()


class ChatLLMAnswerer:
    """Answers from retrieved passages with a chat model; implements `service.LLMAnswerer`."""

    def __init__(self, settings: LLMSettings, embedder: Embedder | None) -> None:
        if not settings.base_url or not settings.base_url.strip():
            raise ConfigError(
                "Für answer.backend = 'llm' fehlt llm.base_url, die Adresse eines "
                "OpenAI-kompatiblen Servers (z. B. http://localhost:11434/v1 für Ollama oder "
                "https://api.openai.com/v1); Umgebungsvariable REGIOSTRAT_LLM__BASE_URL."
            )
        parsed = urlparse(settings.base_url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(
                f"llm.base_url '{settings.base_url}' ist keine gültige http(s)-Adresse "
                "(Beispiel: http://localhost:11434/v1)."
            )
        self.settings = settings
        self.base_url = settings.base_url.strip().rstrip("/")
        self.embedder = embedder
        self._local = threading.local()  # last_verification, per thread (concurrent answers)
        self._models: dict[bool, Any] = {}
        self._lock = threading.Lock()

    @property
    def last_verification(self) -> VerifiedAnswer | None:
        """The result of this thread's last `verify`/`finalize` (its `notice` names removed
        sentences and dropped markers)."""
        return getattr(self._local, "verification", None)

    # -- the chat model ----------------------------------------------------------------------------
    def _model(self, streaming: bool) -> Any:
        """The `ChatOpenAI` client, built on first use (importing langchain_openai is slow)."""
        with self._lock:
            if streaming not in self._models:
                from langchain_openai import ChatOpenAI
                from pydantic import SecretStr

                s = self.settings
                host = urlparse(self.base_url).hostname or ""
                # LangChain sends `max_completion_tokens`; many local servers only read
                # `max_tokens`, so other hosts get both.
                extra_body = None if host.endswith("openai.com") else {"max_tokens": s.max_tokens}
                self._models[streaming] = ChatOpenAI(
                    model=s.model,
                    base_url=self.base_url,
                    api_key=SecretStr(api_key_for(s)),
                    timeout=s.timeout_s,
                    max_retries=0,  # the extractive fallback comes quickly
                    temperature=s.temperature,
                    max_tokens=s.max_tokens,
                    streaming=streaming,
                    stream_usage=False,
                    use_responses_api=False,
                    extra_body=extra_body,
                )
            return self._models[streaming]

    def _error(self, exc: BaseException) -> LLMError:
        """A German `LLMError` for whatever the client raised."""
        import httpx
        import openai

        if isinstance(exc, LLMError):
            return exc
        if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
            return LLMError(f"Zeitüberschreitung nach {self.settings.timeout_s:g} s")
        if isinstance(exc, openai.APIConnectionError | httpx.TransportError | ConnectionError):
            return LLMError(f"Server nicht erreichbar: {self.base_url}")
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return LLMError(
                f"Zugriff verweigert (HTTP {exc.status_code}), API-Schlüssel prüfen "
                "(llm.api_key oder OPENAI_API_KEY)"
            )
        if isinstance(exc, openai.NotFoundError):
            return LLMError(
                f"Modell '{self.settings.model}' oder Endpunkt nicht gefunden (HTTP 404)"
            )
        if isinstance(exc, openai.RateLimitError):
            return LLMError("zu viele Anfragen (HTTP 429)")
        if isinstance(exc, openai.APIStatusError):
            return LLMError(f"HTTP-Fehler {exc.status_code}")
        return LLMError(f"unverständliche Antwort des Servers ({type(exc).__name__})")

    # -- prompts -----------------------------------------------------------------------------------
    @staticmethod
    def messages(
        question: str,
        passages: Sequence[Passage],
        history: Sequence[Turn] = (),
        key: str | None = None,
    ) -> list[BaseMessage]:
        """System rules, then the delimited passages, the conversation and the question."""
        key = key or prompts.new_key()
        return [
            SystemMessage(content=prompts.system_prompt(key)),
            HumanMessage(content=prompts.user_prompt(question, passages, history, key)),
        ]

    # -- answering ---------------------------------------------------------------------------------
    def stream(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Iterator[str]:
        """Text deltas of the answer as the server sends them; `LLMError` on any failure."""
        messages = self.messages(question, passages, history)
        received = False
        try:
            model = self._model(streaming=True)
            for chunk in model.stream(messages):
                delta = _content_text(chunk.content)
                if delta:
                    received = True
                    yield delta
        except Exception as exc:
            raise self._error(exc) from exc
        if not received:
            raise LLMError("leere Antwort")

    def finalize(
        self, text: str, question: str, passages: Sequence[Passage]
    ) -> tuple[str, list[Citation], bool]:
        """The verified text, its citations and whether it abstains (see `verify`)."""
        verified = self.verify(text, passages)
        return verified.text, verified.citations, verified.abstained

    def verify(self, text: str, passages: Sequence[Passage]) -> VerifiedAnswer:
        """Check the model's answer against the passages; `LLMError` for an unusable answer.

        The result is also kept as `last_verification` (its `notice` says how many sentences
        were removed).
        """
        text = strip_reasoning(text or "")
        if not text:
            raise LLMError("leere Antwort")
        if not cited_numbers(text) and not is_abstention(text):
            raise LLMError("Antwort ohne Quellenangaben")
        try:
            verified = verify_answer(text, passages, self.embedder)
        except Exception as exc:  # the embedder failing must not cost the user the answer
            raise LLMError(f"Prüfung der Antwort fehlgeschlagen ({type(exc).__name__})") from exc
        self._local.verification = verified
        return verified

    def answer(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> VerifiedAnswer:
        """Stream to the end and verify: the non-interactive path (evaluation, scripts)."""
        text = "".join(self.stream(question, passages, history))
        return self.verify(text, passages)

    # -- follow-ups --------------------------------------------------------------------------------
    def rewrite_followup(self, question: str, history: Sequence[Turn]) -> str:
        """The follow-up `question` as a standalone question, using the conversation."""
        question = question.strip()
        if not history or not question:
            return question
        messages = [
            SystemMessage(content=prompts.REWRITE_SYSTEM_PROMPT),
            HumanMessage(content=prompts.rewrite_user_prompt(question, history)),
        ]
        try:
            result = self._model(streaming=False).invoke(messages)
        except Exception as exc:
            raise self._error(exc) from exc
        text = strip_reasoning(_content_text(result.content))
        line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        line = _REWRITE_PREFIX.sub("", line).strip().strip(_QUOTES).strip()
        if not line:
            raise LLMError("leere Antwort")
        if len(line) > MAX_REWRITE_CHARS:
            raise LLMError("unbrauchbare Umformulierung (zu lang)")
        return line
