"""`index.html`: the release as a citizen opens it in a browser, with charts and plain words.

A CSV and a README serve those who already know what to do with them. The page is
for everyone else: the aggregates drawn as charts, the files with their size and
SHA-256, what was protected and how, and how to verify the release. It is one
self-contained file (inline CSS and SVG, no script, no web font, no link outside
the release) so that it works from the bucket, a mirror or a USB key, leaks no
reader to a third party, and can be checked like any other file of the release.

Nothing is written twice: the protection, risk and verification sections are the
README's own (`readme.render_readme`), converted from its Markdown subset, so the
page and the README cannot say different things. The charts are drawn at build
time by matplotlib (pinned exactly: its SVG is part of the release's bytes, and the
same inputs give the same bytes). A cell hidden by the statistical secret is drawn
as a hatched band labelled « secret statistique », never as a bar of length 0.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable, Mapping, Sequence

import matplotlib
from markdown_it import MarkdownIt
from matplotlib.figure import Figure

from include.core.french_collation import french_key
from include.core.source_config import SourceConfig
from include.publish.manifest import MANIFEST_NAME, ManifestEntry
from include.publish.privacy_gates import SUPPRESSION_COLUMNS
from include.publish.run import RunInfo
from include.publish.tables import PublishedTable, WrittenTable
from include.publish.wording import LICENCE, french_number

PAGE_NAME = "index.html"
SECRET = "secret statistique"  # noqa: S105 (the statistical secret, not a password)

# The README's sections the page shows, by the start of their heading: the first ones
# are always there, the audit log's only when the release carries the public log.
PROTECTION_SECTIONS = (
    "Comment les données ont été protégées",
    "Risques de ré-identification",
    "Détection des données personnelles",
)
VERIFICATION_SECTIONS = ("Vérifier l'intégrité",)
OPTIONAL_SECTIONS = ("Vérifier le journal d'audit",)

# Colours: every text/background pair has a contrast ratio above 7:1 (WCAG AAA).
_BAR = "#1f4e79"
_HATCH = "#4d4d4d"
_TEXT = "#1a1a1a"

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
color:#1a1a1a;background:#fff;line-height:1.5;margin:0 auto;max-width:60rem;padding:1rem}
a{color:#0b4a82}a:focus,a:hover{outline:2px solid #0b4a82}
code,pre{font-family:"DejaVu Sans Mono",monospace;background:#f2f2f2;color:#1a1a1a}
pre{padding:.5rem;overflow-x:auto;white-space:pre-wrap}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #767676;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.nombre{text-align:right}td.empreinte code{word-break:break-all}
figure{margin:1rem 0}svg{max-width:100%;height:auto}
blockquote{border-left:4px solid #767676;margin-left:0;padding-left:1rem}
.secret{font-style:italic}
"""


# The README is written by `readme.py`; the page shows some of its sections as they are.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_html(lines: Sequence[str]) -> str:
    """README lines as HTML, by markdown-it-py (CommonMark, raw HTML escaped, not passed)."""
    return _MARKDOWN.render("\n".join(lines))


def readme_sections(readme: str) -> dict[str, list[str]]:
    """The README's `## ` sections by heading, each with its heading line."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in readme.split("\n"):
        if line.startswith("## "):
            current = sections.setdefault(line[3:], [])
        if current is not None:
            current.append(line)
    return sections


def _pick(sections: dict[str, list[str]], starts: Iterable[str], *, required: bool) -> list[str]:
    picked: list[str] = []
    for start in starts:
        found = [lines for heading, lines in sections.items() if heading.startswith(start)]
        if not found and required:
            raise ValueError(f"the README has no section « {start} »: the page would omit it")
        for lines in found:
            picked += lines
    return picked


def _dimensions(table: PublishedTable) -> list[str]:
    return [c.name for c in table.columns if c.name not in SUPPRESSION_COLUMNS]


# A dimension column's labels: column → (stored code → French label).
ColumnLabels = Mapping[str, Mapping[str, str]]


def column_labels(config: SourceConfig, table: PublishedTable) -> dict[str, dict[str, str]]:
    """The French labels of an aggregate's coded dimensions, from its source's config."""
    spec = next((a for a in config.aggregates if a.name == table.name), None)
    if spec is None:
        return {}
    return {dimension.column: config.dimension_labels(dimension) for dimension in spec.dimensions}


def _cells(table: PublishedTable, labels: ColumnLabels) -> list[tuple[str, int | None]]:
    """(label, published count or None when hidden) for each row: codes read as their French
    labels, rows in the French alphabetical order of those, a dimension's total after its
    values and the grand total last (the files keep codes and their own order)."""
    dimensions = _dimensions(table)
    keyed = []
    for row in table.data.to_pylist():
        words = [
            None if row[name] is None else labels.get(name, {}).get(str(row[name]), str(row[name]))
            for name in dimensions
        ]
        label = (
            " · ".join("Total" if word is None else word for word in words)
            if any(word is not None for word in words)
            else "Total général"
        )
        order = tuple((word is None, french_key(word or "")) for word in words)
        keyed.append((order, label, None if row.get("suppressed") else row["count"]))
    keyed.sort(key=lambda item: item[0])
    return [(label, count) for _, label, count in keyed]


def _prefix_ids(svg: str, prefix: str) -> str:
    """Make matplotlib's ids (`patch_1`...) unique in a page holding several charts."""
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    return re.sub(r'(xlink:)?href="#([^"]+)"', rf'\1href="#{prefix}-\2"', svg)


_GEOMETRY = re.compile(r'(\s(?:d|x|y|width|height|viewBox|transform|points)=")([^"]*)"')
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _one_decimal(svg: str) -> str:
    """Every coordinate written with exactly one decimal (a tenth of a point is finer than
    any screen shows). WHY: matplotlib's six decimals and bare integers run together into
    digit strings such as `0 540 1019.52` or `rotate(-0 272.767089 …)`, which have the shape
    of a French phone number to whoever scans public files for identifiers (the end-to-end
    tests do); with one decimal after each number, no run of more than four digits forms."""

    def numbers(found: re.Match[str]) -> str:
        values = _NUMBER.sub(lambda n: f"{float(n.group()):.1f}", found.group(2))
        return f'{found.group(1)}{values}"'

    return _GEOMETRY.sub(numbers, svg)


def chart_svg(table: PublishedTable, chart_id: str, labels: ColumnLabels) -> str:
    """One aggregate as a horizontal bar chart, inline SVG with its <title> and <desc>."""
    cells = _cells(table, labels)
    published = [count for _, count in cells if count is not None]
    hidden = len(cells) - len(published)
    width = max(published, default=0) * 1.15 or 1
    with matplotlib.rc_context({"svg.hashsalt": chart_id, "svg.fonttype": "none", "font.size": 9}):
        figure = Figure(figsize=(7.5, 0.9 + 0.26 * len(cells)))
        axes = figure.subplots()
        for y, (_, count) in enumerate(cells):
            if count is None:
                axes.barh(y, width, color="white", hatch="///", edgecolor=_HATCH, linewidth=0)
                axes.text(width * 0.01, y, SECRET, va="center", color=_TEXT, style="italic",
                          bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})  # fmt: skip
            else:
                axes.barh(y, count, color=_BAR)
                axes.text(count, y, f" {french_number(count)}", va="center", color=_TEXT)
        axes.set_yticks(range(len(cells)), [label for label, _ in cells])
        axes.set_ylim(len(cells) - 0.5, -0.5)
        axes.set_xlim(0, width)
        axes.set_xlabel("Effectif publié", color=_TEXT)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = re.sub(r"^.*?(?=<svg)", "", svg, flags=re.S)  # XML declaration, DOCTYPE
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = _one_decimal(svg)
    svg = _prefix_ids(svg, chart_id)
    description = (
        f"Diagramme en barres horizontales : l'effectif publié de chacune des "
        f"{french_number(len(cells))} cellules du tableau {table.name} "
        f"({', '.join(_dimensions(table))})"
        + (
            f", dont {french_number(hidden)} couverte(s) par le secret statistique, dessinée(s) "
            f"comme une bande hachurée marquée « {SECRET} » (leur effectif n'est pas publié)."
            if hidden
            else "."
        )
    )
    accessible = (
        f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false"'
    )
    head = (
        f'<title id="{chart_id}-title">{html.escape(table.title)}</title>'
        f'<desc id="{chart_id}-desc">{html.escape(description)}</desc>'
    )
    return re.sub(r"<svg\b([^>]*)>", lambda m: f"{accessible}{m.group(1)}>{head}", svg, count=1)


def _chart_section(index: int, item: WrittenTable, labels: ColumnLabels) -> str:
    table = item.table
    chart_id = f"graphique-{index}"
    rows = "\n".join(
        f'<tr><th scope="row">{html.escape(label)}</th>'
        + (
            f'<td class="nombre">{french_number(count)}</td>'
            if count is not None
            else f'<td class="secret">{SECRET}</td>'
        )
        + "</tr>"
        for label, count in _cells(table, labels)
    )
    return (
        f'<section aria-labelledby="{chart_id}-h">\n'
        f'<h3 id="{chart_id}-h">{html.escape(table.title)}</h3>\n'
        f"<figure>\n{chart_svg(table, chart_id, labels)}\n"
        f'<figcaption>Source : <a href="{html.escape(item.csv.path)}">'
        f"{html.escape(item.csv.path)}</a>. Un effectif masqué est marqué « {SECRET} » : "
        "il n'est pas nul, il n'est pas publié.</figcaption>\n</figure>\n"
        f"<details><summary>Valeurs du graphique « {html.escape(table.title)} »</summary>\n"
        f"<table><caption>{html.escape(table.title)}</caption>\n"
        f'<thead><tr><th scope="col">Cellule ({html.escape(", ".join(_dimensions(table)))})'
        f'</th><th scope="col">Effectif publié</th></tr></thead>\n'
        f"<tbody>\n{rows}\n</tbody></table></details>\n</section>"
    )


def _files_table(files: Sequence[ManifestEntry]) -> str:
    rows = "\n".join(
        f'<tr><td><a href="{html.escape(entry.path)}">{html.escape(entry.path)}</a></td>'
        f'<td class="nombre">{french_number(entry.bytes)} octets</td>'
        f'<td class="empreinte"><code>{entry.sha256}</code></td></tr>'
        for entry in files
    )
    return (
        "<h2>Fichiers de cette version</h2>\n"
        f"<p>Taille et empreinte SHA-256 de chaque fichier, telles que les donne "
        f'<a href="{MANIFEST_NAME}">{MANIFEST_NAME}</a> (qui liste aussi cette page). '
        "Vérifiez-les avec <code>sha256sum &lt;fichier&gt;</code>.</p>\n"
        "<table><caption>Fichiers publiés</caption>\n"
        '<thead><tr><th scope="col">Fichier</th><th scope="col">Taille</th>'
        '<th scope="col">SHA-256</th></tr></thead>\n'
        f"<tbody>\n{rows}\n</tbody></table>"
    )


def render_public_page(
    config: SourceConfig,
    run: RunInfo,
    written: Sequence[WrittenTable],
    files: Sequence[ManifestEntry],
    readme: str,
) -> str:
    """The page of a release: `files` are the entries written before it (the manifest,
    written last, lists them and the page); `readme` is the release's README text."""
    sections = readme_sections(readme)
    protection = _pick(sections, PROTECTION_SECTIONS, required=True)
    verification = _pick(sections, VERIFICATION_SECTIONS, required=True) + _pick(
        sections, OPTIONAL_SECTIONS, required=False
    )
    aggregates = [item for item in written if item.table.kind == "aggregate"]
    charts = "\n".join(
        _chart_section(i, item, column_labels(config, item.table))
        for i, item in enumerate(aggregates, 1)
    )
    day = f"{run.run_date_utc:%Y-%m-%d}"
    title = f"{config.title} — version {run.release_id}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="fr">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            "<main>",
            f"<h1>{html.escape(config.title)}</h1>",
            f"<p>Version <code>{html.escape(run.release_id)}</code> — données au {day} — "
            f"{html.escape(LICENCE['title'])} ({LICENCE['name']}). "
            f'Documentation complète : <a href="README.md">README.md</a>.</p>',
            markdown_html([config.description.strip()]),
            "<h2>Graphiques</h2>",
            "<p>Les effectifs tels que cette version les publie, après protection. Une "
            f"bande hachurée marquée « {SECRET} » est un effectif masqué pour protéger les "
            "personnes concernées : il n'est pas nul, il n'est pas publié.</p>"
            if aggregates
            else "<p>Cette version ne publie aucun tableau agrégé.</p>",
            charts,
            _files_table(files),
            markdown_html(protection),
            markdown_html(verification),
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )
