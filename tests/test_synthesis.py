"""The programme view: every appendix's datapackage.json, and the synthesis of the IPS projects.

The three seed projects with IPS services (Essote, Päijät-Häme, Pohde) are built once for the
module by ``run-all --synthesis``; every test reads those folders."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tyokyky_eval.cli import main
from tyokyky_eval.errors import DataError
from tyokyky_eval.inputs.params import load_params
from tyokyky_eval.programme import compare
from tyokyky_eval.programme.published import Hidden, check_package, read_appendix
from tyokyky_eval.publication import PRIMARY, SECONDARY, WITHHELD, Attack, Rules
from tyokyky_eval.run.many import run_all
from tyokyky_eval.stats import meta_analysis as ma

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = ("essote-tyokykya-ja-kumppanuutta", "phhyky-tuetusti-tyohon", "pohde-palo2")


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> Path:
    """``run-all --synthesis`` over the three IPS seed projects (parameters linked, data in place)."""
    root = tmp_path_factory.mktemp("programme")
    folder = root / "parameters"
    folder.mkdir()
    for name in PROJECTS:
        (folder / f"{name}.yaml").symlink_to(ROOT / "parameters" / f"{name}.yaml")
    outcomes = run_all(folder, root / "output", jobs=2, synthesis=True, pdf=False)
    assert [(o.project, o.status) for o in outcomes] == [*((p, "ok") for p in PROJECTS), ("synthesis", "ok")], \
        [o.message for o in outcomes]
    return root / "output"


def _table(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / "tables" / f"{name}.csv", dtype=str, keep_default_na=False)


# -- datapackage.json ---------------------------------------------------------------------------
def test_every_appendix_has_a_valid_datapackage(output):
    for name in (*PROJECTS, "synthesis"):
        folder = output / name
        package, _, problems = check_package(folder)
        assert problems == [], problems
        described = {r["path"] for r in package["resources"]}
        assert described == {p.name for p in (folder / "tables").glob("*.csv")}  # every published table, no other
        labels = {m["value"]: m["label"] for m in package["resources"][0]["schema"]["missingValues"]}
        assert set(labels) == {"", "<5", "x", ".."} and all(labels.values())
        assert package["disclosure"]["symbols"] == {PRIMARY: "<5", SECONDARY: "x", WITHHELD: ".."}
    pohde = json.loads((output / "pohde-palo2" / "tables" / "datapackage.json").read_text(encoding="utf-8"))
    params = load_params(ROOT / "parameters" / "pohde-palo2.yaml")
    assert pohde["project_id"] == "pohde-palo2" and pohde["cutoff_date"] == "2024-12-31"
    assert [(s["code"], s["kind"]) for s in pohde["services"]] == [(c, s.kind) for c, s in params.services.items()]
    fields = {(r["name"], f["name"]): f for r in pohde["resources"] for f in r["schema"]["fields"]}
    assert fields[("survival_benchmark", "n_employed")]["type"] == "integer"
    assert fields[("survival_benchmark", "share")]["unit"] == "share"
    assert fields[("survival_benchmark", "followup_days")]["unit"] == "days"
    assert fields[("survival_benchmark", "service")]["categories"] == ["ips_ii", "ips_oulu", "ips_ylivieska"]
    assert fields[("prepost_summary", "mean_change")]["unit"] == "points"
    assert fields[("fidelity_scores", "review_date")]["type"] == "date"
    assert "<0.001" in {m["value"] for m in fields[("prepost_summary", "t_p")]["missingValues"]}
    benchmark = next(r for r in pohde["resources"] if r["name"] == "survival_benchmark")
    assert benchmark["counts"] == ["n", "n_employed"] and benchmark["derived"]["n_employed"][0] == "share"


def test_the_check_names_file_row_and_column(output, tmp_path):
    folder = tmp_path / "pohde"
    shutil.copytree(output / "pohde-palo2" / "tables", folder / "tables")
    benchmark = folder / "tables" / "survival_benchmark.csv"
    benchmark.write_text(benchmark.read_text(encoding="utf-8").replace("ips_oulu,365,16,", "ips_oulu,365,16.5,"),
                         encoding="utf-8")
    flow = folder / "tables" / "client_flow.csv"
    flow.write_text(flow.read_text(encoding="utf-8").replace("service,end_reason,n,share", "service,reason,n,share"),
                    encoding="utf-8")
    _, _, problems = check_package(folder)
    problems = sorted(problems, key=lambda p: Path(p.file).name, reverse=True)
    assert [(Path(p.file).name, p.row, p.column) for p in problems] == [
        ("survival_benchmark.csv", 3, "n"), ("client_flow.csv", 1, None)]
    assert "expected a value of type integer or a declared missing value" in problems[0].message
    assert problems[0].value == "16.5" and "header differs" in problems[1].message
    with pytest.raises(DataError, match="no tables/datapackage.json"):
        read_appendix(tmp_path / "nothing")


def test_synthesis_of_bad_inputs_exits_2_without_traceback(output, tmp_path, capsys):
    folder = tmp_path / "essote"
    shutil.copytree(output / PROJECTS[0] / "tables", folder / "tables")
    (folder / "tables" / "survival_benchmark.csv").unlink()
    assert main(["synthesis", str(folder), str(output / PROJECTS[1]), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "survival_benchmark.csv" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    # a synthesis never replaces a project's appendix
    assert main(["synthesis", str(output / PROJECTS[1]), "--output", str(output / PROJECTS[0])]) == 1
    assert "programme-synthesis" in capsys.readouterr().err


# -- the synthesis ------------------------------------------------------------------------------
def test_ips_services_side_by_side_against_the_benchmark(output):
    folder = output / "synthesis"
    for name in ("appendix.html", "appendix.docx", "tables.xlsx", "provenance.json", "executed/synthesis.ipynb"):
        assert (folder / name).is_file(), name
    benchmark = _table(folder, "synthesis_ips_benchmark")
    assert list(zip(benchmark["project"], benchmark["service"])) == [
        ("essote-tyokykya-ja-kumppanuutta", "ips"), ("phhyky-tuetusti-tyohon", "ips"), ("pohde-palo2", "ips_ii"),
        ("pohde-palo2", "ips_oulu"), ("pohde-palo2", "ips_ylivieska")]
    essote = benchmark.iloc[0]
    low, high = stats.binomtest(6, 17).proportion_ci(method="wilson")  # the Wilson interval, independently
    assert (essote["n"], essote["n_employed"], essote["band"]) == ("17", "6", "minimal")
    assert float(essote["ci_low"]) == pytest.approx(low, abs=5e-4)
    assert float(essote["ci_high"]) == pytest.approx(high, abs=5e-4)
    pooled = _table(folder, "synthesis_pooled")
    employment = pooled[pooled["outcome"].eq("ips_employment")].iloc[0]
    assert (employment["status"], employment["k"], employment["k_withheld"]) == ("pooled", "4", "1")
    studies = _table(folder, "synthesis_pooled_studies")
    used = studies[studies["outcome"].eq("ips_employment") & studies["weight_pct"].ne("")]
    counts = used[["project", "service"]].merge(benchmark, on=["project", "service"])[["n_employed", "n"]].astype(int)
    again = ma.pooled_proportion(ma.pool(ma.logit_proportion(counts, events="n_employed", n="n")))
    assert float(employment["estimate"]) == pytest.approx(again["proportion"].iloc[0], abs=5e-4)
    assert float(employment["pi_low"]) == pytest.approx(again["pi_low"].iloc[0], abs=5e-4)
    html = (folder / "appendix.html").read_text(encoding="utf-8")
    assert html.count('class="te-figure"') >= 2  # the IPS forest and funnel plots at least
    assert "Bond, Drake &amp; Becker 2008" in html and "Brinchmann" in html
    record = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    assert sorted(record["input_files"]) == sorted(PROJECTS)


def test_withheld_project_values_stay_withheld(output):
    """Pohde Ii's employed count is '<5' in its own appendix: the synthesis shows it so, derives
    no share from it and pools the other services only; a kind's total that would include a
    hidden count (Päijät-Häme's coordinator's 'x' employed) is withheld."""
    own = _table(output / "pohde-palo2", "survival_benchmark").set_index("service")
    assert own.loc["ips_ii", "n_employed"] == "<5"
    synthesis = output / "synthesis"
    row = _table(synthesis, "synthesis_ips_benchmark").set_index("service").loc["ips_ii"]
    assert (row["n"], row["n_employed"], row["share"], row["ci_low"], row["band"]) == ("6", "<5", "..", "..", "..")
    studies = _table(synthesis, "synthesis_pooled_studies")
    ii = studies[studies["outcome"].eq("ips_employment") & studies["service"].eq("ips_ii")].iloc[0]
    assert (ii["estimate"], ii["weight_pct"], ii["n"]) == ("..", "", "")
    services = _table(synthesis, "synthesis_services").set_index(["project", "service"])
    assert services.loc[("phhyky-tuetusti-tyohon", "work_ability_coordinator"), "employed"] == "x"
    totals = _table(synthesis, "synthesis_totals").set_index("kind")
    assert totals.loc["work_ability_service", "employed"] == ".."
    assert totals.loc["ips", "employed"] == str(services.loc[services["kind"].eq("ips"), "employed"].astype(int).sum())


def _cells(folder: Path, prefix: str) -> dict[str, pd.DataFrame]:
    return {f"{prefix}:{p.stem}": pd.read_csv(p, dtype=str, keep_default_na=False)
            for p in sorted((folder / "tables").glob("*.csv"))}


def _rows(frames: dict, table: str, **where) -> list[int]:
    frame = frames[table]
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        mask &= frame[column].to_numpy() == value
    return list(np.flatnonzero(mask))


def test_an_attacker_with_every_table_recovers_no_hidden_count(output):
    """The projects' published tables and relations (``disclosure/relations.json``) together with
    the synthesis's tables and what an attacker knows of them (each copied count is the project's,
    a total is the sum of its kind's rows, a share times n is the employed count within rounding):
    no hidden count can be worked out that the projects' tables alone do not give."""
    frames, project_relations = {}, []
    for name in PROJECTS:
        frames.update(_cells(output / name, name))
        document = json.loads((output / name / "disclosure" / "relations.json").read_text(encoding="utf-8"))
        project_relations += [([(k, (f"{name}:{t}", r, c)) for k, t, r, c in item["terms"]], item["low"], item["high"])
                              for item in document["relations"]]
    frames.update(_cells(output / "synthesis", "synthesis"))
    rules = Rules(5, 10)
    symbols = {rules.symbol(s): s for s in (PRIMARY, SECONDARY, WITHHELD)}

    def status(cell):
        return symbols.get(frames[cell[0]].at[cell[1], cell[2]], "")

    def known(cell):
        return float(pd.to_numeric(frames[cell[0]].at[cell[1], cell[2]], errors="coerce"))

    def same(a, b):
        return ([(1.0, a), (-1.0, b)], 0.0, 0.0)

    relations = []
    services = frames["synthesis:synthesis_services"]
    for i, (project, service) in enumerate(zip(services["project"], services["service"])):
        for column, reason in (("clients", "total"), ("employed", "employed")):
            rows = _rows(frames, f"{project}:client_flow", service=service, end_reason=reason)
            relations += [same(("synthesis:synthesis_services", i, column), (f"{project}:client_flow", rows[0], "n"))]
    totals = frames["synthesis:synthesis_totals"]
    for i, kind in enumerate(totals["kind"]):
        parts = _rows(frames, "synthesis:synthesis_services", kind=kind)
        for column in ("clients", "employed"):
            relations.append(([(1.0, ("synthesis:synthesis_totals", i, column))]
                              + [(-1.0, ("synthesis:synthesis_services", r, column)) for r in parts], 0.0, 0.0))
    benchmark = frames["synthesis:synthesis_ips_benchmark"]
    for i, (project, service) in enumerate(zip(benchmark["project"], benchmark["service"])):
        source = _rows(frames, f"{project}:survival_benchmark", service=service)[0]
        relations += [same(("synthesis:synthesis_ips_benchmark", i, c), (f"{project}:survival_benchmark", source, c))
                      for c in ("n", "n_employed")]
        share, n = (pd.to_numeric(benchmark.at[i, c], errors="coerce") for c in ("share", "n"))
        if np.isfinite(share) and np.isfinite(n):  # n_employed / n rounds to the published share
            relations.append(([(1.0, ("synthesis:synthesis_ips_benchmark", i, "n_employed"))],
                              (share - 5e-4) * n, (share + 5e-4) * n))
    kyky = frames["synthesis:synthesis_kykyviisari"]
    for i, (project, service, measure) in enumerate(zip(kyky["project"], kyky["service"], kyky["measure"])):
        source = _rows(frames, f"{project}:prepost_summary", service=service, measure=measure,
                       comparison=compare.COMPARISON)[0]
        relations.append(same(("synthesis:synthesis_kykyviisari", i, "n_pairs"),
                              (f"{project}:prepost_summary", source, "n_pairs")))

    def determined(relation_list):
        attack = Attack(relation_list, known, rules.min_cell)
        return set(attack.determined({c: status(c) for c in attack.cells}))

    hidden = [c for terms, _, _ in relations for _, c in terms if status(c) in (PRIMARY, SECONDARY)]
    assert any(status(c) == PRIMARY for c in hidden)  # the test reaches hidden counts (Pohde Ii's '<5')
    alone = determined(project_relations)
    together = determined(project_relations + relations)
    assert together <= alone
    assert not {c for c in together if status(c) == PRIMARY}


def test_synthesis_in_english(output):
    """Every part of the programme appendix in English: findings, captioned tables, figures."""
    from tyokyky_eval.programme.synthesis import PARTS, load_programme
    from tyokyky_eval.render import document as doc

    programme = load_programme([output / p for p in PROJECTS], language="en")
    blocks = [b for name in PARTS for b in (doc.section_tables(programme.part(name), "en")
                                             + doc.section_figures(programme.part(name), "en"))]
    captions = [b.caption for b in blocks if isinstance(b, (doc.TableBlock, doc.FigureBlock))]
    assert "Pooled estimates (random effects: REML, Knapp–Hartung 95 % CI, 95 % prediction interval)" in captions
    assert sum(isinstance(b, doc.FigureBlock) for b in blocks) >= 2
    prose = " ".join(b.markdown for b in blocks if isinstance(b, doc.Prose))
    assert "Of 5 IPS services, 4 publish the share employed" in prose


# -- pure functions -----------------------------------------------------------------------------
def test_totals_and_shares_never_include_a_hidden_count():
    hidden = Hidden(PRIMARY)
    assert compare.total([3, 4]) == 7 and compare.total([3, hidden]) == Hidden(WITHHELD)
    assert np.isnan(compare.total([3, np.nan]))
    services = pd.DataFrame({"project": ["a", "b", "c"], "service": ["ips"] * 3, "kind": ["ips"] * 3})
    published = pd.DataFrame({"project": ["a", "b"], "service": ["ips", "ips"], "followup_days": [365, 365],
                              "n": [20, 12], "n_employed": [8, hidden]})
    table = compare.benchmark_table(services, published)
    assert table.loc[0, "band"] == "minimal" and table.loc[0, "share"] == pytest.approx(0.4)
    assert table.loc[1, "share"] == Hidden(WITHHELD) and table.loc[1, "n_employed"] == hidden
    assert np.isnan(table.loc[2, "n"]) and np.isnan(table.loc[2, "share"])  # not reported: listed, not dropped
    row, studies = compare.pool_employment(table)
    assert (row["status"], row["k"], row["k_withheld"]) == ("too_few", 1, 1) and studies.empty


def test_change_variance_comes_from_the_published_ci():
    rows = pd.DataFrame({"project": ["a"], "service": ["s"], "n_pairs": [11], "mean_change": [0.91],
                         "change_ci_low": [0.09], "change_ci_high": [1.73]})
    effects = compare.change_effects(rows)
    se = (1.73 - 0.09) / (2 * stats.t.ppf(0.975, 10))
    assert effects.loc[0, "estimate"] == 0.91 and effects.loc[0, "variance"] == pytest.approx(se ** 2)


@pytest.mark.slow
def test_synthesis_runs_as_a_task_on_a_dask_cluster(output, tmp_path):
    """``run-all --scheduler ADDRESS --synthesis`` submits the synthesis as one more task."""
    distributed = pytest.importorskip("distributed")
    from tyokyky_eval.programme.run import synthesis_outcome
    from tyokyky_eval.run.cluster import dask_executor

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, dask_executor(cluster.scheduler_address) as pool:
        outcome = pool.submit(synthesis_outcome, [str(output / p) for p in PROJECTS], str(tmp_path / "synthesis"),
                              "en", None, False).result()
    assert (outcome.project, outcome.status) == ("synthesis", "ok"), outcome.message
    assert '<html lang="en"' in (tmp_path / "synthesis" / "appendix.html").read_text(encoding="utf-8")
