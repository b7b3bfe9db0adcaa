"""Inputs: the parameters file (:mod:`.params`, its blocks :mod:`.keys`, services :mod:`.services`),
input files (:mod:`.readers`, survey exports :mod:`.survey_exports`), their validation against the
data dictionary (:mod:`.validation`, :mod:`.dictionary`, codes :mod:`.identifiers`), and the loaded
project (:mod:`.project`)."""
