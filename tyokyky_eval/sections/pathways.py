"""Section "Service paths": the statistics of :mod:`tyokyky_eval.stats.pathways`, published safely.

What is published, and why:

- **One protection for every count of clients by end reason.** The service × end reason table
  (one row per service, a ``total`` row of all clients) gives the flow per service; the overview
  section shows its rows. Its total row equals the referral table's, its rows of the analysed
  services add up to the referral rows, the other services' rows to ``other_services``, and the
  clients who started in a service, summed over the years, to its row total. The referral source × end reason
  table holds the clients of the analysed services (``analyses.pathways.services``) by referral
  source, the clients of the other services in one row ``other_services`` and a ``total`` row of
  all clients, with a ``total`` column. The overview section's flow of clients is exactly its
  ``total`` row, taken from this section's published table (:func:`client_statuses`), so both
  sections show the same symbols. Every row and every column is a line (its cells sum to its
  total); the counts of the service-volume table are linked to it (clients who started, summed
  over the years, are the clients of those services; in a service's first year with clients,
  everyone in service started that year). Counts below ``min_cell`` are suppressed and, in every
  line left with one hidden cell, another one (``x``). Then an integer-programming audit
  (:func:`tyokyky_eval.publication.audit`) checks every hidden count against all these relations and the ranges the
  symbols give (``<5`` = 1 to 4) and hides more until none can be worked out exactly (a ``<5``
  worked out from its range is shown as ``x``). The section hands the report protected values
  (:func:`prepublished`): the publication layer alone protects one section's tables without the
  audit.
- **The flow diagram** is drawn from the published table only: node heights are the published
  totals, links are the published cells; a hidden node has a fixed height and shows its symbol,
  hidden links are not drawn (the hatched remainder of a node is total minus the links shown,
  which the table gives as well).
- **Caseloads.** Job coaches are shown as codes only when every ``job_coach_id`` is a short code
  (``COACH-1``, ``JC07``, ``12``); otherwise as "1, 2, …" in the order of their first client. A
  monthly caseload below ``min_cell`` clients is not drawn (a band marks the range) and the
  largest caseload of a coach below ``min_cell`` is shown as ``<5``.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from tyokyky_eval import publication
from tyokyky_eval.i18n import code_label, t
from tyokyky_eval.inputs import services
from tyokyky_eval.sections import Section
from tyokyky_eval.stats import pathways as pw

FLOW = "pathways_referral_outcomes"
BY_SERVICE = "pathways_service_outcomes"
VOLUME = "pathways_volume"
CASELOAD = "pathways_caseload"
#: a job_coach_id shown as it is: a few capital letters, an optional hyphen, digits (COACH-1, JC07, 12)
COACH_CODE = re.compile(r"[A-Z]{0,5}-?[0-9]{1,4}")


def coach_labels(clients: pd.DataFrame) -> dict[str, str]:
    """``job_coach_id`` → the label shown: the id itself when every id is a short code
    (:data:`COACH_CODE`), else "1", "2", … in the order of the coaches' first client (start date,
    then id), so that no name typed into the field is ever shown."""
    data = clients.dropna(subset=["job_coach_id"])
    ids = data["job_coach_id"].astype(str)
    if ids.map(lambda v: COACH_CODE.fullmatch(v) is not None).all():
        return {i: i for i in sorted(ids.unique())}
    first = data.assign(_id=ids).groupby("_id")["start_date"].min().reset_index()
    order = first.sort_values(["start_date", "_id"], kind="stable")["_id"]
    return {coach: str(k) for k, coach in enumerate(order, start=1)}


def client_tables(clients: pd.DataFrame, options: pw.Options, cutoff, order=()
                  ) -> tuple[list[publication.Table], tuple]:
    """The three tables of counts of clients (service volume; service × end reason; referral
    source × end reason with ``other_services`` and ``total`` rows) with their protection spec,
    and the lines linking them (see the module docstring). Shared with the overview section.
    ``order``: the project's service codes in declaration order."""
    volume = pw.service_volume(clients, cutoff)
    by_service = pw.service_outcomes(clients, order)
    flow = pw.flow_table(clients, options)
    counts = tuple(c for c in flow.columns if c != "referral_source")
    total_row, service_total = len(flow) - 1, len(by_service) - 1
    lines = [publication.Line(tuple((i, c) for c in counts)) for i in range(len(flow))]  # row + its total
    lines += [publication.Line(tuple((i, c) for i in range(len(flow)))) for c in counts]  # column + its total
    service_lines = [publication.Line(tuple((i, c) for c in counts)) for i in range(len(by_service))]
    service_lines += [publication.Line(tuple((i, c) for i in range(len(by_service)))) for c in counts]
    tables = [
        publication.Table(VOLUME, volume, "pathways.caption_volume", counts=("n_started", "n_in_service"),
                          code_columns=("service",), namespace="pathways", decimals=0),
        publication.Table(BY_SERVICE, by_service, "pathways.caption_by_service", counts=counts,
                          lines=tuple(service_lines), code_columns=("service",), namespace="pathways", decimals=0),
        publication.Table(FLOW, flow, "pathways.caption_referrals", counts=counts, lines=tuple(lines),
                          code_columns=("referral_source",), namespace="pathways", decimals=0),
    ]
    body = [i for i in range(total_row) if flow["referral_source"].iloc[i] != "other_services"]
    other = [i for i in range(total_row) if flow["referral_source"].iloc[i] == "other_services"]
    services = volume["service"].to_numpy()
    chosen = set(options.services) if options.services else set(services)
    started = {s: [(VOLUME, r, "n_started") for r in np.flatnonzero(services == s)] for s in sorted(set(services))}
    in_chosen = [cell for s, cells in started.items() if s in chosen for cell in cells]
    not_chosen = [cell for s, cells in started.items() if s not in chosen for cell in cells]
    links = [publication.Line(tuple(in_chosen + [(FLOW, i, "total") for i in body])),
             publication.Line(tuple(in_chosen + not_chosen + [(FLOW, total_row, "total")]))]
    if other:
        links.append(publication.Line(tuple(not_chosen + [(FLOW, other[0], "total")])))
    rows = dict(zip(by_service["service"], range(len(by_service))))
    for c in counts:  # both cross-tables have the same total row; one analysed service is the body's sum
        links.append(publication.Line(((BY_SERVICE, service_total, c),), (FLOW, total_row, c)))
        if len(chosen) == 1:
            links.append(publication.Line(tuple((FLOW, i, c) for i in body), (BY_SERVICE, rows[next(iter(chosen))], c)))
        if other:  # other_services = the other services' rows; the analysed services + it = all
            links.append(publication.Line(tuple((BY_SERVICE, rows[s], c) for s in rows if s != "total"
                                                and s not in chosen), (FLOW, other[0], c)))
            links.append(publication.Line(tuple((BY_SERVICE, rows[s], c) for s in sorted(chosen))
                                          + ((FLOW, other[0], c),), (FLOW, total_row, c)))
    for s, cells in started.items():
        links.append(publication.Line(tuple(cells), (BY_SERVICE, rows[s], "total")))
        for _, r, _ in cells:  # until a service's first clients start, "in service" = "started"
            links.append(publication.Line(((VOLUME, r, "n_started"), (VOLUME, r, "n_in_service"))))
            if volume.at[r, "n_started"] > 0:
                break
    return tables, tuple(links)


def client_relations(tables: dict[str, publication.Table], options: pw.Options) -> list:
    """Every linear relation an attacker knows between the client counts, as
    ``(((coefficient, cell), …), low, high)`` (low ≤ Σ coefficient·cell ≤ high; cells
    ``(table, row, column)``): rows and columns of both cross-tables add up to their totals, and
    their total rows are equal; the referral rows of the analysed services add up to those
    services' rows, ``other_services`` to the other services' rows; clients who started, summed
    over the years, are the clients of each service; in service ≥ started; in service this year ≤
    last year's in service + this year's starts; in the first year in service = started."""
    flow, volume, by_service = tables[FLOW].data, tables[VOLUME].data, tables[BY_SERVICE].data
    counts = [c for c in flow.columns if c != "referral_source"]
    last, service_last = len(flow) - 1, len(by_service) - 1
    out = []
    for name, frame, end in ((FLOW, flow, last), (BY_SERVICE, by_service, service_last)):
        out += [(tuple((1.0, (name, i, c)) for c in counts[:-1]) + ((-1.0, (name, i, "total")),), 0.0, 0.0)
                for i in range(len(frame))]
        out += [(tuple((1.0, (name, i, c)) for i in range(end)) + ((-1.0, (name, end, c)),), 0.0, 0.0)
                for c in counts]
    chosen = set(options.services) or set(volume["service"])
    body = [i for i in range(last) if flow.at[i, "referral_source"] != "other_services"]
    other = [i for i in range(last) if flow.at[i, "referral_source"] == "other_services"]
    for inside, rows in ((True, body), (False, other)):
        services = [i for i in range(service_last) if (by_service.at[i, "service"] in chosen) == inside]
        for c in counts:
            out.append((tuple((1.0, (FLOW, i, c)) for i in rows)
                        + tuple((-1.0, (BY_SERVICE, i, c)) for i in services), 0.0, 0.0))
    for c in counts:
        out.append((((1.0, (FLOW, last, c)), (-1.0, (BY_SERVICE, service_last, c))), 0.0, 0.0))
    row_of = dict(zip(by_service["service"], range(len(by_service))))
    for service, rows in volume.groupby("service"):
        out.append((tuple((1.0, (VOLUME, i, "n_started")) for i in rows.index)
                    + ((-1.0, (BY_SERVICE, row_of[service], "total")),), 0.0, 0.0))
        previous = None
        for i in rows.sort_values("year").index:
            now, start = (VOLUME, i, "n_in_service"), (VOLUME, i, "n_started")
            out.append((((1.0, now), (-1.0, start)), 0.0, 0.0 if previous is None else np.inf))
            if previous is not None:
                out.append((((1.0, now), (-1.0, start), (-1.0, (VOLUME, previous, "n_in_service"))), -np.inf, 0.0))
            previous = i
    return out


def client_statuses(clients: pd.DataFrame, options: pw.Options, cutoff, rules: publication.Rules, order=()):
    """The protected client tables: ``({name: Table}, {name: status frame})`` (the publication
    layer's joint protection, then :func:`tyokyky_eval.publication.audit`)."""
    tables, links = client_tables(clients, options, cutoff, order)
    by_name = {table.name: table for table in tables}
    status = publication.protect(tables, rules, links)
    publication.audit({name: table.data for name, table in by_name.items()}, status,
                      client_relations(by_name, options), rules)
    flow, by_service = status[FLOW], status[BY_SERVICE]
    for column in flow.columns.drop("referral_source"):  # the two total rows are one: one symbol
        cells = [(flow, len(flow) - 1), (by_service, len(by_service) - 1)]
        states = {frame.at[row, column] for frame, row in cells}
        if len(states) > 1:
            strongest = publication.SECONDARY if publication.SECONDARY in states else publication.PRIMARY
            for frame, row in cells:
                frame.at[row, column] = strongest
    return by_name, status


def prepublished(spec: publication.Table, status: pd.DataFrame, rules: publication.Rules) -> publication.Table:
    """``spec`` with its values already protected (``status``), no protection left to do, and the
    legend of symbols as its note when a cell is hidden: for tables whose protection the
    publication layer cannot decide alone (another section's tables, the audit)."""
    from dataclasses import replace

    shown = publication.published(spec, rules, status)
    out = replace(spec, data=shown, counts=(), derived={}, followup={}, lines=(), followup_lines=())
    if status.ne("").any().any():
        out = replace(out, note="appendix.legend",
                      note_values={"primary": rules.symbol(publication.PRIMARY),
                                   "secondary": rules.symbol(publication.SECONDARY),
                                   "withheld": rules.symbol(publication.WITHHELD),
                                   "min_cell": rules.min_cell, "min_followup": rules.min_followup})
    return out


class PathwaysSection(Section):
    """Service volumes, referral source × end reason and job coaches' caseloads."""

    name = "pathways"

    def __init__(self, project):
        super().__init__(project)
        params = project.params
        self.options = options = params.options("pathways")
        self.cutoff = params.cutoff_date
        self.clients = clients = project.table("clients")
        self.selected = selected = pw.select_services(clients, options)
        self.services = services.resolve(getattr(params, "services", {}), clients)
        self.client_tables, self.client_status = client_statuses(clients, options, self.cutoff, self.rules,
                                                                  list(self.services))
        labels = coach_labels(selected)
        load = pw.caseload(selected, self.cutoff)
        load["job_coach"] = load["job_coach"].map(labels)
        order = {label: k for k, label in enumerate(sorted(labels.values(), key=_natural))}
        self.load = load.sort_values(["job_coach", "month"], key=lambda s: s.map(order) if s.name == "job_coach"
                                     else s, kind="stable").reset_index(drop=True)
        self.per_coach = pw.caseload_summary(self.load, options) if len(self.load) else None
        self.many = self.per_coach is not None and len(self.per_coach) > pw.MAX_COACH_LINES

    # -- tables ----------------------------------------------------------------------------------
    def _caseload_table(self) -> publication.Table | None:
        if self.per_coach is None:
            return None
        if self.many:
            frame = pw.caseload_overview(self.per_coach)
            return publication.Table(CASELOAD, frame, "pathways.caption_caseload_summary",
                                     counts=("median_max_active", "max_active"), namespace="pathways",
                                     decimals={"median_max_active": 1})
        return publication.Table(CASELOAD, self.per_coach, "pathways.caption_caseload_summary",
                                 counts=("max_active",), namespace="pathways", decimals=0)

    def _specs(self) -> list[publication.Table]:
        from dataclasses import replace

        caseload = self._caseload_table()
        labels = {"service": services.labels(self.services.values())}
        clients = [replace(spec, labels=labels) if "service" in spec.data else spec
                   for spec in self.client_tables.values()]
        return clients + ([caseload] if caseload is not None else [])

    def statuses(self) -> dict[str, pd.DataFrame]:
        """The status of every cell: the client tables as :func:`client_statuses` protects them
        (shared with the overview), the caseload table by the publication layer."""
        out = dict(self.client_status)
        caseload = self._caseload_table()
        if caseload is not None:
            out.update(publication.protect([caseload], self.rules))
        return out

    def tables(self) -> list[publication.Table]:
        """The tables as the report shows them: values already protected (see :meth:`statuses`),
        the legend as the note."""
        statuses = self.statuses()
        return [prepublished(spec, statuses[spec.name], self.rules) for spec in self._specs()]

    def protected(self) -> dict[str, pd.DataFrame]:
        statuses = self.statuses()
        return {spec.name: publication.published(spec, self.rules, statuses[spec.name]) for spec in self._specs()}

    def internal(self) -> dict[str, pd.DataFrame]:
        out = {spec.name: spec.data for spec in self._specs()}
        if self.per_coach is not None:
            out["pathways_caseload_monthly"] = self.load
        return out

    def monthly(self) -> pd.DataFrame:
        """The monthly caseloads as they may be drawn: ``max_active`` (float) missing where it is
        below ``min_cell`` (and not 0); with more than ``MAX_COACH_LINES`` coaches, the largest and
        the median of the coaches' maxima per month (``job_coach`` ``max`` / ``median``)."""
        load = self.load
        if self.many:
            by_month = load.groupby("month", sort=True)["max_active"]
            load = pd.concat([by_month.agg(stat).rename("max_active").reset_index().assign(job_coach=stat)
                              for stat in ("max", "median")], ignore_index=True)
        values = load["max_active"].astype(float)
        return load.assign(max_active=values.where(~(values.gt(0) & values.lt(self.rules.min_cell))))

    # -- text ------------------------------------------------------------------------------------
    def _t(self, key: str, language: str, **values) -> str:
        return publication.text(f"pathways.{key}", language, **values)

    def text(self, language: str) -> list[str]:
        def label(code) -> str:
            service = self.services.get(code)
            return service.name(language) if service else code_label("service", code, language, "pathways")

        services = ", ".join(label(s) for s in sorted(self.clients["service"].dropna().unique()))
        chosen = ", ".join(label(s) for s in sorted(self.selected["service"].dropna().unique()))
        out = [self._t("services_sentence", language, services=services, selected=chosen or "–")]
        if self.per_coach is None:
            out.append(self._t("no_coach", language))
        else:
            shown = pd.to_numeric(self.published()[CASELOAD]["max_active"], errors="coerce")
            largest = int(self.load["max_active"].max())
            largest = (str(largest) if shown.eq(largest).any() else self.rules.count_text(largest)
                       if largest < self.rules.min_cell else self.rules.symbol(publication.SECONDARY))
            target = ("" if self.options.caseload_target is None
                      else t("pathways.target_part", language, target=self.options.caseload_target))
            out.append(self._t("caseload_sentence", language, n_coaches=len(self.per_coach),
                               max_active=largest, limit=self.options.caseload_limit,
                               target=target))
        out.append(self._t("no_employer_contact", language))
        return out

    # -- figures ---------------------------------------------------------------------------------
    def figures(self, language: str) -> list[tuple[str, object]]:
        published = self.published()
        out = [(t("pathways.caption_flow", language), self.figure_flow(published[FLOW], language))]
        if self.per_coach is not None:
            out.append((t("pathways.caption_caseload", language), self.figure_caseload(self.monthly(), language)))
        return out

    def _shown(self, value) -> bool:
        return not publication.is_symbol(value, self.rules) and not pd.isna(value)

    def figure_flow(self, table: pd.DataFrame, language: str, ax=None):
        """Referral source → end reason (Sankey-like) from the PUBLISHED table: node heights are the
        published totals (a hidden one a fixed height with its symbol), links the published cells;
        the hatched part of a node is its hidden cells together."""
        import matplotlib.pyplot as plt

        total_row = table.index[table["referral_source"].eq("total")][0]
        body = table.drop(index=total_row)
        reasons = [c for c in table.columns if c not in ("referral_source", "total")]
        grand = table.at[total_row, "total"]
        visible = [float(v) for v in list(body["total"]) + [table.at[total_row, c] for c in reasons] if self._shown(v)]
        unit = float(grand) if self._shown(grand) else max(sum(visible), 1.0)
        nominal, gap = max(float(self.rules.min_cell), 0.015 * unit), 0.02 * unit

        def nodes(names, values):
            out, top = {}, 0.0
            for name, value in zip(names, values):
                if self._shown(value) and float(value) == 0:
                    continue
                height = float(value) if self._shown(value) else nominal
                out[name] = {"top": top, "height": height, "value": value, "fill": top}
                top += height + gap
            return out

        left = nodes(list(body["referral_source"]), list(body["total"]))
        right = nodes(reasons, [table.at[total_row, c] for c in reasons])
        fig, ax = plt.subplots(figsize=(8, 5)) if ax is None else (ax.figure, ax)
        x = np.linspace(0, 1, 50)
        curve = 3 * x ** 2 - 2 * x ** 3  # smoothstep
        colours = plt.get_cmap("tab10")
        for k, (_, row) in enumerate(body.iterrows()):
            source = row["referral_source"]
            for reason in reasons:
                n = row[reason]
                if source not in left or reason not in right or not self._shown(n) or float(n) == 0:
                    continue
                a, b = left[source], right[reason]
                if not (self._shown(a["value"]) and self._shown(b["value"])):
                    continue
                y0, y1 = a["fill"], b["fill"]
                a["fill"] += float(n)
                b["fill"] += float(n)
                lower = y0 + (y1 - y0) * curve
                ax.fill_between(0.1 + 0.8 * x, lower, lower + float(n), color=colours(k % 10), alpha=0.45, lw=0)
        for side, xpos, align, column in ((left, 0.1, "right", "referral_source"), (right, 0.9, "left", "end_reason")):
            for name, node in side.items():
                shown = self._shown(node["value"])
                ax.add_patch(plt.Rectangle((xpos - 0.01, node["top"]), 0.02, node["height"], color="0.3"))
                rest = node["top"] + node["height"] - node["fill"]
                if rest > 1e-9 or not shown:  # hidden cells of this node, together
                    start = node["fill"] if shown else node["top"]
                    ax.add_patch(plt.Rectangle((xpos - 0.01, start), 0.02, node["top"] + node["height"] - start,
                                               facecolor="white", edgecolor="0.3", hatch="///", lw=0.5))
                value = str(int(node["value"])) if shown else node["value"]
                label = (t("pathways.other_services", language) if name == "other_services"
                         else code_label(column, name, language, "pathways"))
                ax.text(xpos + (-0.02 if align == "right" else 0.02), node["top"] + node["height"] / 2,
                        f"{label} ({value})", ha=align, va="center", fontsize=8)
        bottom = max([n["top"] + n["height"] for n in (*left.values(), *right.values())] or [1.0])
        ax.set_xlim(-0.35, 1.35)
        ax.set_ylim(bottom + gap, -gap)
        ax.axis("off")
        ax.set_title(t("pathways.flow_title", language, primary=self.rules.symbol(publication.PRIMARY),
                       secondary=self.rules.symbol(publication.SECONDARY)), fontsize=9)
        fig.tight_layout()
        return fig

    def figure_caseload(self, monthly: pd.DataFrame, language: str, ax=None):
        """Monthly maximum of clients in service per job coach (or the largest and the median of
        the coaches' maxima), drawn from :meth:`monthly` (values below ``min_cell`` not drawn; the
        band marks their range), with the IPS limit and the project's target."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 3.5)) if ax is None else (ax.figure, ax)
        min_cell = self.rules.min_cell
        n_coaches = len(self.per_coach)
        for coach, rows in monthly.groupby("job_coach", sort=False):
            if self.many:
                key = "coaches_max" if coach == "max" else "coaches_median"
                label = t(f"pathways.{key}", language, n=n_coaches)
            else:
                label = t("pathways.coach_label", language, coach=coach)
            ax.step(rows["month"], rows["max_active"], where="post", label=label)
        ax.axhspan(0, min_cell, color="0.9", zorder=0,
                   label=t("pathways.below_min_cell", language, min_cell=min_cell))
        limit, target = self.options.caseload_limit, self.options.caseload_target
        ax.axhline(limit, color="firebrick", linestyle="--", label=t("pathways.ips_limit", language, limit=limit))
        if target is not None:
            ax.axhline(target, color="darkorange", linestyle=":",
                       label=t("pathways.own_target", language, target=target))
        top = monthly["max_active"].max()
        ax.set_ylim(0, max(limit, min_cell, 0 if pd.isna(top) else top) + 2)
        ax.set_ylabel(t("pathways.axis_active", language))
        ax.legend(fontsize=7, loc="upper left", ncols=2)
        ax.spines[["top", "right"]].set_visible(False)
        fig.autofmt_xdate()
        fig.tight_layout()
        return fig


def _natural(label: str):
    """Sort key: "2" before "10", codes by their text then number."""
    match = re.fullmatch(r"(\D*)(\d+)", label)
    return (match.group(1), int(match.group(2)), label) if match else (label, 0, label)


SECTION = PathwaysSection
