"""Services are first-class: the ``services`` block, its checks against the data, time to
employment per service and the IPS benchmark for IPS services only (never pooled)."""
from __future__ import annotations

import nbformat
import numpy as np
import pandas as pd
import pytest
from attacker import attack
from scipy.stats import binomtest
from test_section_survival import relations
from test_seeds import generated_projects

from tyokyky_eval import demo, load_section, publication
from tyokyky_eval.errors import DataError, ParameterError
from tyokyky_eval.inputs import services
from tyokyky_eval.inputs.project import load_project
from tyokyky_eval.publication.appendix import protect_appendix
from tyokyky_eval.render import document as doc
from tyokyky_eval.render.document import Heading
from tyokyky_eval.run import runner
from tyokyky_eval.sections import REGISTRY

PROJECTS = ["demo", "essote-tyokykya-ja-kumppanuutta", "phhyky-tuetusti-tyohon", "helsinki-tyokykyisempi-stadi",
            "pohde-palo2"]


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """Every parameters file copied to a temporary tree, its synthetic data generated, loaded."""
    return generated_projects(tmp_path_factory.mktemp("projects"), PROJECTS, "en")


def two_services(project_files, sizes: dict, seed: int = 3, min_cell: int = 5, kinds=None, **params):
    """A project whose services have ``sizes`` clients (Essote-like mixes, one cohort each)."""
    kinds = kinds or {code: ("ips" if code.startswith("ips") else "group_employment") for code in sizes}
    cohorts = tuple({"service": code, "clients": n} for code, n in sizes.items())
    tables = demo.generate(demo.DemoSpec(seed=seed, cohorts=cohorts))
    for name, frame in tables.items():
        project_files.write(name, frame)
    project_files.params["services"] = {code: {"kind": kind} for code, kind in kinds.items()}
    project_files.params["disclosure"] = {"min_cell": min_cell, "min_followup": max(10, min_cell)}
    project_files.params.update(params)
    return load_project(project_files.save_params(), "en")


# -- parameters --------------------------------------------------------------------------------
def test_services_block_is_parsed_with_kinds_labels_and_analyses(project_files):
    project_files.params["services"] = {
        "ips": {"kind": "ips", "label": {"fi": "IPS-pilotti", "en": "IPS pilot"}},
        "work_ability_service": "work_ability_service",
        "talk": {"kind": "network_consultation"},
        "grp": {"kind": "group_employment", "analyses": ["flow"]},
    }
    project_files.tables["clients"]["service"] = np.resize(["ips", "work_ability_service", "talk", "grp"],
                                                           len(project_files.tables["clients"]))
    project_files.write("clients", project_files.tables["clients"])
    declared = load_project(project_files.save_params()).params.services
    assert sorted(declared) == ["grp", "ips", "talk", "work_ability_service"]
    assert declared["ips"].analyses == ("flow", "prepost", "survival", "employment", "benchmark")
    assert declared["ips"].name("fi") == "IPS-pilotti" and declared["ips"].name("en") == "IPS pilot"
    wa = declared["work_ability_service"]
    assert wa.analyses == ("flow", "prepost") and wa.name("en") == "Work-ability service"
    assert declared["talk"].analyses == ("flow",)
    assert declared["grp"].analyses == ("flow",)


@pytest.mark.parametrize("block, message", [
    ({"ips": {"kind": "ipss"}}, "params.yaml: services.ips.kind: 'ipss' is not a kind of service (did you mean 'ips'?)"),
    ({"ips": {"kind": "ips", "lable": {"fi": "x"}}}, "params.yaml: services.ips: unknown key 'lable' (did you mean 'label'?)"),
    ({"wa": {"kind": "work_ability_service", "analyses": ["flow", "benchmark"]}},
     "services.wa.analyses: the IPS benchmark (31 / 41 / 50 %) applies only to services of kind ips"),
    ({"ips": {"kind": "ips", "analyses": ["survivl"]}}, "unknown analysis 'survivl' (did you mean 'survival'?)"),
    ({"ips": {"kind": "ips", "analyses": ["benchmark"]}}, "the IPS benchmark needs survival"),
    ({"ips": {"kind": "ips", "label": "IPS"}}, "services.ips.label: expected {fi: text, en: text}"),
    ([], "services: expected 'code: {kind: ips"),
])
def test_bad_services_block_names_file_key_and_suggestion(project_files, block, message):
    project_files.params["services"] = block
    with pytest.raises(ParameterError) as err:
        load_project(project_files.save_params())
    assert any(message in m for m in err.value.messages), err.value.messages


def test_service_codes_in_data_and_parameters_must_match(project_files):
    project_files.params["services"] = {"ipss": {"kind": "ips"}, "lifestyle": {"kind": "lifestyle_guidance"}}
    with pytest.raises(DataError) as err:
        load_project(project_files.save_params())
    text = "\n".join(str(p) for p in err.value.problems)
    assert "params.yaml" in text
    assert "clients have the service 'ips', which is not declared (did you mean 'ipss'?)" in text
    assert "services.ipss: no client has this service (did you mean 'ips'?)" in text
    assert "services.lifestyle: no client has this service" in text


def test_without_a_services_block_every_code_is_other_and_gets_no_benchmark(project_files):
    project = load_project(project_files.save_params())
    assert project.params.services == {}
    resolved = services.resolve(project.params.services, project.table("clients"))
    assert [(s.code, s.kind) for s in resolved.values()] == [("ips", "other")]
    section = load_section("survival", project)
    assert "survival_benchmark" not in section.published() and "survival_summary" in section.published()


# -- the projects tell their source documents' story -------------------------------------------
def test_essote_ips_pilot_has_its_own_figures(projects):
    project = projects["essote-tyokykya-ja-kumppanuutta"]
    clients = project.table("clients")
    assert clients["service"].value_counts().to_dict() == {"work_ability_service": 600, "lifestyle_guidance": 63,
                                                           "ips": 35}
    declared = project.params.services
    assert {c: s.kind for c, s in declared.items()} == {"ips": "ips", "work_ability_service": "work_ability_service",
                                                        "lifestyle_guidance": "lifestyle_guidance"}
    ips = clients[clients["service"].eq("ips")]
    reasons = ips["end_reason"].value_counts().to_dict()
    assert {k: reasons[k] for k in ("employed", "work_trial", "rehabilitative_work", "pension", "other_service")} \
        == {"employed": 10, "work_trial": 6, "rehabilitative_work": 1, "pension": 2, "other_service": 2}
    section = load_section("survival", project)
    assert list(section.cohorts) == ["ips"]  # the work-ability service and lifestyle guidance have no jobs to count
    summary = section.published()["survival_summary"]
    assert summary[["service", "group", "n", "n_events"]].values.tolist() == [["ips", "all", 35, 10]]
    text = " ".join(section.text("en"))
    assert "IPS job coaching pilot" in text and "35 clients, of whom 10 found" in text
    assert "698" not in text and "600" not in text


def test_paijat_hame_shows_its_services_separately(projects):
    section = load_section("survival", projects["phhyky-tuetusti-tyohon"])
    summary = section.published()["survival_summary"]
    assert summary[["service", "n"]].values.tolist() == [["group_employment", 16], ["ips", 24]]
    assert section.published()["survival_benchmark"]["service"].tolist() == ["ips"]
    headings = [p for p in section.text("en") if p.startswith("###")]
    assert len(headings) == 2 and "Group employment" in headings[0] and "IPS" in headings[1]


def test_helsinki_consultations_get_no_employment_section(projects):
    """No service of Helsinki has time to employment: the appendix leaves the section out with the
    runner's one sentence (its title and that sentence: no methods, no results), as a section
    without data; built on its own, the section says so in one sentence."""
    project = projects["helsinki-tyokykyisempi-stadi"]
    assert REGISTRY["survival"].missing(project) == ["services_survival"]
    assert "survival" not in protect_appendix(project).sections
    source = next(path for path in runner.notebook_paths() if path.name == "40_survival.ipynb")
    nb = nbformat.read(str(source), as_version=4)
    missing = runner.missing_tables(nb, project)
    for language, title, sentence in (
            ("fi", "Työllistymisen kesto", ("Tätä osaa ei laadittu, koska hankkeen aineistosta puuttuu: palvelu, "
                                            "jonka analyyseihin kuuluu työllistymisen kesto.")),
            ("en", "Time to employment", ("This section was not produced because the project's data do not "
                                          "include: a service with time to employment among its analyses."))):
        assert runner._skipped_line(nb, source, missing, language) == f"- **{title}**: {sentence}"
        assert not [p for p in runner._not_produced([runner._skipped_line(nb, source, missing, language)], language)
                    for b in p.blocks if isinstance(b, Heading) and b.text == title]  # no heading of its own
    section = load_section("survival", project)
    assert section.tables() == [] and section.published() == {} and section.figures("en") == []
    assert section.text("en") == [publication.text("survival.text.no_service", "en")]


def test_employment_names_its_services_by_their_label(projects):
    """Essote's IPS pilot is "IPS-työhönvalmennuksen pilotti" in the employment tables and text (not
    the package's "IPS-työhönvalmennus"), and its other services, which have no employment among
    their analyses, are not reported even where they have jobs."""
    section = load_section("employment", projects["essote-tyokykya-ja-kumppanuutta"])
    assert [s.code for s in section.services] == ["ips"]
    for language, label, sentence, generic in (
            ("fi", "IPS-työhönvalmennuksen pilotti", "35 asiakkaasta 10 aloitti", "IPS-työhönvalmennus:"),
            ("en", "IPS job coaching pilot", "10 of 35 clients had", "IPS job coaching:")):
        text = " ".join(section.text(language)).replace("\\", "")  # Markdown escapes: "IPS\-työ…"
        assert f"{label}: {sentence}" in text and generic not in text
        tables = [b for b in doc.section_tables(section, language) if isinstance(b, doc.TableBlock)]
        assert {row[0].text for table in tables for row in table.rows} == {label}


def test_employment_covers_only_the_services_with_the_analysis(project_files):
    cohorts = ({"service": "ips", "clients": 30}, {"service": "wa", "clients": 30})
    tables = demo.generate(demo.DemoSpec(seed=3, cohorts=cohorts, tables=(*demo.DemoSpec.tables, "employment")))
    for name, frame in tables.items():
        project_files.write(name, frame)
    assert tables["employment"]["client_id"].isin(tables["clients"].query("service == 'wa'")["client_id"]).any()
    project_files.params["data"]["employment"] = "data/employment.csv"
    project_files.params["services"] = {
        "ips": {"kind": "ips", "label": {"fi": "IPS-kokeilu", "en": "IPS trial"}},
        "wa": {"kind": "group_employment", "label": {"fi": "Ryhmä", "en": "Group"}, "analyses": ["flow", "survival"]}}
    section = load_section("employment", load_project(project_files.save_params(), "en"))
    assert section.published()["employment_clients"]["service"].tolist() == ["ips"]
    assert section.text("fi")[1].startswith("IPS\\-kokeilu: ") and "Ryhmä" not in " ".join(section.text("fi"))
    project_files.params["services"]["wa"]["analyses"] = ["flow", "survival", "employment"]
    section = load_section("employment", load_project(project_files.save_params(), "en"))
    assert section.published()["employment_clients"]["service"].tolist() == ["ips", "wa"]
    assert [label for _, fig in section.figures("en") for label in
            (t.get_text() for t in fig.axes[0].get_legend().get_texts())] == ["IPS trial", "Group"]


@pytest.mark.parametrize("name", PROJECTS)
def test_no_pooled_benchmark_can_appear(projects, name):
    """The benchmark has a service column, every row of it is one IPS service's own clients."""
    project = projects[name]
    section = load_section("survival", project)
    clients = project.table("clients")
    kinds = {c: s.kind for c, s in services.resolve(project.params.services, clients).items()}
    for tables in (section.published(), section.internal()):
        for table in tables.values():
            assert table.columns[0] == "service"
            assert set(table["service"]) <= set(section.cohorts)
        benchmark = tables.get("survival_benchmark", pd.DataFrame(columns=["service"]))
        assert all(kinds[code] == "ips" for code in benchmark["service"])
        assert benchmark["service"].is_unique
    internal = section.internal()
    if "survival_benchmark" in internal:
        for code, row in internal["survival_benchmark"].set_index("service").iterrows():
            assert row["n"] <= int(clients["service"].eq(code).sum())


@pytest.mark.parametrize("name", ["demo", "essote-tyokykya-ja-kumppanuutta", "pohde-palo2"])
def test_benchmark_share_and_wilson_interval_from_the_clients_of_each_service(projects, name):
    """The share by hand from the clients table, the interval from scipy's Wilson interval."""
    project = projects[name]
    clients, cutoff = project.table("clients"), pd.Timestamp(project.params.cutoff_date)
    section = load_section("survival", project)
    benchmark = section.internal()["survival_benchmark"].set_index("service")
    assert list(benchmark.index) == [c for c, s in project.params.services.items() if s.kind == "ips"]
    for code, row in benchmark.iterrows():
        rows = clients[clients["service"].eq(code)]
        followed = rows[(cutoff - rows["start_date"]).dt.days >= 365]
        tte = section.cohorts[code].tte.loc[followed.index]
        employed = int((tte["event"] & tte["time_days"].le(365)).sum())
        assert (row["n"], row["n_employed"]) == (len(followed), employed)
        interval = binomtest(employed, len(followed)).proportion_ci(method="wilson")
        assert row["share"] == pytest.approx(employed / len(followed), abs=1e-12)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((interval.low, interval.high), abs=1e-9)


# -- disclosure across services ----------------------------------------------------------------
@pytest.mark.parametrize("min_cell", (3, 5, 10))
@pytest.mark.parametrize("sizes", [{"ips": 35, "grp": 4}, {"ips": 12, "grp": 60}, {"ips_a": 7, "ips_b": 30}])
def test_no_hidden_count_of_any_service_is_recovered(project_files, min_cell, sizes):
    section = load_section("survival", two_services(project_files, sizes, min_cell=min_cell,
                                                     analyses={"survival": {"group": "referral_source"}}))
    unknowns, equations, bounds = {}, [], {}
    for code in section.cohorts:
        u, e, b = relations(section, code)
        unknowns.update(u), equations.extend(e), bounds.update(b)
    for name, (low, high) in attack(unknowns, equations, bounds).items():
        assert high - low >= 1 - 1e-9, f"{name} recovered: {low}…{high}"
    summary = section.published()["survival_summary"]
    assert "all" not in set(summary["service"])  # no row pools the services


@pytest.mark.parametrize("min_cell", (3, 5))
def test_a_small_service_shows_only_symbols_and_no_curve(project_files, min_cell):
    section = load_section("survival", two_services(project_files, {"ips": 40, "grp": 2}, min_cell=min_cell))
    shown = section.published()
    small = shown["survival_summary"].query("service == 'grp'").iloc[0]
    assert small["n"] in (f"<{min_cell}", "x")  # "x" where the project's totals would pin its range
    assert shown["survival_km"].query("service == 'grp'").empty
    assert all(n in (f"<{min_cell}", "x", 0) for n in shown["survival_rules"].query("service == 'grp'")["n"])


def test_one_client_and_no_events_per_service(project_files):
    project = two_services(project_files, {"ips": 30, "grp": 1}, seed=5)
    clients = project.table("clients")
    clients.loc[clients["service"].eq("ips"), ["first_employment_date", "end_reason"]] = [pd.NaT, "dropped_out"]
    section = load_section("survival", project)
    ips = section.published()["survival_summary"].query("service == 'ips'").iloc[0]
    assert (ips["n"], ips["n_events"]) == (30, 0)
    text = " ".join(section.text("en"))
    assert "Nobody has found a job" in text and "Fewer than 5 clients" in text
    assert section.published()["survival_benchmark"].iloc[0]["n_employed"] == 0
    section.figures("en")


# -- client flow and Kykyviisari coverage per service ------------------------------------------
def test_essote_flow_shows_each_service_with_its_own_shares(projects):
    project = projects["essote-tyokykya-ja-kumppanuutta"]
    section = load_section("overview", project)
    internal = section.internal()["client_flow"].set_index(["service", "end_reason"])
    assert internal.loc[("ips", "total"), "n"] == 35 and internal.loc[("ips", "employed"), "n"] == 10
    assert internal.loc[("ips", "employed"), "share"] == pytest.approx(100 * 10 / 35)
    assert {r: internal.loc[("ips", r), "n"] for r in ("work_trial", "rehabilitative_work", "pension",
                                                       "other_service")} \
        == {"work_trial": 6, "rehabilitative_work": 1, "pension": 2, "other_service": 2}
    assert internal.loc[("work_ability_service", "total"), "n"] == 600
    assert internal.loc[("lifestyle_guidance", "total"), "n"] == 63
    assert internal.loc[("total", "total"), "n"] == 698  # all services together: counts only
    shown = section.published()["client_flow"].set_index(["service", "end_reason"])
    assert shown.loc[("ips", "employed"), "n"] == 10 and shown.loc[("ips", "total"), "n"] == 35
    assert shown.loc[("ips", "employed"), "share"] == pytest.approx(100 * 10 / 35)
    for reason in ("rehabilitative_work", "pension", "other_service"):  # 1, 2 and 2 clients: below min_cell
        assert shown.loc[("ips", reason), "n"] == "<5" and shown.loc[("ips", reason), "share"] == ".."


def test_essote_kykyviisari_coverage_is_the_ips_pilots(projects):
    section = load_section("prepost", projects["essote-tyokykya-ja-kumppanuutta"])
    assert list(section.cohorts) == ["ips"]
    attrition = section.published()["prepost_attrition"].set_index(["service", "timepoint"])
    assert attrition.loc[("ips", "baseline"), "n_due"] == 35
    measured = projects["essote-tyokykya-ja-kumppanuutta"].table("kykyviisari")["client_id"].nunique()
    shown = attrition.loc[("ips", "baseline"), "n_measured"]
    assert measured == 31 and (shown == "x" or shown <= measured)  # a margin: hidden before the pairs
    summary = section.published()["prepost_summary"].set_index(["measure", "comparison"])
    assert summary.loc[("work_ability", "baseline_followup"), "n_pairs"] == 11  # the pairs carry the results


def test_paijat_hame_and_helsinki_flows(projects):
    ph = load_section("overview", projects["phhyky-tuetusti-tyohon"]).internal()["client_flow"]
    assert list(dict.fromkeys(ph["service"])) == ["work_ability_coordinator", "group_employment", "ips", "total"]
    totals = ph[ph["end_reason"].eq("total")].set_index("service")["n"].to_dict()
    assert totals == {"work_ability_coordinator": 90, "group_employment": 16, "ips": 24, "total": 130}
    prepost = load_section("prepost", projects["phhyky-tuetusti-tyohon"])
    assert list(prepost.cohorts) == ["work_ability_coordinator", "group_employment", "ips"]
    helsinki = projects["helsinki-tyokykyisempi-stadi"]
    flow = load_section("overview", helsinki).internal()["client_flow"]
    assert list(dict.fromkeys(flow["service"])) == ["network_consultation", "total"]
    assert "employed" not in set(flow["end_reason"])  # consultations have no employment outcome


def test_a_service_without_flow_is_left_out_of_the_overview_only(project_files):
    project = two_services(project_files, {"ips": 30, "grp": 20},
                           kinds={"ips": "ips", "grp": "group_employment"})
    project.params.services["grp"] = services.Service("grp", "group_employment", (), ("survival",))
    flow = load_section("overview", project).published()["client_flow"]
    assert list(dict.fromkeys(flow["service"])) == ["ips", "total"]
    assert list(load_section("prepost", project).cohorts) == ["ips"]
    assert sorted(load_section("survival", project).cohorts) == ["grp", "ips"]
