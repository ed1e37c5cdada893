"""Conversations on each database: turns numbered in order (also when two arrive at once),
titled by the first question, listed per principal, deleted with their turns."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from verirag import Config
from verirag.errors import NotFound
from verirag.store import Conversations, Database
from verirag.store.db import sqlite_url


def store(config: Config, tmp_path: Path) -> Conversations:
    return Conversations(Database(config.catalog or sqlite_url(tmp_path / "catalog.db")))


def turn(conversations: Conversations, cid: str, question: str) -> int:
    return conversations.add_turn(
        cid,
        question=question,
        standalone=question,
        rewrite="as asked",
        answer_id="a" * 32,
        answer="An answer.",
    )


def test_turns_titles_listing_and_delete(config: Config, tmp_path: Path) -> None:
    conversations = store(config, tmp_path)
    mine = conversations.start("key-a")
    named = conversations.start("key-a", title="  Leave   policy ")
    theirs = conversations.start("key-b")
    assert turn(conversations, mine, "What is the parental leave policy?") == 1
    assert turn(conversations, mine, "How long does it last?") == 2
    turn(conversations, named, "Who approves it?")
    got = conversations.get(mine)
    assert got.title == "What is the parental leave policy?"  # named by its first question
    assert [t.n for t in got.turns] == [1, 2] and got.n_turns == 2
    assert got.turns[1].question == "How long does it last?"
    assert conversations.get(named).title == "Leave policy"  # a given title stays
    listed = conversations.list(principal="key-a")
    assert [c.conversation_id for c in listed] == [named, mine]  # most recent first
    assert [c.n_turns for c in listed] == [1, 2]
    assert [c.conversation_id for c in conversations.list(principal="key-b")] == [theirs]
    assert len(conversations.list(everyone=True)) == 3
    conversations.delete(mine)
    with pytest.raises(NotFound):
        conversations.get(mine)
    with pytest.raises(NotFound):
        conversations.delete(mine)


def test_turns_arriving_together_each_get_a_number(config: Config, tmp_path: Path) -> None:
    conversations = store(config, tmp_path)
    cid = conversations.start("key-a")
    numbers: list[int] = []
    threads = [
        threading.Thread(target=lambda i=i: numbers.append(turn(conversations, cid, f"q{i}")))
        for i in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]
    assert sorted(t.question for t in conversations.get(cid).turns) == [f"q{i}" for i in range(6)]
