"""How commands print: JSON with the admin API's field names (`--json`), or readable text and tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click
import msgspec

LONGEST_CELL = 60

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON with the admin API's field names instead of text."
)


def emit(view: Any, as_json: bool, text: Callable[[], str]) -> None:
    """Print a view (a msgspec Struct, or a list of them) as one line of JSON, or as text."""
    click.echo(msgspec.json.encode(view).decode() if as_json else text())


def cell(value: object, longest: int | None = LONGEST_CELL) -> str:
    """A value on one line: None as `-`, booleans as yes/no, long text cut at `longest` characters."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = " ".join(str(value).split())
    return text if longest is None or len(text) <= longest else text[: longest - 1] + "…"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], empty: str = "(none)") -> str:
    """Columns aligned on the widest cell; `empty` when there is no row."""
    cells = [[cell(value) for value in row] for row in rows]
    if not cells:
        return empty
    widths = [max(len(header), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]
    lines = [headers, *cells]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def fields(pairs: Iterable[tuple[str, object]]) -> str:
    """`name: value` lines, the names aligned."""
    items = list(pairs)
    width = max(len(name) for name, _ in items)
    return "\n".join(f"{name + ':':<{width + 1}} {cell(value, None)}" for name, value in items)
