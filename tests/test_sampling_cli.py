"""QuaDMix sampling through the `quadmix-wh` CLI on a tiny project this file writes: generated
documents (seed CSV with token counts and texts), generated score and domain tables, and the
default project's own mixture models, schema tests and sampling macros (copied). Covers
`run`/`build` outputs (mixture, per-domain summary, totals), parameter sources and their
validation before any table is built, the mixture data tests, and `export` to Parquet."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest

from quadmix_wh.sampling.export import verify_export
from test_engine_support import cli, query

REPO = Path(__file__).resolve().parent.parent
DOMAINS = ("news", "code", "forum")
CRITERIA = [{"name": "edu", "direction": "higher"}, {"name": "ppl", "direction": "lower"}]
PARAMS_YAML = """\
param_sets:
  default:
    '*': {lambda: 10.0, omega: 0.5, eta: 1.0, epsilon: 0.05}
    code: {alpha: {edu: 0.25, ppl: 0.75}, lambda: 50.0, omega: 0.3, eta: 2.0, epsilon: 0.2}
"""


def write_project(root: Path, n_docs: int = 400, seed: int = 0, quadmix: dict | None = None) -> Path:
    """quadmix: the vars.quadmix to use (default: two criteria, edu and ppl, data/params.yml)."""
    rng = np.random.default_rng(seed)
    quadmix = quadmix or {"criteria": CRITERIA, "seed": 3, "params_source": "file", "params_file": "data/params.yml"}
    (root / "seeds").mkdir(parents=True)
    (root / "models" / "inputs").mkdir(parents=True)
    (root / "data").mkdir()
    docs, scores, domains = ["doc_id,text,n_tokens"], ["doc_id,criterion,value"], ["doc_id,domain,confidence"]
    for i in range(n_docs):
        doc_id = f"d{i:05d}"
        n_tokens = 0 if i % 97 == 5 else int(rng.lognormal(4, 0.8))
        docs.append(f"{doc_id},text of {doc_id},{n_tokens}")
        for c in quadmix["criteria"]:
            value = round(float(rng.uniform(0, 5)), 1) if c["direction"] == "higher" else float(rng.lognormal(3, 0.5))
            scores.append(f"{doc_id},{c['name']},{value:.6f}")
        domains.append(f"{doc_id},{DOMAINS[int(rng.integers(0, 3))]},1.0")
    scores.append("d00000,unused_criterion,1.0")          # other criteria are ignored
    (root / "seeds" / "doc_rows.csv").write_text("\n".join(docs) + "\n")
    (root / "seeds" / "score_rows.csv").write_text("\n".join(scores) + "\n")
    (root / "seeds" / "domain_rows.csv").write_text("\n".join(domains) + "\n")
    (root / "models" / "inputs" / "documents.sql").write_text(
        "SELECT doc_id, text, n_tokens::BIGINT AS n_tokens FROM {{ ref('doc_rows') }}\n")
    (root / "models" / "inputs" / "quality_scores.sql").write_text(
        "SELECT doc_id, criterion, value::DOUBLE AS value FROM {{ ref('score_rows') }}\n")
    (root / "models" / "inputs" / "doc_domains.sql").write_text(
        "SELECT doc_id, domain, confidence FROM {{ ref('domain_rows') }}\n")
    shutil.copytree(REPO / "models" / "mixture", root / "models" / "mixture")
    shutil.copytree(REPO / "macros" / "quadmix", root / "macros" / "quadmix")
    (root / "data" / "params.yml").write_text(PARAMS_YAML)
    config = {"name": "tinymix", "warehouse": {"path": "wh.duckdb", "threads": 2},
              "vars": {"quadmix": quadmix},
              "models": {"tinymix": {"+materialized": "table"}}}
    (root / "project.yml").write_text(json.dumps(config, indent=2))
    return root


def tables(root: Path) -> set[str]:
    if not (root / "wh.duckdb").exists():
        return set()
    return {r[0] for r in query(root, "SELECT table_name FROM information_schema.tables")}


@pytest.fixture(scope="module")
def built_template(tmp_path_factory):
    root = write_project(tmp_path_factory.mktemp("tinymix") / "p")
    cli(root, "build")
    return root


@pytest.fixture
def project(built_template, tmp_path):
    root = tmp_path / "p"
    shutil.copytree(built_template, root)
    return root


# ---- run: mixture, per-domain summary, totals --------------------------------------------------

def test_build_produces_mixture_summary_and_totals(built_template):
    root = built_template
    assert {"sampling_params", "mixture_scored", "mixture", "mixture_domain_summary", "mixture_totals"} <= tables(root)
    # the mixture is the scored rows drawn at least once
    assert query(root, "SELECT count(*) FROM mixture") == query(root, "SELECT count(*) FROM mixture_scored WHERE copies > 0")
    assert query(root, "SELECT count(*) FROM mixture WHERE copies <= 0 OR tokens <> copies * "
                       "(SELECT n_tokens FROM documents d WHERE d.doc_id = mixture.doc_id)") == [(0,)]
    summary = {r[0]: r[1:] for r in query(root, """
        SELECT domain, documents, available_tokens, sampled_tokens, share_before, share_after, mean_qbar_kept
        FROM mixture_domain_summary WHERE param_set = 'default'""")}
    assert set(summary) == set(DOMAINS)
    scored = query(root, "SELECT domain, n_tokens, copies, qbar FROM mixture_scored")
    all_tokens = sum(r[1] for r in scored)
    all_sampled = sum(r[1] * r[2] for r in scored)
    for domain, (documents, available, sampled, before, after, mean_q) in summary.items():
        rows = [r for r in scored if r[0] == domain]
        assert documents == len(rows)
        assert available == sum(r[1] for r in rows)
        assert sampled == sum(r[1] * r[2] for r in rows)
        assert before == pytest.approx(available / all_tokens)
        assert after == pytest.approx(sampled / all_sampled)
        kept = [(r[2], r[3]) for r in rows if r[2] > 0]
        assert mean_q == pytest.approx(sum(c * q for c, q in kept) / sum(c for c, _ in kept))
    assert sum(v[3] for v in summary.values()) == pytest.approx(1.0)
    assert sum(v[4] for v in summary.values()) == pytest.approx(1.0)
    (ps, available, expected, sampled, _sigma, budget), = query(
        root, "SELECT param_set, available_tokens, expected_tokens, sampled_tokens, sigma_tokens, budget_tokens "
              "FROM mixture_totals")
    assert (ps, available, sampled, budget) == ("default", all_tokens, all_sampled, None)
    # the per-domain parameters were used: 'code' (eta 2, epsilon 0.2) keeps its best docs more
    s_code = query(root, "SELECT max(s), min(s) FROM mixture_scored WHERE domain = 'code'")[0]
    assert s_code[0] == pytest.approx(2.0 ** 2 / (1 + np.exp(-50 * 0.3)) ** 2 * 1 + 0.2, rel=0.05)
    assert s_code[1] == pytest.approx(0.2)


def test_budget_rescales_to_the_requested_total(project):
    cli(project, "run", "--vars", "{quadmix: {budget_tokens: 20000, budget_tolerance: 0.05}}")
    (expected, sampled, budget, sigma), = query(
        project, "SELECT expected_tokens, sampled_tokens, budget_tokens, sigma_tokens FROM mixture_totals")
    assert budget == 20000 and expected == pytest.approx(20000, rel=1e-9)
    assert abs(sampled - 20000) <= max(0.05 * 20000, 5 * sigma)
    cli(project, "test", "--select", "mixture_totals")


def test_sampled_rank_method_builds_through_hooks_and_matches_the_api(project):
    """vars.quadmix.rank_method 'sampled': the mixture_scored model prepares its temp tables in a
    pre_hook and drops them in a post_hook; the result equals build_mixture() on the same tables,
    and the mixture data tests pass on it."""
    from quadmix_wh.sampling import build_mixture  # noqa: PLC0415
    cli(project, "run", "--vars", "{quadmix: {rank_method: sampled, sample_docs: 50}}")
    cli(project, "test", "--select", "mixture_scored mixture mixture_totals")
    got = query(project, "SELECT param_set, doc_id, qbar, rbar, s, copies FROM mixture_scored ORDER BY ALL")
    con = duckdb.connect(str(project / "wh.duckdb"))
    try:
        build_mixture(con, params_table="sampling_params", seed=3, out_table="api_scored", criteria=CRITERIA,
                      rank_method="sampled", sample_docs=50, output="scored")
        want = con.execute("SELECT param_set, doc_id, qbar, rbar, s, copies FROM api_scored ORDER BY ALL").fetchall()
        published = con.execute("SELECT param_set, doc_id, qbar, rbar, s, copies FROM mixture_scored ORDER BY ALL").fetchall()
    finally:
        con.close()
    assert got == want and len(got) == 400
    result = cli(project, "run", "--vars", "{quadmix: {rank_method: sampled, normalization: zscore}}", expect=None)
    assert result.exit_code != 0 and "needs normalization 'percentile'" in result.output
    assert published == got                   # the failed run published nothing


def test_default_project_settings_build(tmp_path):
    """The default project's vars.quadmix (criteria edu/dclm/perplexity, data/params/default.yml)
    with generated scores in place of the scorer models."""
    import yaml  # noqa: PLC0415
    quadmix = yaml.safe_load((REPO / "project.yml").read_text())["vars"]["quadmix"]
    assert [c["name"] for c in quadmix["criteria"]] == ["edu", "dclm", "perplexity"]
    root = write_project(tmp_path / "p", n_docs=120, quadmix=quadmix)
    (root / "data" / "params").mkdir()
    shutil.copy(REPO / quadmix["params_file"], root / quadmix["params_file"])
    result = cli(root, "build")
    assert "FAIL" not in result.output and "ERROR" not in result.output
    columns = [r[0] for r in query(root, "SELECT column_name FROM information_schema.columns "
                                         "WHERE table_name = 'sampling_params' ORDER BY ordinal_position")]
    assert columns == ["param_set", "domain", "alpha_edu", "alpha_dclm", "alpha_perplexity",
                       "lambda", "omega", "eta", "epsilon"]
    assert query(root, "SELECT count(DISTINCT domain) FROM mixture_domain_summary") == [(3,)]
    assert query(root, "SELECT count(*) > 0 FROM mixture") == [(True,)]
    assert (root / "target" / "mixture_export" / "default" / "manifest.json").is_file()


# ---- parameter sources and validation before anything is built -------------------------------

@pytest.mark.parametrize("params, message", [
    ({"ps1": {"news": {"alpha": {"edu": 0.7, "ppl": 0.7}, "lambda": 1, "omega": 0.5, "eta": 1, "epsilon": 0}}},
     "param_set 'ps1', domain 'news': fields alpha_edu, alpha_ppl sum to"),
    ({"ps2": {"*": {"lambda": -1, "omega": 0.5, "eta": 1, "epsilon": 0}}},
     "param_set 'ps2', domain '*': field 'lambda' = -1.0 is negative"),
    ({"ps3": {"code": {"lambda": 1, "omega": 1.5, "eta": 1, "epsilon": 0}}},
     "param_set 'ps3', domain 'code': field 'omega' = 1.5 is outside [0, 1]"),
    ({"ps4": {"code": {"lambda": 1, "omega": -0.1, "eta": 1, "epsilon": 0}}},
     "param_set 'ps4', domain 'code': field 'omega' = -0.1 is outside [0, 1]"),
    ({"ps5": {"code": {"alpha": {"edu": 1.0, "dclm": 0.0}, "lambda": 1, "omega": 0.5, "eta": 1, "epsilon": 0}}},
     "field 'alpha_dclm' names an unknown criterion"),
    ({"ps6": {"code": {"lambda": 1, "eta": 1, "epsilon": 0}}}, "param_set 'ps6', domain 'code': field 'omega' is missing"),
])
def test_invalid_params_from_vars_stop_the_run_before_any_table(tmp_path, params, message):
    root = write_project(tmp_path / "p", n_docs=30)
    vars_text = json.dumps({"quadmix": {"params_source": "vars", "params": params}})
    result = cli(root, "run", "--vars", vars_text, expect=None)
    assert result.exit_code != 0
    assert message in result.output
    assert tables(root) == set()       # nothing was built, not even the inputs


def test_invalid_params_file_stops_the_run(tmp_path):
    root = write_project(tmp_path / "p", n_docs=30)
    (root / "data" / "params.yml").write_text(PARAMS_YAML.replace("omega: 0.3", "omega: 3"))
    result = cli(root, "build", expect=None)
    assert result.exit_code != 0
    assert "param_set 'default', domain 'code': field 'omega' = 3.0 is outside [0, 1]" in result.output
    assert tables(root) == set()
    (root / "data" / "params.yml").unlink()
    result = cli(root, "run", expect=None)
    assert result.exit_code != 0 and "params.yml does not exist" in result.output


def test_params_from_vars_csv_and_search_table(project):
    # vars: two parameter sets in one query
    params = {"keep_all": {"*": {"lambda": 0, "omega": 1, "eta": 0, "epsilon": 0}},
              "strict": {"*": {"alpha": {"edu": 1.0, "ppl": 0.0}, "lambda": 100, "omega": 0.2, "eta": 1, "epsilon": 0}}}
    cli(project, "run", "--vars", json.dumps({"quadmix": {"params_source": "vars", "params": params}}))
    got = dict(query(project, "SELECT param_set, sum(copies) FROM mixture GROUP BY 1"))
    n_docs = query(project, "SELECT count(*) FROM doc_domains")[0][0]
    assert got["keep_all"] == n_docs                       # S = 1 everywhere: one copy each
    assert 0 < got["strict"] < n_docs
    # CSV file source (flat rows)
    (project / "data" / "params.csv").write_text(
        "param_set,domain,alpha_edu,alpha_ppl,lambda,omega,eta,epsilon\ncsvset,*,0.5,0.5,10,0.4,1,0.01\n")
    cli(project, "run", "--vars", "{quadmix: {params_file: data/params.csv}}")
    assert query(project, "SELECT DISTINCT param_set FROM mixture") == [("csvset",)]
    # search source: the table `quadmix-wh search` writes, validated too
    con = duckdb.connect(str(project / "wh.duckdb"))
    con.execute("CREATE TABLE search_best_params AS SELECT 'best' AS param_set, '*' AS domain, 0.9 AS alpha_edu, "
                "0.1 AS alpha_ppl, 20.0 AS lambda, 0.3 AS omega, 1.0 AS eta, 0.0 AS epsilon")
    con.close()
    cli(project, "run", "--vars", "{quadmix: {params_source: search}}")
    assert query(project, "SELECT DISTINCT param_set FROM mixture_scored") == [("best",)]
    con = duckdb.connect(str(project / "wh.duckdb"))
    con.execute("UPDATE search_best_params SET alpha_ppl = 0.2")
    con.close()
    result = cli(project, "run", "--vars", "{quadmix: {params_source: search}}", expect=None)
    assert result.exit_code != 0 and "param_set 'best', domain '*': fields alpha_edu, alpha_ppl sum to" in result.output
    assert query(project, "SELECT DISTINCT param_set FROM mixture_scored") == [("best",)]   # untouched


# ---- data tests on mixtures --------------------------------------------------------------------

def test_data_tests_pass_then_catch_each_defect(project):
    assert "FAIL" not in cli(project, "test").output
    con = duckdb.connect(str(project / "wh.duckdb"))
    con.execute("INSERT INTO mixture VALUES ('default', 'ghost-doc', 1, 10)")        # not in documents
    con.execute("UPDATE mixture SET copies = -1 WHERE doc_id = (SELECT min(doc_id) FROM mixture)")
    con.execute("UPDATE mixture_scored SET rbar = 1.5 WHERE doc_id = (SELECT min(doc_id) FROM mixture_scored)")
    # S rising with rbar: give the worst-ranked doc of 'news' a bigger S than the best one
    con.execute("""UPDATE mixture_scored SET s = 99 WHERE doc_id = (
                     SELECT doc_id FROM mixture_scored WHERE domain = 'news' ORDER BY rbar DESC, doc_id LIMIT 1)""")
    con.execute("UPDATE mixture_totals SET budget_tokens = 1000, budget_tolerance = 0.01")
    con.close()
    result = cli(project, "test", expect=1)
    failing = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    text = "\n".join(failing)
    assert "relationships" in text and "mixture" in text                 # ghost-doc
    assert "range" in text                                               # copies < 0, rbar > 1
    assert "quadmix_non_increasing" in text                              # S up with rbar
    assert "mixture_totals" in text                                      # budget missed
    assert len(failing) >= 5, result.output


# ---- export --------------------------------------------------------------------------------------

def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_export_copies_layout_matches_the_mixture(project, tmp_path):
    out = tmp_path / "export"
    result = cli(project, "export", str(out), "--rows-per-file", "50")
    assert "Exported param_set default" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    mixture = dict(((d, (c, t)) for d, c, t in query(project, "SELECT doc_id, copies, tokens FROM mixture")))
    assert manifest["param_set"] == "default" and manifest["seed"] == 3 and manifest["layout"] == "copies"
    assert manifest["totals"]["documents"] == len(mixture) == manifest["totals"]["rows"]
    assert manifest["totals"]["copies"] == sum(c for c, _ in mixture.values())
    assert manifest["totals"]["tokens"] == sum(t for _, t in mixture.values())
    assert [c["name"] for c in manifest["columns"]] == ["doc_id", "domain", "n_tokens", "copies", "tokens", "text"]
    assert {p["domain"] for p in manifest["params"]} == {"*", "code"}
    files = manifest["files"]
    assert {f["partition"] for f in files} == set(DOMAINS)
    assert all(f["rows"] <= 50 for f in files) and len(files) > len(DOMAINS)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet")) == sorted(f["path"] for f in files)
    con = duckdb.connect()
    for f in files:
        path = out / f["path"]
        assert _sha(path) == f["sha256"] and path.stat().st_size == f["bytes"]
        rows = con.execute(f"SELECT count(*), sum(copies), sum(tokens), count(DISTINCT domain), min(domain) "
                           f"FROM read_parquet('{path}')").fetchall()[0]
        assert rows[:3] == (f["rows"], f["copies"], f["tokens"]) and rows[3:] == (1, f["partition"])
    exported = con.execute(f"SELECT doc_id, copies, tokens, text, domain FROM read_parquet('{out}/**/*.parquet')").fetchall()
    assert {d: (c, t) for d, c, t, _, _ in exported} == mixture
    assert all(text == f"text of {d}" for d, _, _, text, _ in exported)
    domains = dict(query(project, "SELECT doc_id, domain FROM doc_domains"))
    assert all(domains[d] == dom for d, _, _, _, dom in exported)
    # hive partitioning reads the domain back from the folder names too
    assert con.execute(f"SELECT count(*) FROM read_parquet('{out}/*/*.parquet', hive_partitioning=true)").fetchall() \
        == [(len(mixture),)]
    # the Python API re-checks the checksums
    assert verify_export(out) == []
    victim = out / files[0]["path"]
    victim.write_bytes(victim.read_bytes()[:-1] + b"x")
    (out / files[1]["path"]).unlink()
    assert verify_export(out) == [f"{files[0]['path']}: sha256 differs from the manifest", f"{files[1]['path']}: missing"]


def test_export_rows_layout_has_one_row_per_copy(project, tmp_path):
    out = tmp_path / "rows"
    cli(project, "export", str(out), "--layout", "rows", "--partition-by", "none", "--order", "doc_id",
        "--columns", "")
    manifest = json.loads((out / "manifest.json").read_text())
    assert [c["name"] for c in manifest["columns"]] == ["doc_id", "domain", "copy", "n_tokens"]
    assert [f["path"] for f in manifest["files"]] == ["part-00000.parquet"]
    con = duckdb.connect()
    rows = con.execute(f"SELECT doc_id, copy, n_tokens FROM read_parquet('{out}/part-00000.parquet')").fetchall()
    mixture = {d: (c, t) for d, c, t in query(project, "SELECT doc_id, copies, tokens FROM mixture")}
    assert len(rows) == sum(c for c, _ in mixture.values()) == manifest["totals"]["rows"] == manifest["totals"]["copies"]
    assert rows == sorted(rows)                                          # --order doc_id
    for doc_id, (copies, tokens) in mixture.items():
        mine = [r for r in rows if r[0] == doc_id]
        assert [r[1] for r in mine] == list(range(copies))
        assert sum(r[2] for r in mine) == tokens
    assert manifest["totals"]["tokens"] == sum(t for _, t in mixture.values())


def test_export_is_deterministic_and_atomic(project, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    cli(project, "export", str(first), "--layout", "rows", "--rows-per-file", "70")
    project_yml = project / "project.yml"
    config = json.loads(project_yml.read_text())
    config["warehouse"]["threads"] = 1
    project_yml.write_text(json.dumps(config))
    cli(project, "export", str(second), "--layout", "rows", "--rows-per-file", "70")
    a, b = (json.loads((d / "manifest.json").read_text()) for d in (first, second))
    assert a == b                                                        # same bytes: same sha256 values
    # the shuffled order depends on the seed
    cli(project, "export", str(tmp_path / "c"), "--layout", "rows", "--rows-per-file", "70",
        "--vars", "{quadmix: {seed: 4}}")
    c = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert c["seed"] == 4 and c["totals"] == a["totals"] and c["files"] != a["files"]
    # a folder that is not an earlier export is not replaced without --overwrite
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    result = cli(project, "export", str(foreign), expect=2)
    assert "already exists and is not an earlier export" in result.output
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    cli(project, "export", str(foreign), "--overwrite")
    assert (foreign / "manifest.json").is_file() and not (foreign / "notes.txt").exists()
    shutil.rmtree(foreign)
    # an earlier export is replaced by the same export: same bytes
    before = {p: _sha(p) for p in first.rglob("*") if p.is_file()}
    cli(project, "export", str(first), "--layout", "rows", "--rows-per-file", "70")
    assert {p: _sha(p) for p in first.rglob("*") if p.is_file()} == before
    # a failing export (unknown column) leaves the old folder and no temporary folder behind
    result = cli(project, "export", str(first), "--overwrite", "--columns", "nope", expect=2)
    assert "no column 'nope'" in result.output
    assert {p: _sha(p) for p in first.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c", "p"]
    # a different export replaces it
    cli(project, "export", str(first), "--partition-by", "none")
    assert [f["path"] for f in json.loads((first / "manifest.json").read_text())["files"]] == ["part-00000.parquet"]
    assert not any((first / f"domain={d}").exists() for d in DOMAINS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c", "p"]


def test_export_errors_are_clear(project, tmp_path):
    result = cli(project, "export", str(tmp_path / "x"), "--param-set", "nope", expect=2)
    assert "param_set 'nope' is not in mixture table 'mixture' (it has default)" in result.output
    cli(project, "run", "--vars", json.dumps({"quadmix": {"params_source": "vars", "params": {
        "a": {"*": {"lambda": 1, "omega": 0.5, "eta": 1, "epsilon": 0}},
        "b": {"*": {"lambda": 1, "omega": 0.9, "eta": 1, "epsilon": 0}}}}}))
    result = cli(project, "export", str(tmp_path / "x"), expect=2)
    assert "holds 2 parameter sets (a, b); choose one" in result.output
    cli(project, "export", "--out", str(tmp_path / "x"), "--param-set", "b")
    assert json.loads((tmp_path / "x" / "manifest.json").read_text())["param_set"] == "b"
    cli(project, "export", "--param-set", "a")                           # default folder
    assert json.loads((project / "target" / "mixture" / "manifest.json").read_text())["param_set"] == "a"
    result = cli(project, "export", str(tmp_path / "x1"), "--out", str(tmp_path / "x2"), expect=2)
    assert "two output folders" in result.output
    assert not (tmp_path / "fresh").exists()
    result = cli(write_project(tmp_path / "fresh", n_docs=10), "export", str(tmp_path / "y"), expect=2)
    assert "does not exist" in result.output


def test_run_writes_the_export_of_every_param_set(project):
    # `build` (the fixture) wrote target/mixture_export/default and listed its files
    folder = project / "target" / "mixture_export" / "default"
    manifest = json.loads((folder / "manifest.json").read_text())
    listed = query(project, "SELECT param_set, folder, path, rows, tokens, sha256 FROM mixture_export ORDER BY path")
    assert [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in listed] == [
        ("default", "target/mixture_export/default", f["path"], f["rows"], f["tokens"], f["sha256"])
        for f in sorted(manifest["files"], key=lambda f: f["path"])]
    assert all(_sha(folder / f["path"]) == f["sha256"] for f in manifest["files"])
    assert manifest["totals"]["tokens"] == query(project, "SELECT sum(tokens) FROM mixture")[0][0]
    # options from vars; two parameter sets -> two folders; export disabled -> empty table
    params = {"a": {"*": {"lambda": 1, "omega": 0.5, "eta": 1, "epsilon": 0}},
              "b": {"*": {"lambda": 1, "omega": 0.9, "eta": 1, "epsilon": 0}}}
    cli(project, "run", "--vars", json.dumps({"quadmix": {"params_source": "vars", "params": params, "export": {
        "path": "out/mix", "layout": "rows", "partition_by": "none", "columns": []}}}))
    for name in ("a", "b"):
        m = json.loads((project / "out" / "mix" / name / "manifest.json").read_text())
        assert m["layout"] == "rows" and [f["path"] for f in m["files"]] == ["part-00000.parquet"]
        assert m["totals"]["rows"] == query(project, f"SELECT sum(copies) FROM mixture WHERE param_set = '{name}'")[0][0]
    assert query(project, "SELECT DISTINCT param_set FROM mixture_export ORDER BY 1") == [("a",), ("b",)]
    cli(project, "run", "--vars", "{quadmix: {export: {enabled: false}}}")
    assert query(project, "SELECT count(*) FROM mixture_export") == [(0,)]
