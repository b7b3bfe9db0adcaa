"""The programme view: several projects' published appendices compared and pooled into one
programme appendix (``tyokyky-eval synthesis``), from their published tables only.

- :mod:`~tyokyky_eval.programme.published`: read and check a project appendix's ``tables/`` and
  ``datapackage.json`` (the programme's only input);
- :mod:`~tyokyky_eval.programme.compare`: side-by-side tables, programme totals and pooled
  estimates (pure functions), with the programme's disclosure rule;
- :mod:`~tyokyky_eval.programme.synthesis`: the programme and its parts, as the synthesis
  notebook shows them; :mod:`~tyokyky_eval.programme.figures`: forest and funnel plots;
- :mod:`~tyokyky_eval.programme.run`: execute the notebook and write the programme appendix.
"""
from tyokyky_eval.programme.synthesis import load_programme

__all__ = ["load_programme"]
