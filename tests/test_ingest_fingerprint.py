"""source_fingerprint: changes with content, file set and options; stable otherwise."""

import pytest

from quadmix_wh.ingest import SourceError, source_fingerprint


def _spec(path="*.jsonl", **extra):
    return {"source_name": "raw", "name": "docs", "path": path, "format": "jsonl", **extra}


def test_fingerprint_tracks_content_files_and_options(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"id": "1", "text": "one"}\n')
    first = source_fingerprint(_spec(), tmp_path)
    assert source_fingerprint(_spec(), tmp_path) == first

    (tmp_path / "a.jsonl").write_text('{"id": "1", "text": "uno"}\n')  # same size, new content
    changed = source_fingerprint(_spec(), tmp_path)
    assert changed != first

    (tmp_path / "b.jsonl").write_text('{"id": "2", "text": "two"}\n')
    assert source_fingerprint(_spec(), tmp_path) != changed
    assert source_fingerprint(_spec(text_field="body"), tmp_path) != source_fingerprint(_spec(), tmp_path)


def test_fingerprint_does_not_depend_on_project_location(tmp_path):
    for root in (tmp_path / "one", tmp_path / "two"):
        root.mkdir()
        (root / "a.jsonl").write_text('{"id": "1", "text": "one"}\n')
    assert source_fingerprint(_spec(), tmp_path / "one") == source_fingerprint(_spec(), tmp_path / "two")


def test_fingerprint_of_missing_file_raises(tmp_path):
    with pytest.raises(SourceError, match="gone.jsonl"):
        source_fingerprint(_spec("gone.jsonl"), tmp_path)
