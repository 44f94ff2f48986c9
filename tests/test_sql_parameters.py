"""Values reach SQL only as bound parameters (`:name`), never spliced into its text.

An AST walk over our code (api, shared, worker, migrations) finds every string that looks like SQL
(upper-case keywords) and is built by interpolation: an f-string, `%`, `.format()`, `.replace()`,
`.join()` or `+`. Each interpolated piece must be something that cannot carry input: a literal, a
module-level constant that is itself safe, an `int(...)`, an identifier the backend spells
(`tx.list_table('ids')`, `minute_of('completed_at')`, a literal class attribute such as
`tx.backend.skip_locked`), or an expression on the reviewed list below (a local variable built from
fixed fragments, a table or column name from the schema's own MetaData). Anything else fails the
test, which names the file and line: bind the value instead, or review the new expression and add it
here with the reason it is safe.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "shared", "worker", "migrations")
SQL = re.compile(
    r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|WHERE|VALUES|PRAGMA|SAVEPOINT|LISTEN|NOTIFY|ORDER BY|LIMIT|SET|"
    r"LOCK TABLE|COPY)\b"
)
# Functions whose result is an identifier or a fragment the backend spells, when called with literals.
IDENTIFIER_FUNCTIONS = frozenset({"list_table", "minute_of"})
# SQL fragments each backend class spells as a class attribute (`tx.backend.skip_locked`).
BACKENDS = ("shared/queue/backends/base.py", "shared/queue/backends/sqlite.py", "shared/queue/backends/postgres.py")
# String methods that put their arguments into the text.
TEXT_METHODS = frozenset({"format", "replace", "join"})
# Expressions interpolated into SQL, by file and function (as `ast.unparse` writes them), each
# reviewed: why it holds no input.
METADATA = "a name from the schema's own MetaData (copied_tables(), SEEDED), not from input"
REVIEWED: dict[tuple[str, str, str], str] = {
    ("shared/db/tx.py", "savepoint", "name"): "sp<counter>, numbered by Tx itself",
    ("shared/queue/queries.py", "dead_letters", "where"): "one of two literals",
    ("shared/queue/queries.py", "list_jobs", "condition"): "AND-joined literal clauses; values go to params",
    ("shared/queue/queries.py", "list_dead_letters", "condition"): "_dead_letter_where: literal clauses",
    ("shared/queue/queries.py", "dead_letter_ids", "condition"): "_dead_letter_where: literal clauses",
    ("shared/queue/queries.py", "live_workers", "sql"): "a literal, extended by a literal clause",
    ("shared/queue/maintenance.py", "delete_completed_batch", "table"): "from a literal tuple of table names",
    ("shared/queue/maintenance.py", "delete_completed_batch", "column"): "from a literal tuple of column names",
    ("shared/queue/maintenance.py", "delete_completed_batch", "source"): "tx.list_table('ids')",
    ("shared/queue/backends/postgres.py", "_on_connect", "lock_timeout"): "int() of the busy timeout setting",
    ("shared/services/store.py", "deliveries", "sql"): "a literal, extended by a literal clause",
    ("shared/db/transfer.py", "migrate_to_postgres", "table.name"): METADATA,
    ("shared/db/transfer.py", "_check_target", "', '.join((table.name for table in tables))"): METADATA,
    ("shared/db/transfer.py", "_check_target", "key"): METADATA,
    ("shared/db/transfer.py", "_check_target", "table.name"): METADATA,
    ("shared/db/transfer.py", "_rows", "', '.join(table.columns.keys())"): METADATA,
    ("shared/db/transfer.py", "_rows", "table.name"): METADATA,
    ("shared/db/transfer.py", "_copy", "name"): METADATA,
    ("shared/db/transfer.py", "_copy", "table.name"): METADATA,
    ("shared/db/transfer.py", "_copy", "', '.join(names)"): METADATA,
    ("shared/db/transfer.py", "_fix_sequences", "column.name"): METADATA,
    ("shared/db/transfer.py", "_fix_sequences", "table.name"): METADATA,
    ("shared/db/transfer.py", "_verify", "name"): "a key of the counts taken from the source's tables by name",
}


@dataclass(frozen=True)
class Splice:
    path: str
    line: int
    function: str
    piece: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} in {self.function}(): {self.piece} is spliced into SQL"


class SpliceFinder(ast.NodeVisitor):
    def __init__(self, path: str, tree: ast.Module, reviewed: dict[tuple[str, str, str], str]) -> None:
        self.path = path
        self.reviewed = reviewed
        self.found: list[Splice] = []
        self._function = "<module>"
        self._constants = {
            target.id: node.value
            for node in tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name) and target.id.lstrip("_").isupper()
        }

    def sql_text(self, node: ast.AST) -> str:
        """The literal parts of a string expression (what SQL keywords are looked for in)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name) and node.id in self._constants:
            return self.sql_text(self._constants[node.id])
        if isinstance(node, ast.JoinedStr):
            return "".join(self.sql_text(part) for part in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.sql_text(node.left) + self.sql_text(node.right)
        return ""

    def safe(self, node: ast.AST, seen: frozenset[str] = frozenset()) -> bool:
        """True for an expression that cannot carry input (see the module's docstring)."""
        if (self.path, self._function, ast.unparse(node)) in self.reviewed:
            return True
        parts: list[ast.AST] | None = None  # a compound expression: safe when all its parts are
        if isinstance(node, ast.FormattedValue):
            parts = [node.value]
        elif isinstance(node, ast.JoinedStr):
            parts = list(node.values)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            parts = [node.left, node.right]
        elif isinstance(node, ast.IfExp):
            parts = [node.body, node.orelse]
        if parts is not None:
            return all(self.safe(part, seen) for part in parts)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in TEXT_METHODS:
            # "...{types}...".format(types=...), sql.replace(old, new): safe text with safe pieces
            pieces = [node.func.value, *node.args, *(keyword.value for keyword in node.keywords)]
            return all(self.safe(piece, seen) for piece in pieces)
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            return name == "int" or (
                name in IDENTIFIER_FUNCTIONS and all(isinstance(arg, ast.Constant) for arg in node.args)
            )
        if isinstance(node, ast.Attribute) and node.attr in backend_fragments():
            return ast.unparse(node.value).endswith("backend")
        return isinstance(node, ast.Constant) or (isinstance(node, ast.Name) and self._name_safe(node.id, seen))

    def _name_safe(self, name: str, seen: frozenset[str]) -> bool:
        return name in self._constants and name not in seen and self.safe(self._constants[name], seen | {name})

    def _check(self, node: ast.AST, pieces: list[ast.AST]) -> None:
        if SQL.search(self.sql_text(node)):
            self.found += [
                Splice(self.path, getattr(node, "lineno", 0), self._function, ast.unparse(piece))
                for piece in pieces
                if not self.safe(piece)
            ]

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        outer, self._function = self._function, node.name
        self.generic_visit(node)
        self._function = outer

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815 - ast API

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        self._check(node, [part.value for part in node.values if isinstance(part, ast.FormattedValue)])
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Mod) and SQL.search(self.sql_text(node.left)):
            self._check(node.left, [node.right])  # "... %s" % value: never safe for input
        elif isinstance(node.op, ast.Add):
            self._check(node, [node.left, node.right])
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in TEXT_METHODS:
            self._check(func.value, [*node.args, *(keyword.value for keyword in node.keywords)])
        self.generic_visit(node)


@functools.cache
def backend_fragments() -> frozenset[str]:
    """Class attributes of the backends whose value is a literal string."""
    names: set[str] = set()
    for path in BACKENDS:
        for node in ast.walk(ast.parse((ROOT / path).read_text())):
            if isinstance(node, ast.ClassDef):
                names.update(
                    target.id
                    for statement in node.body
                    if isinstance(statement, ast.Assign | ast.AnnAssign)
                    and isinstance(statement.value, ast.Constant)
                    and isinstance(statement.value.value, str)
                    for target in (statement.targets if isinstance(statement, ast.Assign) else [statement.target])
                    if isinstance(target, ast.Name)
                )
    return frozenset(names)


def splices(path: str, source: str, reviewed: dict[tuple[str, str, str], str] = REVIEWED) -> list[Splice]:
    tree = ast.parse(source)
    finder = SpliceFinder(path, tree, reviewed)
    finder.visit(tree)
    return finder.found


def our_sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_no_value_is_spliced_into_sql() -> None:
    found = [
        str(splice) for path in our_sources() for splice in splices(path.relative_to(ROOT).as_posix(), path.read_text())
    ]
    assert found == []


def test_every_reviewed_expression_is_still_in_use() -> None:
    """An entry whose code is gone would let a new variable of the same name through unreviewed."""
    used = set()
    for path in our_sources():
        relative = path.relative_to(ROOT).as_posix()
        for splice in splices(relative, path.read_text(), reviewed={}):
            used.add((relative, splice.function, splice.piece))
    assert set(REVIEWED) <= used


@pytest.mark.parametrize(
    "code",
    [
        "def f(tx, order_id):\n    tx.execute(f\"SELECT * FROM orders WHERE id = '{order_id}'\")\n",
        "def f(tx, status):\n    tx.all(\"SELECT id FROM jobs WHERE status = '%s'\" % status)\n",
        'def f(tx, user):\n    tx.all("DELETE FROM orders WHERE user_id = {}".format(user))\n',
        "def f(tx, user):\n    tx.all(\"UPDATE orders SET status = 'x' WHERE user_id = \" + user)\n",
        'def f(tx, order):\n    tx.all(f"SELECT {COLUMNS} FROM orders WHERE id = {order.id!r}")\nCOLUMNS = "id"\n',
        'def f(tx, n):\n    tx.all(f"SELECT id FROM jobs LIMIT {n}")\n',
        # `where`, but not in a reviewed function
        'def f(tx, where):\n    tx.all(f"SELECT id FROM jobs WHERE {where}")\n',
        'def f(tx, name):\n    tx.all(f"SELECT id FROM {tx.list_table(name)}")\n',  # an identifier from input
        'COLUMNS = "id, " + input()\ndef f(tx):\n    tx.all(f"SELECT {COLUMNS} FROM jobs")\n',
    ],
)
def test_a_spliced_value_is_found(code: str) -> None:
    assert splices("shared/example.py", code) != []


@pytest.mark.parametrize(
    "code",
    [
        'def f(tx, order_id):\n    tx.execute("SELECT * FROM orders WHERE id = :id", {"id": order_id})\n',
        'COLUMNS = "id, name"\ndef f(tx):\n    tx.all(f"SELECT {COLUMNS} FROM products WHERE id = :id")\n',
        "def f(tx):\n    tx.all(f\"SELECT id FROM products WHERE id IN (SELECT value FROM {tx.list_table('ids')})\")\n",
        'def f(conn, ms):\n    conn.execute(f"PRAGMA busy_timeout={int(ms)}")\n',
        'def f(name):\n    return f"Hello {name}, your order is on its way"\n',
    ],
)
def test_bound_parameters_and_fixed_identifiers_pass(code: str) -> None:
    assert splices("shared/example.py", code) == []
