"""Motor's type information: typed user programs, checked with ``mypy --strict``.

Motor ships ``py.typed`` and stubs: the generic agnostic classes
(motor/core/__init__.pyi, motor/core/cursor.pyi, motor/gridfs/__init__.pyi),
written by hand, and the flavour stubs (motor/motor_asyncio.pyi,
motor/motor_tornado.pyi, motor/__init__.pyi) that tools/gen_flavour_stubs.py
generates from them. These tests check that

* the typed programs in test/typing/ pass ``mypy --strict`` with these types,
  and the Motor 3 ones (asyncio_program.py, tornado_program.py) with Motor
  3.7.1's too, so a Motor 3 user's typed code keeps type-checking;
* test/typing/misuse.py gets exactly the errors it marks, so the types cannot
  pass the programs by being ``Any``;
* every stub class's bases are its bases at runtime, and every member a
  stub declares exists on the runtime class, as a property or
  a method as declared, taking ``callback`` exactly when the runtime does,
  and every public member of the runtime classes is declared;
* the generated stubs are up to date;
* Motor 3.7.1's own typing tests (its sdist's test/test_typing.py, fetched by
  tools/motor3_suite.py) get no mypy error with these types that they do not
  get with Motor 3.7.1's.

The four mypy runs start together; their caches are kept in
.test-run/mypy-cache, so a run after the first takes a few seconds.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "test" / "typing"
CACHE = ROOT / ".test-run" / "mypy-cache"
MOTOR3_PYTHON = ROOT / ".venv-motor3" / "bin" / "python"

# Stub file -> the module it describes.
STUBS = {
    "motor/__init__.pyi": "motor",
    "motor/motor_asyncio.pyi": "motor.motor_asyncio",
    "motor/motor_tornado.pyi": "motor.motor_tornado",
    "motor/core/__init__.pyi": "motor.core",
    "motor/core/cursor.pyi": "motor.core.cursor",
    "motor/core/metaprogramming.pyi": "motor.core.metaprogramming",
    "motor/gridfs/__init__.pyi": "motor.gridfs",
    "motor/motor_gridfs.pyi": "motor.motor_gridfs",
}
# Declared in the stubs, set on each object by its __init__ (not class attributes).
INSTANCE_ATTRIBUTES = {"delegate"}
# The programs Motor 3.7.1's types must accept as well.
MOTOR3_PROGRAMS = ("asyncio_program.py", "tornado_program.py")

needs_mypy = pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None,
    reason="mypy is not installed (it is in requirements-test.txt)",
)

_ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<message>.*)  \[(?P<code>[\w-]+)\]$")


def run_mypy(
    *args: str, cwd: Path = ROOT, cache: Path = CACHE, mypy_path: Path | None = None
) -> tuple[int, list[dict[str, str]], str, float]:
    """Run ``mypy --strict``; return (exit status, errors, output, seconds)."""
    cache.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), *args]
    env = dict(os.environ)
    if mypy_path is not None:
        env["MYPYPATH"] = str(mypy_path)
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    errors = [m.groupdict() for m in map(_ERROR.match, output.splitlines()) if m]
    return result.returncode, errors, output, seconds


def _motor3_suite() -> Path:
    """Motor 3.7.1's test suite, fetched by tools/motor3_suite.py (cached in .test-run)."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        motor3_suite = importlib.import_module("motor3_suite")
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return Path(motor3_suite.fetch_suite())


@pytest.fixture(scope="module")
def mypy_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every mypy run of this module, started together (they are independent).

    - "ours": the programs in test/typing/ and the stubs themselves;
    - "motor3": the Motor 3 programs with Motor 3.7.1's types (installed in
      .venv-motor3), in a directory of their own so that mypy does not find
      this checkout's motor package; probe.py proves whose types they are
      (only Motor 3.7.1's motor.core has that name);
    - "suite-motor3", "suite-ours": Motor 3.7.1's own typing tests with its
      types and with ours, with its mypy settings (its pyproject.toml).
    """
    assert MOTOR3_PYTHON.exists(), "no .venv-motor3: tools/run_tests.py makes it"
    programs = tmp_path_factory.mktemp("motor3-programs")
    for name in MOTOR3_PROGRAMS:
        shutil.copy(PROGRAMS / name, programs / name)
    (programs / "probe.py").write_text(
        "import motor.core\n\nlimit: int = motor.core._WITH_TRANSACTION_RETRY_TIME_LIMIT\n"
    )
    suite = _motor3_suite()
    motor3 = ("--python-executable", str(MOTOR3_PYTHON))
    runs: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
        "ours": (("test/typing", *STUBS), {}),
        "motor3": ((*motor3, *MOTOR3_PROGRAMS, "probe.py"), {"cwd": programs, "cache": CACHE / "motor3"}),
        "suite-motor3": (
            ("--no-pretty", *motor3, "test/test_typing.py"),
            {"cwd": suite, "cache": CACHE / "motor3-suite"},
        ),
        "suite-ours": (
            ("--no-pretty", "test/test_typing.py"),
            {"cwd": suite, "cache": CACHE / "motor3-suite-ours", "mypy_path": ROOT},
        ),
    }
    with ThreadPoolExecutor(len(runs)) as pool:
        futures = {name: pool.submit(run_mypy, *args, **kwargs) for name, (args, kwargs) in runs.items()}
        results = {name: future.result() for name, future in futures.items()}
    print("\nmypy --strict, seconds per run (run together):", {n: round(r[3], 1) for n, r in results.items()})
    return results


def _errors_in(run: Any, filename: str) -> list[dict[str, str]]:
    return [e for e in run[1] if Path(e["path"]).name == filename]


@needs_mypy
def test_typed_programs_pass_mypy_strict(mypy_runs: dict[str, Any]) -> None:
    status, errors, output, seconds = mypy_runs["ours"]
    outside_misuse = [e for e in errors if Path(e["path"]).name != "misuse.py"]
    assert not outside_misuse, output
    assert status == 1, output  # misuse.py's errors, and nothing else


@needs_mypy
def test_misuse_gets_exactly_the_marked_errors(mypy_runs: dict[str, Any]) -> None:
    source = (PROGRAMS / "misuse.py").read_text().splitlines()
    expected = {
        (number, match.group(1))
        for number, line in enumerate(source, 1)
        if (match := re.search(r"# E: ([\w-]+)$", line))
    }
    assert len(expected) >= 10
    reported = {(int(e["line"]), e["code"]) for e in _errors_in(mypy_runs["ours"], "misuse.py")}
    assert reported == expected, mypy_runs["ours"][2]


@needs_mypy
def test_motor3_programs_pass_with_motor3_types(mypy_runs: dict[str, Any]) -> None:
    status, errors, output, seconds = mypy_runs["motor3"]
    assert status == 0 and not errors, output


@needs_mypy
def test_motor3_typing_tests_get_no_error_motor3_types_do_not(mypy_runs: dict[str, Any]) -> None:
    # Motor 3.7.1's own test/test_typing.py is a typed program written for its
    # stubs. With its own mypy settings (strict), today's mypy reports errors
    # with Motor 3.7.1's types too (untyped test decorators, stale ignores);
    # with this package's types it must report none that Motor 3.7.1's do not.
    reference, ours = mypy_runs["suite-motor3"], mypy_runs["suite-ours"]
    assert reference[1] and ours[1], (reference[2], ours[2])  # the comparison is not vacuous
    key = lambda e: (e["line"], e["code"])  # noqa: E731
    new = sorted({key(e) for e in ours[1]} - {key(e) for e in reference[1]})
    assert new == [], ours[2]


# --- the stubs against the runtime ------------------------------------------------


def _decorators(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    return {ast.unparse(d) for d in node.decorator_list}


def _stub_members(cls: ast.ClassDef) -> dict[str, list[ast.AST]]:
    members: dict[str, list[ast.AST]] = {}
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            members.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            members.setdefault(node.target.id, []).append(node)
    return members


def _static(cls: type, name: str) -> Any:
    return inspect.getattr_static(cls, name)


def _takes_callback(value: Any) -> bool:
    try:
        return "callback" in inspect.signature(value).parameters
    except (TypeError, ValueError):
        return False


# Typed as a subclass of another flavour class, which it is not at runtime
# (see SIBLING_BASES in tools/gen_flavour_stubs.py for why).
TYPED_ONLY_BASES = {
    ("AsyncIOMotorLatentCommandCursor", "AsyncIOMotorCommandCursor"),
    ("MotorLatentCommandCursor", "MotorCommandCursor"),
}


def _stub_namespace(tree: ast.Module, module: Any) -> dict[str, Any]:
    """What names in a stub refer to at runtime: its imports, and its module's names."""
    namespace = dict(vars(module))
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                namespace[alias.asname or alias.name] = importlib.import_module(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                source = importlib.import_module(node.module)
                if hasattr(source, alias.name):  # not type variables and aliases of stubs
                    namespace[alias.asname or alias.name] = getattr(source, alias.name)
    return namespace


def _runtime_base(base: ast.expr, namespace: dict[str, Any]) -> Any:
    """The runtime class a stub base names, or None (Generic[...], Protocol...)."""
    if isinstance(base, ast.Subscript):
        base = base.value
    parts = ast.unparse(base).split(".")
    value = namespace.get(parts[0])
    for part in parts[1:]:
        value = getattr(value, part, None)
    return value if isinstance(value, type) and value.__module__.startswith("motor") else None


def _mismatches(stub_path: str, module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    tree = ast.parse((ROOT / stub_path).read_text())
    namespace = _stub_namespace(tree, module)
    problems = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            # ``from x import Name as Name`` re-exports Name.
            names = [a.asname for a in node.names if a.asname and a.asname == a.name]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        elif isinstance(node, ast.ClassDef):
            names = [node.name]
        else:
            continue
        for name in names:
            if not name.startswith("_") and not hasattr(module, name):
                problems.append(f"{module_name}.{name} does not exist")
        if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
            continue
        runtime = getattr(module, node.name, None)
        if runtime is None:
            continue
        where = f"{module_name}.{node.name}"
        for base in node.bases:
            runtime_base = _runtime_base(base, namespace)
            if runtime_base is None or (node.name, runtime_base.__name__) in TYPED_ONLY_BASES:
                continue
            if not issubclass(runtime, runtime_base):
                problems.append(f"{where} is no subclass of {runtime_base.__name__} at runtime")
        for member, stubs in _stub_members(node).items():
            if member in INSTANCE_ATTRIBUTES:
                continue
            try:
                value = _static(runtime, member)
            except AttributeError:
                problems.append(f"{where}.{member} does not exist")
                continue
            functions = [s for s in stubs if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
            if not functions:
                continue
            if "property" in _decorators(functions[0]):
                if not isinstance(value, property):
                    problems.append(f"{where}.{member} is a property in the stub, not at runtime")
                continue
            if isinstance(value, property):
                problems.append(f"{where}.{member} is a property at runtime, a method in the stub")
                continue
            stub_callback = any(
                a.arg == "callback" for f in functions for a in (*f.args.args, *f.args.kwonlyargs)
            )
            if stub_callback != _takes_callback(getattr(runtime, member)):
                problems.append(
                    f"{where}.{member}: the stub {'takes' if stub_callback else 'lacks'} callback,"
                    f" the runtime {'does not' if stub_callback else 'takes it'}"
                )
            returns = " ".join(ast.unparse(f.returns) for f in functions if f.returns is not None)
            if returns.startswith("Future[") and not _takes_callback(getattr(runtime, member)):
                problems.append(f"{where}.{member} returns a Future in the stub, not at runtime")
            keyword_callback = any(a.arg == "callback" for f in functions for a in f.args.kwonlyargs)
            if keyword_callback and returns in ("None", "NoReturn"):
                problems.append(f"{where}.{member} returns a Future at runtime, {returns} in the stub")
    return problems


@pytest.mark.parametrize("stub_path", sorted(STUBS))
def test_stub_members_exist_at_runtime(stub_path: str) -> None:
    assert _mismatches(stub_path, STUBS[stub_path]) == []


# Runtime members the stubs leave out on purpose: each raises, telling the
# user what to write instead, so mypy should flag its use too.
UNTYPED_ON_PURPOSE = {
    "__enter__": "a session or change stream is an async context manager: 'async with'",
    "__exit__": "a session or change stream is an async context manager: 'async with'",
    "__iter__": "a cursor is iterated with 'async for', never 'for'",
}
_PROTOCOL_METHODS = {"__aiter__", "__anext__", "__aenter__", "__aexit__", "__await__", "__getitem__"}


def _all_stub_classes() -> dict[str, ast.ClassDef]:
    classes: dict[str, ast.ClassDef] = {}
    for stub_path in STUBS:
        for node in ast.parse((ROOT / stub_path).read_text()).body:
            if isinstance(node, ast.ClassDef):
                classes.setdefault(node.name, node)
    return classes


def _declared(node: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> set[str]:
    """What a stub class declares, with its bases' (found by name in the stubs)."""
    names = set(_stub_members(node))
    for base in node.bases:
        base = base.value if isinstance(base, ast.Subscript) else base
        name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
        if name in classes and classes[name] is not node:
            names |= _declared(classes[name], classes)
    return names


@pytest.mark.parametrize("module_name", ["motor", "motor.motor_asyncio", "motor.motor_tornado"])
def test_every_runtime_member_is_typed(module_name: str) -> None:
    # Clients, databases and collections have __getattr__ (``client.db``):
    # a member missing from the stubs would type as a database, silently.
    module = importlib.import_module(module_name)
    classes = _all_stub_classes()
    missing = []
    for name in module.__all__:
        runtime = getattr(module, name)
        if not isinstance(runtime, type) or issubclass(runtime, Exception):
            continue
        public = {a for a in dir(runtime) if not a.startswith("_") or a in _PROTOCOL_METHODS}
        untyped = public - _declared(classes[name], classes) - set(UNTYPED_ON_PURPOSE)
        missing += [f"{module_name}.{name}.{member}" for member in sorted(untyped)]
    assert missing == []


def test_a_member_missing_at_runtime_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The check above must be able to fail: a stub declaring a method that the
    # runtime class lacks, a property that is a method at runtime, an
    # asynchronous method without callback, one typed to return None, and a
    # base class that is none at runtime.
    stub = tmp_path / "fake.pyi"
    stub.write_text(
        "class AsyncIOMotorClient:\n"
        "    def no_such_method(self) -> None: ...\n"
        "    @property\n"
        "    def get_database(self) -> int: ...\n"
        "    def list_database_names(self) -> int: ...\n"
        "    def server_info(self, *, callback: object = None) -> None: ...\n"
        "class AsyncIOMotorCursor(AsyncIOMotorCommandCursor): ...\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _mismatches("fake.pyi", "motor.motor_asyncio") == [
        "motor.motor_asyncio.AsyncIOMotorClient.no_such_method does not exist",
        "motor.motor_asyncio.AsyncIOMotorClient.get_database is a property in the stub, not at runtime",
        "motor.motor_asyncio.AsyncIOMotorClient.list_database_names: the stub lacks callback,"
        " the runtime takes it",
        "motor.motor_asyncio.AsyncIOMotorClient.server_info returns a Future at runtime, None in the stub",
        "motor.motor_asyncio.AsyncIOMotorCursor is no subclass of AsyncIOMotorCommandCursor at runtime",
    ]


def test_package_ships_py_typed_and_stubs() -> None:
    assert (ROOT / "motor" / "py.typed").exists()
    with open(ROOT / "pyproject.toml", "rb") as file:
        package_data = tomllib.load(file)["tool"]["setuptools"]["package-data"]["motor"]
    assert {"py.typed", "*.pyi", "**/*.pyi"} <= set(package_data)
    for stub in STUBS:
        assert (ROOT / stub).exists()


def test_generated_stubs_are_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("gen_flavour_stubs", ROOT / "tools" / "gen_flavour_stubs.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = generator  # its dataclasses look their module up
    try:
        spec.loader.exec_module(generator)
    finally:
        del sys.modules[spec.name]
    stale = [
        str(path.relative_to(ROOT))
        for path, text in [(f.path, generator.render(f)) for f in generator.FLAVOURS]
        + [(generator.MOTOR_STUB, generator.render_motor())]
        if path.read_text() != text
    ]
    assert stale == [], "run python tools/gen_flavour_stubs.py"
