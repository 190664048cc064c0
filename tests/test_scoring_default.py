"""The default project's shipped scorers (data/scorers/, trained by scripts/train_scorers.py):
each declaration in udfs/ loads, scores through its loader, stays small, and the shipped
evaluation was measured on exactly these weights and beats its baselines."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from test_engine_support import cli

from quadmix_wh.project import load_project
from quadmix_wh.scoring import ScoreCache, load_declarations, load_scorer, output_types
from quadmix_wh.scoring.batching import score_texts

REPO = Path(__file__).resolve().parent.parent
GENRES = {"academic", "code", "encyclopedia", "expository", "literature", "qa_forum", "quotes_jokes",
          "reviews", "tech_docs", "web"}
MAX_FILE_BYTES = 8 * 1024 * 1024

WIKI = ("The Roman Empire was the post-Republican period of ancient Rome. As a polity it included large "
        "territorial holdings around the Mediterranean Sea in Europe, Northern Africa, and Western Asia, "
        "ruled by emperors. From the accession of Caesar Augustus as the first Roman emperor to the "
        "military anarchy of the 3rd century, it was a Principate with Italia as the metropole of its "
        "provinces and the city of Rome as its sole capital.")
CODE = ("import os\n\n\ndef walk(top):\n    \"\"\"Yield every file below top.\"\"\"\n    for root, dirs, files in "
        "os.walk(top):\n        for name in files:\n            yield os.path.join(root, name)\n")
JOKE = "Q: Why did the chicken cross the road?\nA: To get to the other side! ;-)"


@pytest.fixture(scope="module")
def project():
    return load_project(REPO)


def test_shipped_artifacts_are_small(project):
    specs = load_declarations(project)
    assert set(specs) >= {"domain", "dclm", "edu", "perplexity"}
    total = 0
    for spec in specs.values():
        files = [spec.checkpoint] if spec.checkpoint.is_file() else [p for p in spec.checkpoint.rglob("*")
                                                                     if p.is_file()]
        assert files, spec.checkpoint
        for path in files:
            assert path.stat().st_size < MAX_FILE_BYTES, path
            total += path.stat().st_size
    assert total < 20 * 1024 * 1024


def _score(spec, texts):
    scorer = load_scorer(spec, ScoreCache.for_spec(spec).fingerprint)
    return score_texts(scorer, texts, output_types(spec), 8).to_pydict()


def test_default_scorers_load_and_score(project):
    specs = load_declarations(project)
    texts = [WIKI, CODE, JOKE, ""]
    domain = _score(specs["domain"], texts)
    # Plain prose without wikitext markup reads as encyclopedia or academic writing.
    assert domain["label"][0] in {"encyclopedia", "academic"} and domain["label"][1:] == ["code", "quotes_jokes", None]
    assert set(domain["label"][:3]) <= GENRES
    assert all(0 < c <= 1 for c in domain["confidence"][:3]) and domain["null_reason"][3] == "empty_text"
    dclm = _score(specs["dclm"], texts)
    assert dclm["prob"][0] > 0.5 > dclm["prob"][2]
    edu = _score(specs["edu"], texts)
    assert edu["score"][0] > edu["score"][2] + 1.5 and edu["int_score"][0] >= 2 and edu["int_score"][2] <= 1
    ppl = _score(specs["perplexity"], texts)
    assert all(math.isfinite(p) and p > 1 for p in ppl["perplexity"][:3])
    assert ppl["perplexity"][0] < ppl["perplexity"][2]  # Wikipedia prose is closest to the reference LM


def test_scorers_command_shows_the_shipped_evaluation(tmp_path):
    """On a copy without a warehouse: the evaluation comes from data/scorers/evaluation.json and
    every row was measured on the weights the declarations point to."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "project.yml", root / "project.yml")
    shutil.copytree(REPO / "udfs", root / "udfs")
    shutil.copytree(REPO / "data" / "scorers", root / "data" / "scorers")
    report = json.loads(cli(root, "scorers", "--json").output)
    assert {s["name"] for s in report["scorers"]} == {"domain", "dclm", "edu", "perplexity"}
    assert all(s["version"] and not s["problem"] for s in report["scorers"])
    rows = {(m["scorer"], m["metric"]): m for m in report["evaluation"]}
    assert all(m["current"] for m in report["evaluation"]), [k for k, m in rows.items() if not m["current"]]

    def beats(key, higher=True):
        m = rows[key]
        return m["value"] > m["baseline"] if higher else m["value"] < m["baseline"]
    assert beats(("domain", "heldout_accuracy")) and rows[("domain", "heldout_accuracy")]["value"] > 0.8
    assert beats(("domain", "heldout_balanced_accuracy"))
    assert beats(("dclm", "heldout_auc")) and rows[("dclm", "heldout_auc")]["value"] > 0.9
    assert beats(("edu", "heldout_spearman")) and rows[("edu", "heldout_spearman")]["value"] > 0.5
    assert beats(("edu", "heldout_mae"), higher=False)
    assert beats(("perplexity", "heldout_token_perplexity_encyclopedic"), higher=False)
    text = cli(root, "scorers").output
    assert "Evaluation (from data/scorers/evaluation.json)" in text and "heldout_auc" in text
    assert "STALE" not in text
