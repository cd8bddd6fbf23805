"""The report as a standalone LaTeX document (``report.tex``) for plain ``pdflatex``.

Only packages of a basic TeX Live install are used (geometry, booktabs, longtable, graphicx).
Tables wider than the text are shrunk to fit; long ones (the appendix) break across pages;
figures are the PDFs under ``figures/``, so compile from the report folder::

    cd reports/<suite> && pdflatex report.tex
"""

from __future__ import annotations

from bench.report.document import Document, Section
from bench.report.figures import FigureFile
from bench.report.table import latex_escape, to_latex_document_table

PREAMBLE = r"""\documentclass[10pt,a4paper]{article}
\usepackage[margin=2cm]{geometry}
\usepackage{booktabs}
\usepackage{longtable}
\usepackage{graphicx}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5em}
\renewcommand{\topfraction}{0.9}
\renewcommand{\bottomfraction}{0.8}
\renewcommand{\textfraction}{0.07}
\renewcommand{\floatpagefraction}{0.8}
"""


def latex_document(document: Document) -> str:
    """The whole ``.tex`` source: preamble, title, one ``\\section`` per section."""
    lines = [
        PREAMBLE,
        rf"\title{{{latex_escape(document.title)}}}",
        r"\author{bench}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
    ]
    lines += [latex_escape(document.description), ""] if document.description else []
    for section in document.sections:
        lines += _section(section)
    lines += [r"\end{document}"]
    return "\n".join(lines) + "\n"


def _section(section: Section) -> list[str]:
    lines = [r"\clearpage"] if section.appendix or section.figures else []
    lines += [rf"\section{{{latex_escape(section.title)}}}", ""]
    for paragraph in section.paragraphs:
        lines += [latex_escape(paragraph), ""]
    if section.items:
        lines += [r"\begin{itemize}"]
        lines += [rf"\item {latex_escape(item)}" for item in section.items]
        lines += [r"\end{itemize}"]
    lines += [to_latex_document_table(table) for table in section.tables]
    lines += [_figure(figure) for figure in section.figures]
    lines += [r"\clearpage"] if section.figures else []
    return lines


def _figure(figure: FigureFile) -> str:
    return "\n".join(
        [
            r"\begin{figure}[htbp]",
            r"\centering",
            r"\includegraphics[width=\linewidth,height=0.42\textheight,keepaspectratio]"
            f"{{{figure.pdf}}}",
            rf"\caption{{{latex_escape(figure.caption)}}}",
            r"\end{figure}",
        ]
    )
