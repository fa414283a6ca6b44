"""One self-contained HTML page: the plots (PNG embedded as base64, or linked) and the tables.

>>> import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> page = write_html(d / "index.html", title="t", plots=[], tables=[Table("Rates", "Rates", ("seed",), [("A",)])])
>>> "<td>A</td>" in page.read_text()
True
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from emulator.plots._style import PlotFile

__all__ = ["SECTIONS", "Table", "write_html"]

#: Section order on the page.
SECTIONS: tuple[str, ...] = (
    "Rates", "Rate vs threshold", "Rate vs pileup", "Overlaps", "Prescale columns", "Turn-ons",
    "Anomaly detection", "Latency", "Firmware",
)  # fmt: skip

_CSS = """
body{font-family:Helvetica,Arial,sans-serif;margin:2em;color:#222;max-width:1500px}
h1{margin-bottom:0} .sub{color:#666;margin-top:.2em} nav a{margin-right:1em}
table{border-collapse:collapse;margin:1em 0;font-size:14px} caption{text-align:left;font-weight:bold;padding:.3em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right} td:first-child,th:first-child{text-align:left}
tr:nth-child(even){background:#f6f6f6} .figs{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0;border:1px solid #ddd;padding:.5em} figure img{width:560px;height:auto;display:block}
figcaption{font-size:13px;color:#444;margin-top:.3em}
"""


@dataclass(frozen=True, slots=True)
class Table:
    """A table of already-formatted cells, shown in ``section``."""

    section: str
    title: str
    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]


def _href(path: Path, page_dir: Path) -> str:
    """A link relative to the page when the file is under its directory, else a file:// URI."""
    p, d = path.resolve(), page_dir.resolve()
    return html.escape(p.relative_to(d).as_posix() if p.is_relative_to(d) else p.as_uri())


def _img_src(plot: PlotFile, page_dir: Path, embed: bool) -> str:
    if embed:
        return "data:image/png;base64," + base64.b64encode(plot.png.read_bytes()).decode("ascii")
    return _href(plot.png, page_dir)


def _table(t: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in t.header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in t.rows)
    return f"<table><caption>{html.escape(t.title)}</caption><tr>{head}</tr>{body}</table>"


def _figure(p: PlotFile, page_dir: Path, embed: bool) -> str:
    caption = f'{html.escape(p.title)} — <a href="{_href(p.data, page_dir)}">data (JSON)</a>'
    return (f'<figure><img src="{_img_src(p, page_dir, embed)}" alt="{html.escape(p.title)}">'
            f"<figcaption>{caption}</figcaption></figure>")  # fmt: skip


def write_html(
    path: Path, *, title: str, plots: Sequence[PlotFile], tables: Sequence[Table], subtitle: str = "",
    embed: bool = True,
) -> Path:  # fmt: skip
    """Write the page; sections without plots or tables are left out. Returns ``path``."""
    page_dir = path.parent
    parts = []
    present = [s for s in SECTIONS if any(p.section == s for p in plots) or any(t.section == s for t in tables)]
    for i, sec in enumerate(present):
        parts.append(f'<h2 id="s{i}">{html.escape(sec)}</h2>')
        parts += [_table(t) for t in tables if t.section == sec]
        figs = [_figure(p, page_dir, embed) for p in plots if p.section == sec]
        if figs:
            parts.append('<div class="figs">' + "".join(figs) + "</div>")
    nav = " ".join(f'<a href="#s{i}">{html.escape(s)}</a>' for i, s in enumerate(present))
    doc = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
           f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
           f'<p class="sub">{html.escape(subtitle)}</p><nav>{nav}</nav>{"".join(parts)}</body></html>\n')  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc, encoding="utf-8")
    return path
