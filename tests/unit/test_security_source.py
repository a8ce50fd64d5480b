"""The security checklist, checked on the source tree itself (Python's own parser, no regex).

- Torch weights are read with ``torch.load(weights_only=True)`` only; ONNX otherwise.
- Nothing is unpickled from input: no ``pickle.load(s)``, no ``Unpickler`` call, none of the
  other deserialisers that run code (joblib, marshal, shelve, dill, cloudpickle, pandas'
  ``read_pickle``, ``numpy.load(allow_pickle=True)``, ``yaml.load`` without a safe loader). The
  one unpickler is MNIST's :class:`hdr.datasets.mnist.RestrictedUnpickler`, which overrides
  ``find_class`` (tests/unit/test_mnist.py shows it refusing ``os.system``).
- SQL reaches the database only through bound parameters: in db/, web/ and flows/ no SQL call
  (``text``, ``execute``, ``exec_driver_sql``, ``literal_column`` ...) gets a string built
  with an f-string, ``%``, ``+`` or ``.format``, except the reviewed statements below, which
  cannot take parameters (DDL, PRAGMA) and interpolate only constants of the code.

A new occurrence fails with its file and line: fix it, or review it and add it here with why.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("hdr", "db", "flows", "web", "bench", "tests")
SQL_PACKAGES = ("db", "web", "flows")

UNSAFE_DESERIALISERS = {
    "pickle.load",
    "pickle.loads",
    "pickle.Unpickler",
    "_pickle.load",
    "_pickle.loads",
    "cloudpickle.load",
    "cloudpickle.loads",
    "dill.load",
    "dill.loads",
    "joblib.load",
    "marshal.load",
    "marshal.loads",
    "shelve.open",
    "pandas.read_pickle",
    "yaml.unsafe_load",
    "yaml.full_load",
    "torch.jit.load",
}
SQL_CALLS = {"text", "execute", "executemany", "executescript", "exec_driver_sql", "literal_column"}
# (file, a piece of the statement): why it is safe. Each must still match a call (no stale rows).
REVIEWED_DYNAMIC_SQL = {
    ("db/migrations/versions/0002_views_audit.py", "CREATE FUNCTION hdr_reviews_append_only"): (
        "DDL; the message is the module constant APPEND_ONLY"
    ),
    ("db/migrations/versions/0002_views_audit.py", "CREATE TRIGGER reviews_no_"): (
        "DDL; the event comes from the literal tuple ('UPDATE', 'DELETE')"
    ),
    ("db/migrations/versions/0002_views_audit.py", "DROP VIEW"): (
        "DDL; view names are the keys of the migration's own VIEWS"
    ),
    ("db/session.py", "PRAGMA busy_timeout"): "PRAGMA takes no parameters; a module constant",
    ("db/session.py", "PRAGMA foreign_keys"): "PRAGMA takes no parameters; 'ON' or 'OFF'",
    ("db/testing.py", "CREATE SCHEMA"): "test helper; the schema name is hdr_test_<uuid hex>",
    ("db/testing.py", "DROP SCHEMA"): "test helper; the schema name is hdr_test_<uuid hex>",
}


def _sources(packages: tuple[str, ...]) -> Iterator[tuple[str, ast.Module]]:
    for package in packages:
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            yield rel, ast.parse(path.read_text(encoding="utf-8"), rel)


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted origin, from the module's imports (``import numpy as np`` ...)."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def _dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value, aliases)
        return f"{head}.{node.attr}" if head else None
    return None


def _calls(tree: ast.Module) -> Iterator[tuple[ast.Call, str]]:
    aliases = _aliases(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func, aliases)
            if name:
                yield node, name


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


@pytest.fixture(scope="module")
def sources() -> list[tuple[str, ast.Module]]:
    return list(_sources(PACKAGES))


def test_torch_weights_are_loaded_with_weights_only(sources) -> None:
    seen, bad = 0, []
    for rel, tree in sources:
        for call, name in _calls(tree):
            if name == "torch.load":
                seen += 1
                if not _is_true(_keyword(call, "weights_only")):
                    bad.append(f"{rel}:{call.lineno}: {ast.unparse(call)}")
    assert seen, "no torch.load found: the scan is looking in the wrong place"
    assert not bad, "torch.load without weights_only=True:\n" + "\n".join(bad)


def _unsafe_deserialiser(call: ast.Call, name: str) -> bool:
    if name == "numpy.load":
        return _is_true(_keyword(call, "allow_pickle"))
    if name == "yaml.load":
        loader = _keyword(call, "Loader") or (call.args[1] if len(call.args) > 1 else None)
        return not (loader is not None and "Safe" in ast.unparse(loader))
    return name in UNSAFE_DESERIALISERS


def test_nothing_is_unpickled_or_deserialised_into_code(sources) -> None:
    bad = []
    for rel, tree in sources:
        for call, name in _calls(tree):
            if _unsafe_deserialiser(call, name):
                bad.append(f"{rel}:{call.lineno}: {ast.unparse(call)}")
    assert not bad, "deserialisers that can run code:\n" + "\n".join(bad)


def test_the_only_unpickler_is_restricted(sources) -> None:
    """Every subclass of pickle.Unpickler decides which globals it allows (find_class)."""
    found = []
    for rel, tree in sources:
        aliases = _aliases(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {_dotted(b, aliases) for b in node.bases}
            if bases & {"pickle.Unpickler", "_pickle.Unpickler"}:
                methods = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
                found.append((rel, node.name, "find_class" in methods))
    assert found == [("hdr/datasets/mnist.py", "RestrictedUnpickler", True)]


def _dynamic(node: ast.expr) -> bool:
    """A string built at run time: f-string with fields, ``%``, ``+``, ``.format``/``.join``."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("format", "join")
    )


def test_sql_is_never_built_from_strings(sources) -> None:
    bad, used = [], set()
    for rel, tree in sources:
        if not rel.startswith(tuple(f"{p}/" for p in SQL_PACKAGES)):
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name not in SQL_CALLS or not _dynamic(node.args[0]):
                continue
            statement = ast.unparse(node.args[0])
            reviewed = [k for k in REVIEWED_DYNAMIC_SQL if k[0] == rel and k[1] in statement]
            if reviewed:
                used.update(reviewed)
            else:
                bad.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    assert not bad, "SQL built from strings (use bound parameters):\n" + "\n".join(bad)
    assert used == set(REVIEWED_DYNAMIC_SQL), f"stale entries: {set(REVIEWED_DYNAMIC_SQL) - used}"


def test_the_scans_catch_what_they_look_for() -> None:
    """The checks above on a planted module: each unsafe line is found, the safe ones are not."""
    planted = ast.parse(
        "import pickle, torch, yaml\n"
        "import numpy as np\n"
        "from sqlalchemy import text\n"
        "torch.load(p)\n"
        "torch.load(p, weights_only=True)\n"
        "pickle.loads(b)\n"
        "np.load(p, allow_pickle=True)\n"
        "np.load(p)\n"
        "yaml.load(s)\n"
        "yaml.load(s, Loader=yaml.SafeLoader)\n"
        "conn.execute(text(f'SELECT * FROM t WHERE name = {name}'))\n"
        "conn.execute(text('SELECT * FROM t WHERE name = :name'), {'name': name})\n"
    )
    calls = sorted(_calls(planted), key=lambda item: item[0].lineno)
    torch_loads = [c for c, n in calls if n == "torch.load"]
    assert [_is_true(_keyword(c, "weights_only")) for c in torch_loads] == [False, True]
    unsafe = [(c.lineno, n) for c, n in calls if _unsafe_deserialiser(c, n)]
    assert unsafe == [(6, "pickle.loads"), (7, "numpy.load"), (9, "yaml.load")]
    texts = [c for c, n in calls if n == "sqlalchemy.text"]
    assert [_dynamic(c.args[0]) for c in texts] == [True, False]
