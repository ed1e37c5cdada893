"""Regenerate the sample corpus's PDF and DOCX from its Markdown (needs the dev extra: fpdf2).

python scripts/make_sample.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.builders import write_docx, write_pdf  # noqa: E402

SAMPLE = ROOT / "sample"


def main() -> None:
    for version in ("v1", "v2"):
        folder = SAMPLE / version
        policies = [
            (folder / name).read_text() for name in ("refund-policy.md", "shipping-policy.md")
        ]
        write_pdf(folder / "customer-policies.pdf", policies, "Larkspur Gear Co. Customer Policies")
        handbook = (SAMPLE / "sources" / version / "employee-handbook.md").read_text()
        write_docx(
            folder / "employee-handbook.docx", handbook, "Larkspur Gear Co. Employee Handbook"
        )
        print(f"wrote {folder}/customer-policies.pdf and employee-handbook.docx")


if __name__ == "__main__":
    main()
