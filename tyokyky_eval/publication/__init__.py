"""The publication layer: what an appendix may release.

Modules: :mod:`.cells` (statuses, symbols, tables, lines), :mod:`.protect` (a section's primary and
secondary suppression), :mod:`.attack` (the attacker and the audit), :mod:`.escaping` (guards for
every published value) and :mod:`.appendix` (one protection over the whole appendix, the checker's
report; not imported here, since it builds the sections). Their public names are importable from
this package.


Every published number passes through :func:`protect`. A section describes each of its tables as a
:class:`Table` (its full-precision internal frame plus which columns are counts, which statistics
are computed from which count, which follow-up summaries need ``min_followup`` respondents, and
which sets of cells have a published total); :func:`protect` returns the status of every cell:

- **primary** (symbol ``<5`` for ``min_cell`` 5): a count ``0 < n < min_cell``;
- **secondary** (symbol ``x``): a count that is itself large enough but is withheld because a
  published total, margin or other table would otherwise give a suppressed cell back by
  subtraction; in every :class:`Line` (cells with a published total, or the parts of a whole such
  as subgroups of an overall result) with exactly one suppressed cell, or whose hidden cells are
  pinned to one value by the total and the bounds an attacker knows (a "<5" lies in 1…4), the
  smallest other non-zero cell is suppressed, repeated until no line is unsafe (the hypercube
  method's single-line rule with an interval audit, as in Statistics Finland's and ONS's output
  checking);
- **withheld** (symbol ``..``): a statistic computed from a suppressed count (share, incidence,
  mean, SD, quantiles, CI …), or a follow-up summary of fewer than ``min_followup`` respondents
  (Kykyviisari's own rule), or the complementary summary withheld so that "overall minus the
  published subgroups" cannot give a withheld one back;
- a missing value that is simply not estimable stays empty (shown as ``–``).

Zeros are never suppressed (they reveal nothing about a person). The rules follow ACRO's threshold
rule (SACRO project) and the FIONA/Kapseli output-checking practice; what none of the libraries
does is the joint handling of a section's linked tables and the follow-up rule, which is here.
Internal tables (``tables-internal/``) are never suppressed.

The small guards used wherever a value is published (the renderers) live here too:
``escape_markdown``/``escape_html`` and :func:`text` (a data- or parameter-supplied string shows as
the text it is), ``safe_markdown_html`` (Markdown → HTML with raw HTML escaped and links and images
rendered as their text only), ``neutralise_markdown`` (a second line of defence for generated
prose), ``neutralise_formulas`` (no spreadsheet formula in a CSV), ``FREE_TEXT_COLUMNS`` /
``drop_free_text`` (free text typed by staff never published) and ``CONTENT_SECURITY_POLICY``.
"""
from tyokyky_eval.publication.attack import Attack, audit, determined, intervals
from tyokyky_eval.publication.cells import (
                                            MIN_CELL_FLOOR,
                                            PRIMARY,
                                            SECONDARY,
                                            WITHHELD,
                                            Line,
                                            Rules,
                                            Table,
                                            collapse_small_groups,
                                            column_lines,
                                            cost,
                                            is_symbol,
                                            key_columns,
                                            partition_lines,
                                            row_lines,
)
from tyokyky_eval.publication.escaping import (
                                            CONTENT_SECURITY_POLICY,
                                            FREE_TEXT_COLUMNS,
                                            drop_free_text,
                                            escape_html,
                                            escape_markdown,
                                            escape_mathtext,
                                            neutralise_formula,
                                            neutralise_formulas,
                                            neutralise_markdown,
                                            safe_markdown_html,
                                            text,
)
from tyokyky_eval.publication.protect import protect, published

__all__ = ["Attack", "audit", "determined", "intervals", "MIN_CELL_FLOOR", "PRIMARY", "SECONDARY", "WITHHELD", "Line",
           "Rules", "Table", "collapse_small_groups", "column_lines", "cost", "is_symbol", "key_columns",
           "partition_lines", "row_lines", "CONTENT_SECURITY_POLICY", "FREE_TEXT_COLUMNS", "drop_free_text",
           "escape_html", "escape_markdown", "escape_mathtext", "neutralise_formula", "neutralise_formulas", "neutralise_markdown",
           "safe_markdown_html", "text", "protect", "published"]
