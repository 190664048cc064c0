"""Templates cannot reach Python internals; --vars values cannot inject SQL."""
from __future__ import annotations

import pytest
from test_engine_support import cli, query, write_project

ATTACKS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ref.__globals__ }}",
    "{{ config.__call__.__globals__['os'] }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ this.__class__.__init__.__globals__ }}",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_template_cannot_reach_python_internals(tmp_path, attack):
    root = write_project(tmp_path / "p", {"models/evil.sql": f"select 1 as x -- {attack}\n"})
    result = cli(root, "compile", expect=2)
    assert "models/evil.sql" in result.output
    assert "sandbox" in result.output or "undefined" in result.output


def test_vars_strings_render_as_sql_literals(tmp_path):
    root = write_project(tmp_path / "p", {
        "models/victim.sql": "select 1 as keep",
        "models/m.sql": "select {{ var('label') }} as label, {{ var('n') }} as n, "
                        "{{ var('label') | sql_literal }} as again, 1 in {{ var('ids') }} as hit",
    })
    payload = "x' as label; drop table victim; select '"
    cli(root, "run", "--vars", f'{{"label": "{payload}", "n": 3, "ids": [1, 2]}}')
    assert query(root, "select label, n, again, hit from m") == [(payload, 3, payload, True)]
    assert query(root, "select keep from victim") == [(1,)]


def test_identifier_filter_refuses_non_identifiers(tmp_path):
    root = write_project(tmp_path / "p", {"models/m.sql": "select 1 as {{ var('col') | sql_identifier }}"})
    cli(root, "run", "--vars", "{col: score_a}")
    assert query(root, "select score_a from m") == [(1,)]
    result = cli(root, "run", "--vars", '{col: "a; drop table m"}', expect=2)
    assert "not a safe SQL identifier" in result.output


def test_malformed_vars_option_is_a_clear_error(tmp_path):
    root = write_project(tmp_path / "p", {"models/m.sql": "select 1 as x"})
    result = cli(root, "run", "--vars", "[1, 2]", expect=2)
    assert "--vars" in result.output and "mapping" in result.output
