"""Grounded answers: context assembly, a generator, citation checking, abstention.

``answer()`` is the whole flow behind ``KnowledgeBase.ask`` (see :mod:`.answer`).
"""

from verirag.generation._base import Generation, GenerationError, Generator, Source, TokenSink
from verirag.generation.answer import ABSTAIN, Answer, abstention, answer, sources_for
from verirag.generation.context import Edits, Rewrites, assemble
from verirag.generation.extractive import ExtractiveGenerator
from verirag.generation.followup import Followup, Rewriter, standalone
from verirag.generation.generators import Generators, load_generator
from verirag.generation.verify import Claim, Thresholds, check, split_answer

__all__ = [
    "ABSTAIN",
    "Answer",
    "Claim",
    "Edits",
    "ExtractiveGenerator",
    "Followup",
    "Generation",
    "GenerationError",
    "Generator",
    "Generators",
    "Rewriter",
    "Rewrites",
    "Source",
    "Thresholds",
    "TokenSink",
    "abstention",
    "answer",
    "assemble",
    "check",
    "load_generator",
    "sources_for",
    "split_answer",
    "standalone",
]
