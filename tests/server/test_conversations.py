"""Conversations over HTTP: a follow-up in a conversation is answered from it and kept as a
turn with its standalone question; a conversation is its principal's alone."""

from __future__ import annotations

from tests.server.conftest import Server


def test_a_conversation_answers_follow_ups_and_is_its_principals(server: Server) -> None:
    with server.client(server.outsider) as otto, server.client(server.hr) as hana:
        started = otto.post("/api/conversations", json={})
        assert started.status_code == 201
        cid = started.json()["conversation_id"]
        first = otto.post(
            "/api/ask",
            json={"question": "How are refunds paid?", "conversation_id": cid},
        ).json()
        follow = otto.post(
            "/api/ask", json={"question": "How long does it take?", "conversation_id": cid}
        ).json()
        assert first["conversation_id"] == follow["conversation_id"] == cid
        assert follow["rewrite"] == "carried terms"
        assert follow["standalone_question"] == "How long does it take? (refunds paid)"
        kept = otto.get(f"/api/conversations/{cid}").json()
        assert kept["title"] == "How are refunds paid?" and kept["n_turns"] == 2
        assert [t["question"] for t in kept["turns"]] == [
            "How are refunds paid?",
            "How long does it take?",
        ]
        assert kept["turns"][1]["standalone_question"] == follow["standalone_question"]
        assert kept["turns"][1]["answer_id"] == follow["answer_id"]
        trace = otto.get(f"/api/audit/{follow['answer_id']}").json()
        assert trace["standalone_question"] == follow["standalone_question"]
        assert trace["question"] == "How long does it take?"
        assert cid in [c["conversation_id"] for c in otto.get("/api/conversations").json()]

        # Another principal neither sees it nor can add to it or delete it.
        assert cid not in [c["conversation_id"] for c in hana.get("/api/conversations").json()]
        assert hana.get(f"/api/conversations/{cid}").status_code == 404
        intruding = {"question": "And for damaged items?", "conversation_id": cid}
        assert hana.post("/api/ask", json=intruding).status_code == 404
        assert hana.delete(f"/api/conversations/{cid}").status_code == 404
        both = {"question": "x?", "conversation_id": cid, "history": ["y?"]}
        assert otto.post("/api/ask", json=both).status_code == 422

        assert otto.delete(f"/api/conversations/{cid}").status_code == 204
        assert otto.get(f"/api/conversations/{cid}").status_code == 404
