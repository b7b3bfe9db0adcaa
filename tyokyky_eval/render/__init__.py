"""Renderers: the appendix as a list of blocks (:mod:`~tyokyky_eval.render.document`), and one pure
function per output kind that writes those blocks or the protected appendix's tables:

- :mod:`~tyokyky_eval.render.cells`: a table's cells as shown (text) with the number behind each;
- :mod:`~tyokyky_eval.render.document`: headings, prose, captioned tables and figures of a section;
- :mod:`~tyokyky_eval.render.html`: a block as HTML (what the notebook shows) and the whole page;
- :mod:`~tyokyky_eval.render.docx` and :mod:`~tyokyky_eval.render.xlsx`: Word and Excel;
- :mod:`~tyokyky_eval.render.csv`: ``tables/`` and ``tables-internal/``;
- :mod:`~tyokyky_eval.render.pdf`: headless Chromium printing the HTML page.
"""
