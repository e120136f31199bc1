"""Write the flavour stubs (motor/motor_asyncio.pyi, motor/motor_tornado.pyi, motor/__init__.pyi).

Motor's types are written once, for the agnostic classes, in
motor/core/__init__.pyi, motor/core/cursor.pyi and motor/gridfs/__init__.pyi.
At runtime motor/frameworks.py makes each flavour's classes
(``AsyncIOMotorClient``, ``MotorClient``...) by subclassing them; this script
does the same for the types: each flavour class subclasses its agnostic
class and re-declares only the methods whose return type names another
agnostic class, with that flavour's class instead (``get_database`` of an
``AsyncIOMotorClient`` returns an ``AsyncIOMotorDatabase``). ``motor``'s
classes add the spec's API (``insert``, ``update``...), loosely typed.

::

    python tools/gen_flavour_stubs.py          # rewrite the stubs
    python tools/gen_flavour_stubs.py --check  # exit 1 if they are stale

test/test_typing.py fails when the stubs are stale.

.. versionadded:: 4.0
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The hand-written sources: module name -> stub file.
SOURCES = {
    "motor.core": ROOT / "motor/core/__init__.pyi",
    "motor.core.cursor": ROOT / "motor/core/cursor.pyi",
    "motor.gridfs": ROOT / "motor/gridfs/__init__.pyi",
}

# The agnostic classes every flavour exports, as at runtime.
sys.path.insert(0, str(ROOT))
from motor.frameworks import PUBLIC_CLASSES  # noqa: E402

# The one flavour class typed as a subclass of another flavour class, though
# at runtime both only subclass agnostic ones: Motor 3.7's types made
# ``collection.aggregate()`` return an AsyncIOMotorCommandCursor, and typed
# code annotates it so; it returns an AsyncIOMotorLatentCommandCursor.
SIBLING_BASES = {"AgnosticLatentCommandCursor": "AgnosticCommandCursor"}

# The type variables a generated class may stay generic over.
GENERIC_PARAMS = ("_DocumentType", "_Item")

# The spec's API (motor/spec/), which motor.motor_tornado's classes add to
# Motor 3's: loosely typed, so that programs written for Motor's
# documentation type-check. Any return: these return a Future, or None when
# given ``callback``. Names Motor 3 also has keep Motor 3's types, except the
# settings, which the spec reads as dicts and Motor 3 as PyMongo objects.
SPEC_MEMBERS = {
    "AgnosticClient": """
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def max_bson_size(self) -> int: ...
    @property
    def max_pool_size(self) -> int: ...
    @property
    def document_class(self) -> type[_DocumentType]: ...
    @property
    def tz_aware(self) -> bool: ...
    @property
    def secondary_acceptable_latency_ms(self) -> Any: ...
    @property
    def tag_sets(self) -> Any: ...
    @property
    def read_preference(self) -> Any: ...
    @property
    def write_concern(self) -> Any: ...
    def disconnect(self) -> None: ...
    def alive(self, *, callback: _Callback | None = None) -> Any: ...
    def database_names(self, *, callback: _Callback | None = None) -> Any: ...
    def copy_database(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def fsync(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def unlock(self, *, callback: _Callback | None = None) -> Any: ...
    def kill_cursors(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def close_cursor(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
""",
    "AgnosticDatabase": """
    @property
    def connection(self) -> MotorClient[_DocumentType]: ...
    @property
    def secondary_acceptable_latency_ms(self) -> Any: ...
    @property
    def tag_sets(self) -> Any: ...
    @property
    def read_preference(self) -> Any: ...
    @property
    def write_concern(self) -> Any: ...
    @property
    def incoming_manipulators(self) -> list[str]: ...
    @property
    def incoming_copying_manipulators(self) -> list[str]: ...
    @property
    def outgoing_manipulators(self) -> list[str]: ...
    @property
    def outgoing_copying_manipulators(self) -> list[str]: ...
    def collection_names(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def current_op(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def profiling_level(self, *, callback: _Callback | None = None) -> Any: ...
    def set_profiling_level(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def profiling_info(self, *, callback: _Callback | None = None) -> Any: ...
    def add_user(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def remove_user(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def authenticate(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def logout(self, *, callback: _Callback | None = None) -> Any: ...
    def eval(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def error(self, *, callback: _Callback | None = None) -> Any: ...
    def last_status(self, *, callback: _Callback | None = None) -> Any: ...
    def previous_error(self, *, callback: _Callback | None = None) -> Any: ...
    def reset_error_history(self, *, callback: _Callback | None = None) -> Any: ...
    def add_son_manipulator(self, manipulator: Any) -> None: ...
""",
    "AgnosticCollection": """
    @property
    def secondary_acceptable_latency_ms(self) -> Any: ...
    @property
    def tag_sets(self) -> Any: ...
    @property
    def read_preference(self) -> Any: ...
    @property
    def write_concern(self) -> Any: ...
    @property
    def uuid_subtype(self) -> int: ...
    # Awaiting the cursor gives the spec's result document; with callback,
    # None is returned and callback(result_document, error) called.
    def aggregate(
        self,
        pipeline: _Pipeline | Mapping[str, Any],
        *args: Any,
        callback: _Callback | None = None,
        **kwargs: Any,
    ) -> MotorLatentCommandCursor[_DocumentType]: ...
    def insert(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def update(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def remove(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def save(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def count(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def find_and_modify(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def ensure_index(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def reindex(self, *, callback: _Callback | None = None) -> Any: ...
    def group(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def map_reduce(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def inline_map_reduce(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
""",
    "AgnosticCursor": """
    def count(self, *args: Any, callback: _Callback | None = None, **kwargs: Any) -> Any: ...
    def __getitem__(self, index: Any) -> Any: ...
""",
    "AgnosticLatentCommandCursor": """
    # collection.aggregate(): awaiting it gives the spec's result document
    # ({"result": [...], "ok": 1.0}); async for iterates the documents.
    def __await__(self) -> Generator[Any, None, dict[str, Any]]: ...
""",
}


@dataclass
class Flavour:
    path: Path
    prefix: str
    doc: str
    # motor.motor_tornado's classes also have the spec's API.
    spec: bool = False

    def name(self, agnostic: str) -> str:
        return self.prefix + "Motor" + agnostic.removeprefix("Agnostic")


FLAVOURS = (
    Flavour(
        ROOT / "motor/motor_asyncio.pyi",
        "AsyncIO",
        "Type information for motor.motor_asyncio: the AsyncIOMotor* classes.",
    ),
    Flavour(
        ROOT / "motor/motor_tornado.pyi",
        "",
        "Type information for motor.motor_tornado (and motor): the Motor* classes.",
        spec=True,
    ),
)

# motor re-exports motor.motor_tornado's classes (one class per name, as in
# Motor 3) and adds the spec's other names.
MOTOR_STUB = ROOT / "motor/__init__.pyi"
MOTOR_HEADER = """# Type information for motor: motor.motor_tornado's classes, plus the spec's
# other names.
#
# Generated by tools/gen_flavour_stubs.py: do not edit; edit it or the stubs it
# reads (motor/core/__init__.pyi...) and run `python tools/gen_flavour_stubs.py`.

from motor import core as core
from motor import gridfs as gridfs
from motor import motor_tornado as motor_tornado
from motor.errors import MotorPoolTimeout as MotorPoolTimeout
"""
MOTOR_EXTRAS = """
version: str
version_tuple: tuple[int | str, ...]

class Op:
    # Deprecated: ``yield motor.Op(fn, *args)`` runs ``fn(*args, callback=...)``.
    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None: ...

class MotorConnection:
    # Refused: raises, naming MotorClient.
    def __init__(self, *args: Any, **kwargs: Any) -> NoReturn: ...

class MotorReplicaSetConnection:
    # Refused: raises, naming MotorReplicaSetClient.
    def __init__(self, *args: Any, **kwargs: Any) -> NoReturn: ...

class MotorReplicaSetClient(_core.AgnosticClient[_DocumentType]):
    # The spec's replica-set client: MotorClient's API, and it knows its seeds.
{client_members}
    @property
    def hosts(self) -> frozenset[tuple[str, int]]: ...
    @property
    def seeds(self) -> frozenset[tuple[str, int | None]]: ...
    def get_document_class(self) -> type[_DocumentType]: ...
    def set_document_class(self, klass: type[_DocumentType]) -> None: ...
"""


def render_motor() -> str:
    names = sorted(FLAVOURS[1].name(n) for n in PUBLIC_CLASSES)
    # MotorReplicaSetClient is no MotorClient at runtime: it gets the same
    # members from the same sources instead.
    tornado = FLAVOURS[1]
    extra = SPEC_MEMBERS["AgnosticClient"].strip("\n")
    members = _overrides("AgnosticClient", _load_sources(), tornado, set(re.findall(r"def (\w+)", extra)))
    client_members = ("".join(members) + extra).rstrip("\n")
    extras = MOTOR_EXTRAS.replace("{client_members}", client_members)
    lines = [MOTOR_HEADER.rstrip("\n"), *_imports_for(extras, set(names)), ""]
    lines += ["from motor.motor_tornado import ("]
    lines += [f"    {n} as {n}," for n in names]
    lines += [")", "", "__all__ = ["]
    spec_names = ["MotorConnection", "MotorPoolTimeout", "MotorReplicaSetClient"]
    spec_names += ["MotorReplicaSetConnection", "Op", "version", "version_tuple"]
    lines += [f'    "{n}",' for n in sorted(names + spec_names)]
    lines += ["]"]
    return _tidy("\n".join(lines) + "\n" + extras)


@dataclass
class SourceClass:
    module: str
    node: ast.ClassDef
    source: str


def _load_sources() -> dict[str, SourceClass]:
    classes = {}
    for module, path in SOURCES.items():
        source = path.read_text()
        for node in ast.parse(source).body:
            if isinstance(node, ast.ClassDef):
                classes[node.name] = SourceClass(module, node, source)
    return classes


def _type_params(node: ast.ClassDef) -> list[str]:
    """The type variables a class is generic over (from ``Base[_T]``)."""
    params = []
    for base in node.bases:
        if isinstance(base, ast.Subscript):
            for arg in ast.walk(base.slice):
                if isinstance(arg, ast.Name) and arg.id.startswith("_") and arg.id[1:2].isupper():
                    if arg.id not in params:
                        params.append(arg.id)
    return params


def _segment(source: str, node: ast.AST) -> tuple[int, str]:
    """(index of its first line, text) of a member, with decorators and comments."""
    lines = source.splitlines(keepends=True)
    start = node.lineno - 1  # type: ignore[attr-defined]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.decorator_list:
        start = node.decorator_list[0].lineno - 1
    # Comments just above a member belong to it.
    while start > 0 and lines[start - 1].strip().startswith("#"):
        start -= 1
    return start, "".join(lines[start : node.end_lineno])  # type: ignore[attr-defined]


def _rename(text: str, flavour: Flavour) -> str:
    text = text.replace("AgnosticGridOutCursor[AgnosticGridOut]", flavour.name("AgnosticGridOutCursor"))
    return re.sub(
        r"\b(Agnostic\w+)\b",
        lambda m: flavour.name(m.group(1)) if m.group(1) in PUBLIC_CLASSES else m.group(1),
        text,
    )


def _member_groups(name: str, classes: dict[str, SourceClass]) -> dict[str, list[tuple[ast.AST, str]]]:
    """Members by name, the class's own over its bases' (within the sources)."""
    cls = classes[name]
    groups: dict[str, list[tuple[ast.AST, str]]] = {}
    for base in cls.node.bases:
        base_name = base.value.id if isinstance(base, ast.Subscript) else getattr(base, "id", "")  # type: ignore[attr-defined]
        if base_name in classes:
            groups.update(_member_groups(base_name, classes))
    own: dict[str, list[tuple[ast.AST, str]]] = {}
    for node in cls.node.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            own.setdefault(node.name, []).append((node, cls.source))
    groups.update(own)
    return groups


def _overrides(
    name: str, classes: dict[str, SourceClass], flavour: Flavour, skip: set[str]
) -> list[str]:
    """Members to re-declare: those whose return type names a public agnostic class."""
    members = []
    for member, group in _member_groups(name, classes).items():
        if member in skip:
            continue
        returns = [node.returns for node, _ in group if node.returns is not None]  # type: ignore[attr-defined]
        names = {n.id for r in returns for n in ast.walk(r) if isinstance(n, ast.Name)}
        if names & set(PUBLIC_CLASSES):
            for node, source in group:
                start, text = _segment(source, node)
                # Only the return type changes: parameters keep accepting any
                # flavour's objects, as the base class's do.
                ret = node.returns  # type: ignore[attr-defined]
                lines = text.splitlines(keepends=True)
                first, last = ret.lineno - 1 - start, ret.end_lineno - start
                lines[first:last] = [_rename("".join(lines[first:last]), flavour)]
                if "Future[" in ast.unparse(ret) and node is group[0][0]:
                    # asyncio.Future is invariant: Future[AsyncIOMotorDatabase]
                    # is no Future[AgnosticDatabase] to mypy, though it only
                    # ever holds this flavour's objects.
                    lines[0] = lines[0].rstrip("\n") + "  # type: ignore[override]\n"
                members.append("".join(lines))
    return members


def _class_text(name: str, classes: dict[str, SourceClass], flavour: Flavour) -> str:
    cls = classes[name]
    params = [p for p in _type_params(cls.node) if p in GENERIC_PARAMS or p == "_GridOut"]
    args = []
    for p in params:
        args.append(flavour.name("AgnosticGridOut") if p == "_GridOut" else p)
    alias = {"motor.core": "_core", "motor.core.cursor": "_cursor", "motor.gridfs": "_gridfs"}
    base = f"{alias[cls.module]}.{name}"
    base += f"[{', '.join(args)}]" if args else ""
    if name in SIBLING_BASES:
        base += f", {flavour.name(SIBLING_BASES[name])}[_Item]"
    extra = SPEC_MEMBERS.get(name, "").strip("\n") if flavour.spec else ""
    body = _overrides(name, classes, flavour, set(re.findall(r"def (\w+)", extra)))
    if extra:
        body.append(extra + "\n")
    text = f"class {flavour.name(name)}({base}):"
    return text + ("\n" + "".join(body) if body else " ...\n")


def _imports(sources: list[str]) -> list[str]:
    """The source stubs' imports (merged), for the names the copied members use."""
    modules: dict[str, set[str]] = {}
    plain: set[str] = set()
    for source in sources:
        for node in ast.parse(source).body:
            if isinstance(node, ast.ImportFrom) and not (node.module or "").startswith("motor"):
                modules.setdefault(node.module or "", set()).update(a.name for a in node.names)
            elif isinstance(node, ast.Import):
                plain.update(a.name for a in node.names)
    modules.setdefault("typing", set()).update({"Generator", "NoReturn"})
    lines = [f"import {name}" for name in sorted(plain)]
    lines += [f"from {m} import {', '.join(sorted(names))}" for m, names in sorted(modules.items())]
    return lines


def _imports_for(body: str, local: set[str]) -> list[str]:
    """Imports for the names ``body`` uses: the sources' imports, and their own names."""
    used = set(re.findall(r"\b\w+\b", body))
    defined: dict[str, str] = {}
    for module, path in SOURCES.items():
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, ast.ClassDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            for name in names:
                defined.setdefault(name, module)
    from_sources = [(m, n) for n, m in defined.items() if n in used and n not in local]
    lines = _imports([p.read_text() for p in SOURCES.values()])
    lines += [
        "",
        "import motor.core as _core",
        "import motor.core.cursor as _cursor",
        "import motor.gridfs as _gridfs",
    ]
    for module in SOURCES:
        names = sorted(n for m, n in from_sources if m == module)
        if names:
            lines.append(f"from {module} import {', '.join(names)}")
    return lines


def render(flavour: Flavour) -> str:
    classes = _load_sources()
    body = "\n".join(_class_text(name, classes, flavour) for name in PUBLIC_CLASSES)
    lines = [
        f"# {flavour.doc}",
        "#",
        "# Generated by tools/gen_flavour_stubs.py from motor/core/__init__.pyi,",
        "# motor/core/cursor.pyi and motor/gridfs/__init__.pyi: do not edit; edit those",
        "# and run `python tools/gen_flavour_stubs.py`.",
        "",
    ]
    lines += _imports_for(body, {flavour.name(n) for n in PUBLIC_CLASSES})
    lines.append("")
    exported = [flavour.name(n) for n in PUBLIC_CLASSES] + ["MotorPoolTimeout"]
    lines.append("from motor.errors import MotorPoolTimeout as MotorPoolTimeout")
    lines.append("")
    lines.append("__all__ = [")
    lines += [f'    "{n}",' for n in sorted(exported)]
    lines.append("]")
    lines.append("")
    text = "\n".join(lines) + "\n" + body
    return _tidy(text)


def _tidy(text: str) -> str:
    """One blank line between classes, and nowhere two."""
    text = re.sub(r"\n{3,}", "\n\n", text)
    return re.sub(r"\n+(class )", r"\n\n\1", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a stub is stale")
    args = parser.parse_args(argv)
    stale = []
    outputs = [(f.path, render(f)) for f in FLAVOURS] + [(MOTOR_STUB, render_motor())]
    for path, text in outputs:
        current = path.read_text() if path.exists() else None
        if current != text:
            stale.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(text)
    if args.check and stale:
        print("stale (run python tools/gen_flavour_stubs.py):", *stale, file=sys.stderr)
        return 1
    for path in stale:
        print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
