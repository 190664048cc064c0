"""The shipped demo corpus and tokenizer: loadable, shippable sources only, clean ingestion."""

import pathlib

import duckdb
import yaml

from quadmix_wh.ingest import ingest_source
from quadmix_wh.tokenizer import count_tokens, load_tokenizer

REPO = pathlib.Path(__file__).resolve().parent.parent
NOT_SHIPPABLE = {"news_bbc", "code_c", "forum_toxic"}


def _demo_specs():
    config = yaml.safe_load((REPO / "models" / "sources.yml").read_text())
    [demo] = [s for s in config["sources"] if s["name"] == "demo"]
    return [{**{"format": demo.get("format")}, **table, "source_name": "demo"} for table in demo["tables"]]


def test_shipped_tokenizer_has_8192_tokens():
    tokenizer = load_tokenizer(REPO / "data" / "tokenizer.json")
    assert tokenizer.get_vocab_size() == 8192
    assert count_tokens(["Hello, world!"], tokenizer)[0] < len("Hello, world!")


def test_demo_sources_ingest_cleanly_and_target_is_held_out():
    con = duckdb.connect()
    loaded = {}
    for spec in _demo_specs():
        table = f"demo__{spec['name']}"
        report = ingest_source(con, spec, REPO, table)
        assert report.rows_quarantined == 0, report.by_reason
        loaded[spec["name"]] = report.rows_loaded
    assert loaded["target_reference"] > 0 and len(loaded) >= 9
    candidates = " UNION ALL ".join(f"SELECT doc_id, source FROM demo__{n}" for n in loaded if n != "target_reference")
    sources = {s for (s,) in con.execute(f"SELECT DISTINCT source FROM ({candidates})").fetchall()}
    assert sources.isdisjoint(NOT_SHIPPABLE) and len(sources) >= 8
    overlap = con.execute(
        f"SELECT count(*) FROM ({candidates}) c JOIN demo__target_reference t USING (doc_id)").fetchone()
    assert overlap == (0,)
    target_sources = {s for (s,) in con.execute("SELECT DISTINCT source FROM demo__target_reference").fetchall()}
    assert target_sources == {"encyclopedic", "literature_speeches", "tech_docs", "academic"}
