"""Discovering a project's nodes from files: models (.sql/.py), seeds (.csv), sources, YAML
properties (descriptions, columns, generic tests) and singular tests."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from .nodes import MATERIALIZATIONS, MODEL, SEED, SOURCE, TEST, Node
from .project import Project, ProjectError, load_yaml, merge_configs

GENERIC_TESTS = ("unique", "not_null", "accepted_values", "relationships", "expression", "range")
_REF_ARG_RE = re.compile(r"""ref\(\s*['"]([^'"]+)['"]\s*\)""")
_SOURCE_ARG_RE = re.compile(r"""source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)""")


def _files(roots: list[Path], patterns: tuple[str, ...]) -> list[tuple[Path, Path]]:
    """(root, file) pairs, sorted, for every file under `roots` matching one of `patterns`."""
    found = []
    for root in roots:
        if root.is_dir():
            for pattern in patterns:
                found.extend((root, p) for p in root.rglob(pattern) if p.is_file())
    return sorted(set(found), key=lambda rp: str(rp[1]))


def _rel(project: Project, path: Path) -> Path:
    return path.relative_to(project.root)


def discover(project: Project) -> dict[str, Node]:
    """All enabled nodes of the project, keyed by unique_id."""
    nodes: dict[str, Node] = {}
    for node in _discover_models(project) + _discover_seeds(project) + _discover_sources(project):
        _add(nodes, node)
    properties = _load_property_files(project)
    _apply_model_properties(project, nodes, properties)
    for node in _generic_tests(project, nodes, properties) + _singular_tests(project):
        _add(nodes, node)
    return {uid: n for uid, n in nodes.items() if n.enabled}


def _add(nodes: dict[str, Node], node: Node) -> None:
    if node.unique_id in nodes:
        other = nodes[node.unique_id]
        raise ProjectError(f"{node.path}: {node.kind} '{node.name}' is also defined in {other.path}")
    nodes[node.unique_id] = node


def _discover_models(project: Project) -> list[Node]:
    models = []
    for root, path in _files(project.model_paths, ("*.sql", "*.py")):
        folder = path.relative_to(root).parent.parts
        config = project.folder_config("models", folder)
        raw = path.read_text(encoding="utf-8")
        language = "python" if path.suffix == ".py" else "sql"
        node = Node(unique_id=f"{MODEL}.{path.stem}", name=path.stem, kind=MODEL,
                    path=_rel(project, path), language=language, raw=raw, config=config)
        if language == "python":
            _read_python_model(node)
        models.append(node)
    return models


def _read_python_model(node: Node) -> None:
    """Static read of a Python model: its config and ref/source calls, without importing it."""
    try:
        tree = ast.parse(node.raw, filename=str(node.path))
    except SyntaxError as exc:
        raise ProjectError(f"{node.path}:{exc.lineno}: Python syntax error: {exc.msg}") from None
    if not any(isinstance(s, ast.FunctionDef) and s.name == "model" for s in tree.body):
        raise ProjectError(f"{node.path}: a Python model must define `def model(ctx):`")
    refs, sources, config = [], [], {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "config" for t in stmt.targets):
            config.update(_literal(node, stmt.value, "module-level config"))
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
        args = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if call.func.attr == "ref" and args:
            refs.append(args[-1])
        elif call.func.attr == "source" and len(args) == 2:
            sources.append(tuple(args))
        elif call.func.attr == "config" and call.keywords:
            config.update({k.arg: _literal(node, k.value, "ctx.config()") for k in call.keywords if k.arg})
    node.config = merge_configs(node.config, config)
    node.test = None
    node.python_refs = refs
    node.python_sources = sources


def _literal(node: Node, value: ast.AST, what: str):
    try:
        return ast.literal_eval(value)
    except ValueError:
        raise ProjectError(f"{node.path}:{value.lineno}: {what} must be a literal (no variables)") from None


def _discover_seeds(project: Project) -> list[Node]:
    seeds = []
    for root, path in _files(project.seed_paths, ("*.csv",)):
        folder = path.relative_to(root).parent.parts
        seeds.append(Node(unique_id=f"{SEED}.{path.stem}", name=path.stem, kind=SEED,
                          path=_rel(project, path), config=project.folder_config("seeds", folder)))
    return seeds


def _load_property_files(project: Project) -> list[tuple[Path, dict]]:
    found = []
    for _root, path in _files(project.model_paths + project.seed_paths, ("*.yml", "*.yaml")):
        data = load_yaml(path) or {}
        if not isinstance(data, dict):
            raise ProjectError(f"{_rel(project, path)}: expected a mapping at the top level")
        found.append((_rel(project, path), data))
    return found


def _source_entries(project: Project) -> list[tuple[Path, dict]]:
    entries = [(project.project_file.relative_to(project.root), s) for s in project.config.get("sources") or []]
    for rel, data in _load_property_files(project):
        entries.extend((rel, s) for s in data.get("sources") or [])
    return entries


def _discover_sources(project: Project) -> list[Node]:
    nodes = []
    for rel, source in _source_entries(project):
        if not isinstance(source, dict) or "name" not in source:
            raise ProjectError(f"{rel}: each entry of 'sources:' needs a name")
        for table in source.get("tables") or []:
            if not isinstance(table, dict) or "name" not in table:
                raise ProjectError(f"{rel}: source '{source['name']}': each table needs a name")
            nodes.append(_source_node(rel, source, table))
    return nodes


def _source_node(rel: Path, source: dict, table: dict) -> Node:
    spec = {k: v for k, v in table.items()}
    spec["source_name"] = source["name"]
    for key in ("format", "path"):  # source-level defaults for its tables
        if key not in spec and key in source:
            spec[key] = source[key]
    is_file = bool(spec.get("path"))
    if is_file:
        schema, identifier = "main", str(table.get("identifier", f"{source['name']}__{table['name']}"))
    else:  # dbt semantics: an existing table, schema defaults to the source name
        schema = str(table.get("schema", source.get("schema", source["name"])))
        identifier = str(table.get("identifier", table["name"]))
    return Node(unique_id=f"{SOURCE}.{source['name']}.{table['name']}", name=f"{source['name']}.{table['name']}",
                kind=SOURCE, path=rel, schema=schema, identifier=identifier, source_spec=spec,
                description=str(table.get("description", "")), columns=_columns(table),
                config=dict(source.get("config") or {}, **(table.get("config") or {})))


def _columns(entry: dict) -> dict:
    return {str(c["name"]): c for c in entry.get("columns") or [] if isinstance(c, dict) and "name" in c}


def _apply_model_properties(project: Project, nodes: dict[str, Node], properties) -> None:
    for rel, data in properties:
        for key, kind in (("models", MODEL), ("seeds", SEED)):
            for entry in data.get(key) or []:
                node = nodes.get(f"{kind}.{entry.get('name')}") if isinstance(entry, dict) else None
                if node is None:
                    raise ProjectError(f"{rel}: {key[:-1]} '{(entry or {}).get('name')}' has properties "
                                       f"but no file defines it")
                node.config = merge_configs(node.config, entry.get("config") or {})
                node.description = str(entry.get("description", node.description))
                node.columns = _columns(entry)
                node.properties_path = rel
    for node in nodes.values():
        mat = node.config.get("materialized", "view")
        if node.kind == MODEL and mat not in MATERIALIZATIONS:
            raise ProjectError(f"{node.path}: unknown materialization '{mat}' (one of {', '.join(MATERIALIZATIONS)})")


def _test_specs(entry) -> list[tuple[str, dict]]:
    """`unique` / `{accepted_values: {values: [...]}}` / `{name: {..}}` -> (kind, args)."""
    if isinstance(entry, str):
        return [(entry, {})]
    if isinstance(entry, dict) and len(entry) == 1:
        (kind, args), = entry.items()
        if kind == "expression" and isinstance(args, str):
            args = {"expression": args}
        return [(str(kind), dict(args or {}))]
    raise ProjectError(f"cannot read test entry {entry!r}")


def _generic_tests(project: Project, nodes: dict[str, Node], properties) -> list[Node]:
    tests: list[Node] = []
    seen: dict[str, int] = {}
    for rel, data in properties:
        for key, kind in (("models", MODEL), ("seeds", SEED)):
            for entry in data.get(key) or []:
                tests.extend(_tests_of(rel, nodes[f"{kind}.{entry['name']}"], entry, seen))
        for source in data.get("sources") or []:
            for table in source.get("tables") or []:
                node = nodes[f"{SOURCE}.{source['name']}.{table['name']}"]
                tests.extend(_tests_of(rel, node, table, seen))
    for source in project.config.get("sources") or []:
        for table in source.get("tables") or []:
            node = nodes[f"{SOURCE}.{source['name']}.{table['name']}"]
            tests.extend(_tests_of(project.project_file.relative_to(project.root), node, table, seen))
    return tests


def _tests_of(rel: Path, target: Node, entry: dict, seen: dict[str, int]) -> list[Node]:
    found = []
    for test in (entry.get("tests") or []) + (entry.get("data_tests") or []):
        found.append(_test_node(rel, target, None, test, seen))
    for column in entry.get("columns") or []:
        for test in (column.get("tests") or []) + (column.get("data_tests") or []):
            found.append(_test_node(rel, target, str(column["name"]), test, seen))
    return found


def _test_node(rel: Path, target: Node, column: str | None, entry, seen: dict[str, int]) -> Node:
    try:
        (kind, args), = _test_specs(entry)
    except ProjectError as exc:
        raise ProjectError(f"{rel}: {target.name}: {exc}") from None
    config = dict(args.pop("config", None) or {})
    severity = str(config.get("severity", args.pop("severity", "error"))).lower()
    if severity not in ("error", "warn"):
        raise ProjectError(f"{rel}: {target.name}: test '{kind}' severity must be error or warn, not {severity}")
    column = args.pop("column_name", column)
    base = "_".join(p for p in (kind, target.name.replace(".", "_"), re.sub(r"\W+", "_", column or "")) if p)
    seen[base] = seen.get(base, 0) + 1
    name = base if seen[base] == 1 else f"{base}_{seen[base]}"
    extra_deps = []
    if kind == "relationships":
        to = str(args.get("to", ""))
        ref_m, src_m = _REF_ARG_RE.search(to), _SOURCE_ARG_RE.search(to)
        if ref_m:
            extra_deps.append(("ref", ref_m.group(1)))
        elif src_m:
            extra_deps.append(("source", f"{src_m.group(1)}.{src_m.group(2)}"))
        else:
            raise ProjectError(f"{rel}: {target.name}: relationships test needs `to: ref('model')`")
        if "field" not in args:
            raise ProjectError(f"{rel}: {target.name}: relationships test needs `field:`")
    return Node(unique_id=f"{TEST}.{name}", name=name, kind=TEST, path=rel, config=config,
                test={"kind": kind, "attached_to": target.unique_id, "column": column, "args": args,
                      "severity": severity, "extra_deps": extra_deps})


def _singular_tests(project: Project) -> list[Node]:
    tests = []
    for _root, path in _files(project.test_paths, ("*.sql",)):
        tests.append(Node(unique_id=f"{TEST}.{path.stem}", name=path.stem, kind=TEST, path=_rel(project, path),
                          raw=path.read_text(encoding="utf-8"),
                          config=project.folder_config("data_tests", ()) or project.folder_config("tests", ()),
                          test={"kind": "singular", "attached_to": None, "severity": "error"}))
    return tests
