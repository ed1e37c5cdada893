"""Any OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server, OpenAI): streaming,
timeouts, retries with backoff; JSON-Schema output via ``response_format``; on a llama.cpp
server, the answer format held by a grammar (``grammar=True``)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import httpx
import jsonschema

from verirag._http import post
from verirag.generation._base import Generation, GenerationError, Source, TokenSink
from verirag.generation.followup import rewrite_prompt
from verirag.generation.prompt import citation_grammar, messages


class OpenAIChat:
    def __init__(
        self,
        model: str,
        base_url: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 120.0,
        retries: int = 2,
        max_tokens: int = 512,
        context_tokens: int = 3000,
        transport: httpx.BaseTransport | None = None,
        grammar: bool = False,
    ) -> None:
        key = os.environ.get(api_key_env, "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        # A down endpoint fails fast on connect; a slow model may take the whole read timeout.
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
        )
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.model_id = f"openai:{model}@{self.base_url}"
        self.retries = retries
        self.max_tokens = max_tokens
        self.context_tokens = context_tokens
        # llama.cpp's server takes a GBNF grammar in the request; other servers do not.
        self.grammar = grammar

    @classmethod
    def from_spec(cls, spec: str) -> OpenAIChat:
        """``openai:MODEL@BASE_URL``; the key comes from ``$OPENAI_API_KEY`` (or the variable
        named by ``$VERIRAG_LLM_KEY_ENV``)."""
        model, _, url = spec.removeprefix("openai:").partition("@")
        if not model or not url:
            raise ValueError(f"{spec!r}: expected openai:MODEL@BASE_URL")
        return cls(model, url, api_key_env=os.environ.get("VERIRAG_LLM_KEY_ENV", "OPENAI_API_KEY"))

    def generate(
        self,
        question: str,
        sources: Sequence[Source],
        *,
        schema: dict[str, Any] | None = None,
        on_token: TokenSink | None = None,
    ) -> Generation:
        prompt = messages(question, sources, schema=schema)
        if schema is None:
            extra = {"grammar": citation_grammar(sources)} if self.grammar and sources else {}
            return self._complete(prompt, on_token=on_token, extra=extra)
        problem = ""
        spent_in = spent_out = 0  # a retry costs tokens too
        for _ in range(2):  # invalid output is retried once
            generation = self._complete(prompt, schema=schema)
            spent_in += generation.tokens_in
            spent_out += generation.tokens_out
            try:
                jsonschema.validate(json.loads(generation.text), schema)
                generation.tokens_in, generation.tokens_out = spent_in, spent_out
                return generation
            except (json.JSONDecodeError, jsonschema.ValidationError) as exc:
                problem = getattr(exc, "message", None) or str(exc)
        raise GenerationError(
            f"{self.model_id} did not return JSON valid against the schema: {problem}"
        )

    def rewrite(self, question: str, earlier: Sequence[str]) -> str:
        """``question`` rewritten as a standalone question from the ``earlier`` ones."""
        prompt = rewrite_prompt(question, earlier)
        return self._complete(prompt, extra={"max_tokens": 96}).text.strip()

    def _complete(
        self,
        prompt: list[dict[str, str]],
        *,
        schema: dict[str, Any] | None = None,
        on_token: TokenSink | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Generation:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": prompt,
            "temperature": 0,
            "max_tokens": self.max_tokens,
            **(extra or {}),
        }
        if schema is not None:
            payload["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": schema, "strict": True},
            }
        what = f"chat endpoint {self.base_url}"
        if on_token is None:
            try:
                body = post(
                    self.client, "/chat/completions", payload, retries=self.retries, what=what
                ).json()
            except RuntimeError as exc:
                raise GenerationError(str(exc)) from exc
            usage = body.get("usage") or {}
            return Generation(
                text=body["choices"][0]["message"].get("content") or "",
                model=self.model_id,
                tokens_in=int(usage.get("prompt_tokens", 0)),
                tokens_out=int(usage.get("completion_tokens", 0)),
                prompt=prompt,
            )
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
        parts: list[str] = []
        usage = {}
        try:
            response = post(
                self.client,
                "/chat/completions",
                payload,
                retries=self.retries,
                what=what,
                stream=True,
            )
            try:
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line.removeprefix("data:").strip()
                    if data == "[DONE]":
                        break
                    event = json.loads(data)
                    usage = event.get("usage") or usage
                    for choice in event.get("choices") or []:
                        piece = (choice.get("delta") or {}).get("content") or ""
                        if piece:
                            parts.append(piece)
                            on_token(piece)
            finally:
                response.close()
        except (RuntimeError, httpx.HTTPError) as exc:
            raise GenerationError(f"{what}: {exc}") from exc
        return Generation(
            text="".join(parts),
            model=self.model_id,
            tokens_in=int(usage.get("prompt_tokens", 0)),
            tokens_out=int(usage.get("completion_tokens", 0)),
            prompt=prompt,
        )
