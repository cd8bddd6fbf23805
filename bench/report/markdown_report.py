"""The report as one markdown file (``report.md``), figures linked as PNGs."""

from __future__ import annotations

from bench.report.document import Document, Section
from bench.report.table import to_markdown


def markdown_document(document: Document) -> str:
    """Title, description, then every section with its paragraphs, tables and figures."""
    parts = [f"# {document.title}", ""]
    parts += [document.description, ""] if document.description else []
    for section in document.sections:
        parts += _section(section)
    return "\n".join(parts).rstrip("\n") + "\n"


def _section(section: Section) -> list[str]:
    parts = [f"## {section.title}", ""]
    for paragraph in section.paragraphs:
        parts += [paragraph, ""]
    parts += [f"- {item}" for item in section.items]
    parts += [""] if section.items else []
    for table in section.tables:
        parts += [f"**{table.caption}**", ""] if table.caption else []
        parts += [to_markdown(table)]
    for figure in section.figures:
        parts += [f"![{figure.stem}]({figure.png})", "", f"*{figure.caption}*", ""]
    return parts
