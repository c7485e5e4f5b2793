"""Model providers behind one interface: `provider.complete(...) -> Completion`.

    anthropic           the official `anthropic` SDK, Messages API; the answer is forced
                        through a tool whose input schema is the answer schema (tool use)
    openai-compatible   the `openai` SDK's chat completions against LLM_BASE_URL (vLLM,
                        llama.cpp, Ollama, LiteLLM, OpenAI...), with response_format
                        json_schema (structured output)

One call is one request: the SDKs' own retries are off (max_retries=0) so the runner alone
decides on retries and backoff (429, 5xx, timeouts: `Transient`; other refusals:
`Refused`). Credentials come only from settings, never from the SDKs' environment lookups.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Protocol

from django.conf import settings

TOOL_NAME = "report_review"
PROVIDERS = ("anthropic", "openai-compatible")


@dataclasses.dataclass
class Completion:
    text: str  # the answer as JSON text (tool input serialised for Anthropic)
    input_tokens: int
    output_tokens: int
    truncated: bool  # stopped at the output limit


class ProviderError(Exception):
    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


class Transient(ProviderError):
    """Worth retrying after a pause: rate limited (429), server error (5xx), timeout, connection lost."""


class Refused(ProviderError):
    """Not worth retrying: bad key, unknown model, request refused (4xx other than 429)."""


class Provider(Protocol):
    name: str
    model: str

    def complete(self, *, system: str, user: str, schema: dict[str, Any], max_tokens: int) -> Completion: ...


@dataclasses.dataclass(frozen=True)
class Config:
    provider: str
    model: str
    base_url: str
    api_key: str
    timeout: float

    @classmethod
    def from_settings(cls) -> Config:
        return cls(provider=settings.LLM_PROVIDER, model=settings.LLM_MODEL, base_url=settings.LLM_BASE_URL,
                   api_key=settings.LLM_API_KEY, timeout=float(settings.LLM_TIMEOUT_SECONDS))

    def problem(self) -> str | None:
        """Why no review can run with this configuration (None when it can)."""
        if not self.provider:
            return "No LLM provider is configured on this server (LLM_PROVIDER)"
        if self.provider not in PROVIDERS:
            return f"LLM_PROVIDER must be one of {', '.join(PROVIDERS)}, not {self.provider!r}"
        if not self.model:
            return "No model is configured (LLM_MODEL)"
        if self.provider == "anthropic" and not self.api_key:
            return "The Anthropic provider needs LLM_API_KEY"
        if self.provider == "openai-compatible" and not self.base_url:
            return "The OpenAI-compatible provider needs LLM_BASE_URL"
        return None


def configured() -> bool:
    return Config.from_settings().problem() is None


def create(config: Config) -> Provider:
    if config.provider == "anthropic":
        return AnthropicProvider(config)
    return OpenAICompatibleProvider(config)


def _retry_after(response: Any) -> float | None:
    try:
        value = response.headers.get("retry-after")
        return max(0.0, float(value)) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


def _status_error(exc: Any, provider: str) -> ProviderError:
    status = getattr(exc, "status_code", None)
    response = getattr(exc, "response", None)
    message = f"{provider} answered HTTP {status}"
    if status == 429 or (status is not None and status >= 500):
        return Transient(message, status=status, retry_after=_retry_after(response))
    return Refused(message, status=status)


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, config: Config):
        import anthropic

        self.model = config.model
        self._sdk = anthropic
        kwargs: dict[str, Any] = {"api_key": config.api_key, "max_retries": 0, "timeout": config.timeout}
        if config.base_url:
            kwargs["base_url"] = config.base_url
        self._client = anthropic.Anthropic(**kwargs)

    def complete(self, *, system: str, user: str, schema: dict[str, Any], max_tokens: int) -> Completion:
        sdk = self._sdk
        try:
            message = self._client.messages.create(
                model=self.model, max_tokens=max_tokens, system=system,
                messages=[{"role": "user", "content": user}],
                tools=[{"name": TOOL_NAME, "description": "Report the review of the spreadsheet.",
                        "input_schema": schema}],
                tool_choice={"type": "tool", "name": TOOL_NAME},
            )
        except sdk.APITimeoutError:
            raise Transient("The model did not answer in time") from None
        except sdk.APIStatusError as exc:
            raise _status_error(exc, "Anthropic") from None
        except sdk.APIConnectionError:
            raise Transient("The model server could not be reached") from None
        except sdk.AnthropicError as exc:  # an answer the SDK itself cannot read
            raise Transient(f"Anthropic's answer could not be read ({type(exc).__name__})") from None
        text = ""
        for block in message.content or []:
            if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == TOOL_NAME:
                text = json.dumps(block.input, ensure_ascii=False)
                break
        else:
            text = "".join(getattr(block, "text", "") or "" for block in message.content or [])
        usage = message.usage
        return Completion(
            text=text, input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "output_tokens", 0) or 0), truncated=message.stop_reason == "max_tokens",
        )


class OpenAICompatibleProvider:
    name = "openai-compatible"

    def __init__(self, config: Config):
        import openai

        self.model = config.model
        self._sdk = openai
        self._client = openai.OpenAI(api_key=config.api_key or "unused", base_url=config.base_url, max_retries=0,
                                     timeout=config.timeout)

    def complete(self, *, system: str, user: str, schema: dict[str, Any], max_tokens: int) -> Completion:
        sdk = self._sdk
        try:
            response = self._client.chat.completions.create(
                model=self.model, max_tokens=max_tokens,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_format={"type": "json_schema",
                                 "json_schema": {"name": TOOL_NAME, "schema": schema, "strict": False}},
            )
        except sdk.APITimeoutError:
            raise Transient("The model did not answer in time") from None
        except sdk.APIStatusError as exc:
            raise _status_error(exc, "The model server") from None
        except sdk.APIConnectionError:
            raise Transient("The model server could not be reached") from None
        except sdk.OpenAIError as exc:
            raise Transient(f"The model server's answer could not be read ({type(exc).__name__})") from None
        choice = response.choices[0] if response.choices else None
        text = (choice.message.content or "") if choice is not None and choice.message is not None else ""
        usage = response.usage
        return Completion(
            text=text, input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            truncated=choice is not None and choice.finish_reason == "length",
        )
