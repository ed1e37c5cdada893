"""A self-contained HTML report of QA runs: the summary table, accuracy per pipeline, the
latency distribution and the recall@k curve (matplotlib, embedded as PNG), every question."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from typing import Any

from verirag.evaluation.qa import QARun, recall_curve

ACCURACY = (
    ("exact_match", "exact match"),
    ("f1", "F1"),
    ("containment", "containment"),
    ("retrieval_recall", "retrieval recall"),
    ("citation_precision", "citation precision"),
    ("citation_recall", "citation recall"),
)


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError(
            "the HTML report draws with matplotlib: pip install 'verirag[report]'"
        ) from None
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    return plt


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _figures(runs: Mapping[str, QARun]) -> dict[str, str]:
    plt = _pyplot()
    names = list(runs)
    figures = {}

    fig, ax = plt.subplots(figsize=(8, 3.2))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [runs[name].summary[key] or 0.0 for key, _ in ACCURACY]
        ax.bar([x + i * width for x in range(len(ACCURACY))], values, width, label=name)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(ACCURACY))])
    ax.set_xticklabels([label for _, label in ACCURACY], rotation=20)
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title("accuracy per pipeline")
    figures["accuracy"] = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 3))
    for name in names:
        ax.hist([1000 * q.seconds for q in runs[name].questions], bins=30, alpha=0.6, label=name)
    ax.set_xlabel("latency per question (ms)")
    ax.set_ylabel("questions")
    ax.legend()
    ax.set_title("latency distribution")
    figures["latency"] = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 3))
    for name in names:
        curve = recall_curve(runs[name].questions, int(runs[name].settings.get("k", 1)))
        if curve:
            ax.plot(range(1, len(curve) + 1), curve, marker="o", label=name)
    ax.set_xlabel("k (documents retrieved)")
    ax.set_ylabel("recall of gold documents")
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title("recall@k")
    figures["recall"] = _png(fig)
    plt.close(fig)
    return figures


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))


def html_report(title: str, runs: Mapping[str, QARun]) -> str:
    """One HTML page with everything inlined (it can be mailed or archived as it is)."""
    figures = _figures(runs)
    keys = list(next(iter(runs.values())).summary)
    head = "".join(f"<th>{html.escape(k)}</th>" for k in ["pipeline", *keys])
    rows = "".join(
        "<tr>"
        + f"<td>{html.escape(name)}</td>"
        + "".join(f"<td>{_fmt(run.summary[k])}</td>" for k in keys)
        + "</tr>"
        for name, run in runs.items()
    )
    settings = "".join(
        f"<li><b>{html.escape(name)}</b>: "
        + html.escape(", ".join(f"{k} {v}" for k, v in run.settings.items()))
        + "</li>"
        for name, run in runs.items()
    )
    questions = ""
    for name, run in runs.items():
        body = "".join(
            f"<tr><td>{html.escape(q.question)}</td><td>{html.escape(q.answer)}</td>"
            f"<td>{_fmt(q.contained)}</td><td>{_fmt(q.f1)}</td>"
            f"<td>{html.escape(', '.join(q.cited_docs))}</td>"
            f"<td>{'yes' if q.abstained else ''}</td><td>{1000 * q.seconds:.0f}</td></tr>"
            for q in run.questions
        )
        questions += (
            f"<h3>{html.escape(name)}</h3><table><tr><th>question</th><th>answer</th>"
            "<th>contained</th><th>F1</th><th>cited</th><th>abstained</th><th>ms</th></tr>"
            f"{body}</table>"
        )
    images = "".join(f'<img alt="{k}" src="{v}">' for k, v in figures.items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>verirag QA report: {html.escape(title)}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2rem;max-width:75rem}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #ddd;padding:.25rem .5rem;
text-align:left;vertical-align:top}}img{{display:block;margin:1rem 0;max-width:100%}}</style>
</head><body><h1>QA report: {html.escape(title)}</h1>
<table><tr>{head}</tr>{rows}</table><ul>{settings}</ul>{images}
<h2>Questions</h2>{questions}</body></html>
"""
