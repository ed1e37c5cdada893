"""The drift benchmark: ingest a corpus, ask, change documents (facts changed, sections
removed, documents deleted), re-ingest, ask again, and ask as of before the change.

Reported: fresh-answer rate (after the change, answers cite the document's new version and
state no superseded fact; a removed fact or document is stated nowhere), stale-citation rate
(live answers citing a superseded or deleted version: must be 0), time-to-fresh (from the
start of an edit to the first query that answers from it) and as-of correctness (asked as of
before the change: answers cite the old version and state no newer fact). Whether the answer
also states the new (or, as of before, the old) fact is answer accuracy, reported beside them
as new_fact_accuracy and as_of_fact_accuracy.

A scenario is JSON (paths relative to the file)::

    {"name": "policies",
     "documents": [{"path": "v1"}, {"id": "note.md", "text": "...", "title": "Note"}],
     "questions": [{"question": "How many days ...?", "doc": "refund-policy.md",
                    "before": ["30 days"], "after": ["14 days"], "metadata": {...}}],
     "edits": [{"doc": "refund-policy.md", "path": "v2/refund-policy.md"},
               {"doc": "note.md", "text": "..."}, {"doc": "faq.html", "delete": true}]}

``after: []`` means the fact is gone after the edit (a removed section or document). A folder
holding RGB's ``en_fact_normalized.jsonl`` is a scenario too: each item's true passages are
one document, edited to the same passages with the fact altered; its negative passages are
documents that never change; each question is asked over its own item's documents (a
metadata filter), as RGB poses it.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verirag.evaluation.metrics import percentile
from verirag.evaluation.qa import normalize
from verirag.generation import Answer
from verirag.ingest import TextRecord

if TYPE_CHECKING:
    from verirag.kb import KnowledgeBase

RGB_FILE = "en_fact_normalized.jsonl"


@dataclass(frozen=True, slots=True)
class DriftQuestion:
    question: str
    doc: str  # the document whose change it is about
    before: tuple[str, ...]
    after: tuple[str, ...]  # empty: the fact is gone after the edit
    metadata: dict[str, Any] | None = None  # the filter it is asked under


@dataclass(frozen=True, slots=True)
class Edit:
    doc: str
    text: str | None = None  # new content (None with path None: delete the document)
    path: Path | None = None  # or a file holding the new content
    title: str | None = None
    metadata: dict[str, Any] | None = None


@dataclass(slots=True)
class Scenario:
    name: str
    texts: list[TextRecord] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)
    questions: list[DriftQuestion] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Scenario:
        """A JSON scenario file, or a folder holding RGB's en_fact."""
        if path.is_dir() and (path / RGB_FILE).is_file():
            return rgb_scenario(path / RGB_FILE)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not a scenario ({exc})") from None
        base = path.parent
        scenario = cls(str(data.get("name", path.stem)))
        for doc in data.get("documents", []):
            if "path" in doc:
                scenario.folders.append(base / doc["path"])
            else:
                scenario.texts.append(
                    TextRecord(
                        doc["id"],
                        doc["text"],
                        title=doc.get("title"),
                        format=doc.get("format", "txt"),
                        metadata=doc.get("metadata"),
                    )
                )
        for q in data.get("questions", []):
            scenario.questions.append(
                DriftQuestion(
                    q["question"],
                    q["doc"],
                    tuple(q.get("before", [])),
                    tuple(q.get("after", [])),
                    q.get("metadata"),
                )
            )
        for e in data.get("edits", []):
            if e.get("delete"):
                scenario.edits.append(Edit(e["doc"]))
            elif "path" in e:
                scenario.edits.append(Edit(e["doc"], path=base / e["path"]))
            else:
                scenario.edits.append(Edit(e["doc"], text=e["text"], title=e.get("title")))
        if not scenario.questions or not scenario.edits:
            raise ValueError(f"{path}: a scenario needs questions and edits")
        return scenario


def rgb_scenario(path: Path, limit: int | None = None) -> Scenario:
    scenario = Scenario("rgb en_fact")
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if limit is not None and number >= limit:
                break
            item = json.loads(line)
            doc, scope = f"{item['_id']}/facts", {"item": item["_id"]}
            text = "\n\n".join(item["true_passages"])
            scenario.texts.append(TextRecord(doc, text, metadata=scope))
            for i, passage in enumerate(item["negative_passages"]):
                scenario.texts.append(
                    TextRecord(f"{item['_id']}/negative-{i}", passage, metadata=scope)
                )
            truth, fake = _strings(item["answer"]), _strings(item["fake_answer"])
            scenario.questions.append(DriftQuestion(item["question"], doc, truth, fake, scope))
            changed = "\n\n".join(item["counterfactual_passages"])
            scenario.edits.append(Edit(doc, text=changed, metadata=scope))
    return scenario


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(s for v in value for s in _strings(v))
    return (str(value),) if value else ()


def _says(text: str, strings: Sequence[str]) -> bool:
    said = normalize(text)
    return any(normalize(s) and normalize(s) in said for s in strings)


@dataclass(slots=True)
class Outcome:
    question: str
    doc: str
    before_ok: bool  # live, before any edit: states the old fact
    fresh: bool  # live, after the edit
    stale_citation: bool
    as_of_ok: bool  # as of before the edit: from the old version, no newer fact
    seconds_to_fresh: float | None
    new_fact: bool | None = None  # live, after: states the new fact (None: the fact is gone)
    old_fact: bool = False  # as of before: states the old fact
    answer: str = ""
    as_of_answer: str = ""
    before_answer: str = ""

    @property
    def replayed(self) -> bool:
        """Asked as of before the change, the answer it gave before the change, word for
        word."""
        return self.as_of_answer == self.before_answer


@dataclass(slots=True)
class DriftReport:
    scenario: str
    outcomes: list[Outcome]
    summary: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {
            "scenario": self.scenario,
            "summary": self.summary,
            "questions": [asdict(o) | {"replayed": o.replayed} for o in self.outcomes],
        }


def _fresh(answer: Answer, q: DriftQuestion, current: int | None, text: str = "") -> bool:
    """Answers from the new version: it cites the document's current version (unless the
    fact or the document is gone), and nothing it cites the document for states a
    superseded fact (one the old version said and the new ``text`` no longer does). Other,
    unchanged documents may still say the old thing: that is what they say, not staleness."""
    if answer.abstained:
        return not q.after
    superseded = [s for s in _only(q.before, q.after) if not _says(text, [s])]
    if _says(_from(answer, q.doc), superseded):
        return False
    return not q.after or any(s.doc_id == q.doc and s.version == current for s in answer.cited)


def _from(answer: Answer, doc: str) -> str:
    """What the answer's sentences that cite ``doc`` say."""
    numbers = {s.n for s in answer.sources if s.doc_id == doc}
    return " ".join(c.text for c in answer.claims if numbers & set(c.cited))


def _only(these: Sequence[str], others: Sequence[str]) -> list[str]:
    """Strings of ``these`` that none of ``others`` contains (a fact that changed)."""
    return [s for s in these if not _says(" ".join(others), [s])]


def _stale(answer: Answer, current: dict[str, int | None]) -> bool:
    return any(current.get(s.doc_id, s.version) != s.version for s in answer.cited)


def run_drift(
    kb: KnowledgeBase,
    scenario: Scenario,
    *,
    k: int = 8,
    llm: str | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> DriftReport:
    """Run ``scenario`` on ``kb`` (an empty knowledge base: the scenario owns its corpus),
    answering with the generator ``llm`` names (default: the knowledge base's)."""
    progress = on_progress or (lambda *_: None)
    for folder in scenario.folders:
        kb.ingest(folder)
    kb.ingest_texts(scenario.texts)
    questions = scenario.questions

    def ask(q: DriftQuestion, **kwargs: Any) -> Answer:
        return kb.ask(q.question, k=k, metadata=q.metadata, llm=llm, **kwargs)

    before = []
    for i, q in enumerate(questions):
        before.append(ask(q).text)
        progress("before", i + 1, len(questions))
    then = time.time()
    old_versions = {d.doc_id: d.current_version for d in kb.documents()}
    time.sleep(0.01)  # as-of times must fall strictly between the two versions

    by_doc: dict[str, list[int]] = {}
    for i, q in enumerate(questions):
        by_doc.setdefault(q.doc, []).append(i)
    to_fresh: dict[int, float | None] = {}
    for n, edit in enumerate(scenario.edits):
        started = time.perf_counter()
        if edit.path is not None:
            prefix = edit.doc[: -len(edit.path.name)] if edit.doc.endswith(edit.path.name) else ""
            kb.ingest(edit.path, prefix=prefix)
        elif edit.text is not None:
            title = edit.title or (
                kb.version(edit.doc).title if _current(kb, edit.doc)[0] is not None else None
            )
            kb.ingest_texts([TextRecord(edit.doc, edit.text, title=title, metadata=edit.metadata)])
        else:
            kb.remove(edit.doc)
        # The first query after the edit: does it already answer from the new version?
        current, text = _current(kb, edit.doc)
        for i in by_doc.get(edit.doc, []):
            fresh = _fresh(ask(questions[i]), questions[i], current, text)
            to_fresh[i] = time.perf_counter() - started if fresh else None
        progress("edits", n + 1, len(scenario.edits))

    now = {q.doc: _current(kb, q.doc) for q in questions}
    current_versions = {doc: version for doc, (version, _) in now.items()}
    outcomes = []
    for i, q in enumerate(questions):
        live = ask(q)
        past = ask(q, as_of=then)
        old = old_versions.get(q.doc)
        as_of_ok = not _says(past.text, _only(q.after, q.before)) and any(
            s.doc_id == q.doc and s.version == old for s in past.cited
        )
        outcomes.append(
            Outcome(
                q.question,
                q.doc,
                before_ok=_says(before[i], q.before),
                fresh=_fresh(live, q, *now[q.doc]),
                stale_citation=_stale(live, current_versions),
                as_of_ok=as_of_ok,
                seconds_to_fresh=to_fresh.get(i),
                new_fact=(not live.abstained and _says(live.text, q.after)) if q.after else None,
                old_fact=_says(past.text, q.before),
                answer=live.text,
                as_of_answer=past.text,
                before_answer=before[i],
            )
        )
        progress("after", i + 1, len(questions))
    return DriftReport(scenario.name, outcomes, summarize_drift(outcomes))


def _current(kb: KnowledgeBase, doc: str) -> tuple[int | None, str]:
    """The document's live version and its text (``None`` and "" once deleted)."""
    try:
        live = [v for v in kb.history(doc) if v.current]
    except KeyError:
        return None, ""
    if not live:
        return None, ""
    return live[-1].version, kb.version(doc, live[-1].version).text or ""


def _rate(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def summarize_drift(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    n = len(outcomes)
    times = sorted(o.seconds_to_fresh for o in outcomes if o.seconds_to_fresh is not None)
    return {
        "questions": n,
        "before_accuracy": sum(o.before_ok for o in outcomes) / n if n else None,
        "fresh_answer_rate": sum(o.fresh for o in outcomes) / n if n else None,
        "stale_citation_rate": sum(o.stale_citation for o in outcomes) / n if n else None,
        "as_of_correctness": sum(o.as_of_ok for o in outcomes) / n if n else None,
        # The same over the questions it answered right before the change: a question it
        # never answered says nothing about freshness.
        "fresh_answer_rate_known": _rate([o.fresh for o in outcomes if o.before_ok]),
        "as_of_correctness_known": _rate([o.as_of_ok for o in outcomes if o.before_ok]),
        "as_of_replay": sum(o.replayed for o in outcomes) / n if n else None,
        "new_fact_accuracy": _rate([o.new_fact for o in outcomes if o.new_fact is not None]),
        "as_of_fact_accuracy": sum(o.old_fact for o in outcomes) / n if n else None,
        "time_to_fresh_p50_ms": 1000 * statistics.median(times) if times else None,
        "time_to_fresh_p95_ms": 1000 * percentile(times, 0.95) if times else None,
        "edits_seen_fresh_at_once": len(times) / n if n else None,
    }
