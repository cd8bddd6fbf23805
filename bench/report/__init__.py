"""Reports: tables (markdown, LaTeX, HTML) and figures, read from the results store only.

A report never trains and never imports TensorFlow. The flow, one module per step:

- :mod:`~bench.report.target` what to report (a suite file or a results name) and where;
- :mod:`~bench.report.inputs` everything read from the store, loaded once;
- :mod:`~bench.report.leaderboard`, :mod:`~bench.report.significance`,
  :mod:`~bench.report.params`, :mod:`~bench.report.timing`,
  :mod:`~bench.report.appendix`, :mod:`~bench.report.provenance` compute the content, as
  immutable results and :class:`~bench.report.table.Table` s;
- :mod:`~bench.report.figures` draws the figures (PNG and PDF);
- :mod:`~bench.report.document` puts it all in reading order, and
  :mod:`~bench.report.markdown_report`, :mod:`~bench.report.latex_report` and
  :mod:`~bench.report.html_report` lay the same document out;
- :mod:`~bench.report.write` runs the steps for ``bench report`` and writes the files.

Heavy libraries (pandas, scipy, matplotlib, tabulate) are imported inside functions, so
importing any of these modules stays cheap.
"""
