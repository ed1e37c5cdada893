"""The OpenAI endpoint driven by the official ``openai`` package against a real server:
models, chat (plain, streamed with usage, multi-turn), errors as OpenAI's clients read them,
the parameters it honours, and embeddings from the knowledge base's embedder."""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator

import numpy as np
import openai
import pytest

from tests.server.conftest import Server
from verirag.embedding import load_embedder

QUESTION = "How many days do I have to return an item?"


@pytest.fixture
def client(server: Server) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key=server.outsider, base_url=server.url + "/v1", max_retries=0) as c:
        yield c


def test_models_list_and_retrieve(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["verirag", "all-MiniLM-L6-v2-int8"]
    assert client.models.retrieve("verirag").id == "verirag"
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("gpt-4o")
    assert missing.value.code == "model_not_found" and "gpt-4o" in missing.value.message


def test_chat_plain_and_streamed_with_real_usage(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="verirag", messages=[{"role": "user", "content": QUESTION}]
    )
    content = reply.choices[0].message.content or ""
    assert "30 days" in content and reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert reply.usage.prompt_tokens > 20 and reply.usage.completion_tokens > 5
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens

    stream = client.chat.completions.create(
        model="verirag",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == content
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == reply.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])


def test_a_follow_up_is_answered_from_the_conversation(client: openai.OpenAI) -> None:
    alone = client.chat.completions.create(
        model="verirag", messages=[{"role": "user", "content": "How long does it take?"}]
    )
    follow_up = client.chat.completions.create(
        model="verirag",
        messages=[
            {"role": "user", "content": "Tell me about refunds to the original payment method."},
            {"role": "assistant", "content": "Refunds go to the original payment method."},
            {"role": "user", "content": "How long does it take?"},
        ],
    )
    extra = follow_up.model_extra or {}
    assert extra["verirag"]["rewrite"] == "carried terms"
    standalone = extra["verirag"]["standalone_question"]
    assert standalone.startswith("How long does it take?") and "refunds" in standalone
    cited = {c["doc_id"] for c in extra["citations"]}
    assert "refund-policy.md" in cited, follow_up.choices[0].message.content
    assert (alone.model_extra or {})["verirag"]["rewrite"] == "as asked"


def test_max_tokens_and_stop_cut_the_reply(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    full = client.chat.completions.create(model="verirag", messages=messages)
    short = client.chat.completions.create(model="verirag", messages=messages, max_tokens=5)
    assert short.choices[0].finish_reason == "length"
    assert short.usage is not None and 0 < short.usage.completion_tokens <= 5
    assert (full.choices[0].message.content or "").startswith(
        short.choices[0].message.content or "x"
    )
    stopped = client.chat.completions.create(model="verirag", messages=messages, stop=["Sources:"])
    assert "Sources:" not in (stopped.choices[0].message.content or "")
    assert "30 days" in (stopped.choices[0].message.content or "")
    warm = client.chat.completions.create(model="verirag", messages=messages, temperature=1.5)
    assert warm.choices[0].message.content == full.choices[0].message.content  # documented


def test_errors_are_openai_errors(server: Server, client: openai.OpenAI) -> None:
    user = [{"role": "user", "content": QUESTION}]
    with pytest.raises(openai.NotFoundError) as model:
        client.chat.completions.create(model="gpt-4o", messages=user)
    assert model.value.code == "model_not_found"
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    with pytest.raises(openai.BadRequestError) as tools:
        client.chat.completions.create(model="verirag", messages=user, tools=[tool])
    assert tools.value.param == "tools" and "/mcp/" in tools.value.message
    with pytest.raises(openai.BadRequestError) as many:
        client.chat.completions.create(model="verirag", messages=user, n=2)
    assert many.value.param == "n"
    with pytest.raises(openai.BadRequestError) as invalid:
        client.chat.completions.create(model="verirag", messages=user, temperature=7)
    assert invalid.value.param == "temperature"
    assert (
        isinstance(invalid.value.body, dict)
        and invalid.value.body["type"] == "invalid_request_error"
    )
    with pytest.raises(openai.BadRequestError) as last:
        client.chat.completions.create(
            model="verirag", messages=[*user, {"role": "assistant", "content": "30 days."}]
        )
    assert last.value.param == "messages"
    wrong = openai.OpenAI(api_key="vr_wrong", base_url=server.url + "/v1", max_retries=0)
    with wrong, pytest.raises(openai.AuthenticationError) as auth:
        wrong.models.list()
    assert auth.value.code == "invalid_api_key" and "API key" in auth.value.message


def test_embeddings_are_the_knowledge_base_embedder(client: openai.OpenAI) -> None:
    texts = ["refund to the original payment method", "parental leave"]
    result = client.embeddings.create(model="verirag", input=texts, encoding_format="float")
    expected = load_embedder("minilm").embed(texts)
    got = np.array([d.embedding for d in result.data], dtype=np.float32)
    assert got.shape == (2, 384) and np.allclose(got, expected, atol=1e-5)
    assert result.model == "all-MiniLM-L6-v2-int8" and result.usage.prompt_tokens > 4
    # The client's default asks for base64 and decodes it back to floats.
    packed = client.embeddings.create(model="all-MiniLM-L6-v2-int8", input=texts[0])
    assert np.allclose(packed.data[0].embedding, expected[0], atol=1e-5)
    with pytest.raises(openai.BadRequestError) as dims:
        client.embeddings.create(model="verirag", input=texts, dimensions=128)
    assert dims.value.param == "dimensions"


def test_embeddings_in_base64_are_little_endian_float32(server: Server) -> None:
    with server.client(server.outsider) as otto:
        body = {"input": "parental leave", "encoding_format": "base64"}
        raw = otto.post("/v1/embeddings", json=body).json()["data"][0]["embedding"]
    floats = struct.unpack("<384f", base64.b64decode(raw))
    assert np.allclose(floats, load_embedder("minilm").embed(["parental leave"])[0], atol=1e-6)
