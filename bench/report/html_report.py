"""The report as one HTML page (``report.html``); figures are relative links to the PNGs."""

from __future__ import annotations

import html

from bench.report.document import Document, Section
from bench.report.table import to_html

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.85rem; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3rem; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #ddd; }
thead th { border-bottom: 2px solid #444; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
p.note { font-size: 0.8rem; color: #555; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; }
figcaption { font-size: 0.85rem; color: #444; }
"""


def html_document(document: Document) -> str:
    """A self-contained page (inline CSS) with every section of ``document``."""
    title = html.escape(document.title)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        f'<head><meta charset="utf-8"><title>{title}</title><style>{STYLE}</style></head>',
        "<body>",
        f"<h1>{title}</h1>",
    ]
    parts += [f"<p>{html.escape(document.description)}</p>"] if document.description else []
    for section in document.sections:
        parts += _section(section)
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _section(section: Section) -> list[str]:
    parts = [f"<section><h2>{html.escape(section.title)}</h2>"]
    parts += [f"<p>{html.escape(paragraph)}</p>" for paragraph in section.paragraphs]
    if section.items:
        parts += ["<ul>", *(f"<li>{html.escape(item)}</li>" for item in section.items), "</ul>"]
    parts += [to_html(table) for table in section.tables]
    parts += [
        f'<figure><img src="{figure.png}" alt="{html.escape(figure.stem)}">'
        f"<figcaption>{html.escape(figure.caption)}</figcaption></figure>"
        for figure in section.figures
    ]
    return [*parts, "</section>"]
