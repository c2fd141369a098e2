"""Render report PDFs to PNG pages for a visual check (``make pages``): look before you ship."""

from __future__ import annotations

import sys
from pathlib import Path

import pypdfium2


def render_pages(pdf: Path, out_dir: Path, scale: float = 1.2) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = pypdfium2.PdfDocument(str(pdf))
    written = []
    try:
        for i in range(len(doc)):
            target = out_dir / f"{pdf.stem}-p{i + 1}.png"
            doc[i].render(scale=scale).to_pil().save(target)
            written.append(target)
    finally:
        doc.close()
    return written


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path("var/reports")
    pdfs = sorted(root.rglob("*.pdf"))
    if not pdfs:
        print(f"No PDFs under {root}: run `make demo` first.")
        return 1
    latest = max(p.parent for p in pdfs if p.parent.name != "feedback")
    picks = [
        p for p in pdfs if p.parent == latest and (p.name.startswith(("network", "validation", "team_T01")))
    ]
    picks += sorted((latest / "feedback").glob("*.pdf"))[:1]
    out = Path("var/pages")
    for pdf in picks:
        pages = render_pages(pdf, out)
        print(f"{pdf.name}: {len(pages)} page(s) → {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
