"""The public release page (`index.html`): files, charts, protection and verification.

Parsed with the standard library's HTML parser, on releases built from the seeded
inputs the other release tests use (real anonymization, real joint cell suppression).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest

from include.core.french_collation import french_key
from include.publish import ReleaseFiles, load_release
from include.publish.public_page import PAGE_NAME, SECRET, markdown_html, readme_sections
from include.publish.readme import README_NAME
from tests.dags.pipeline_helpers import BACKSTOP_PATTERNS
from tests.ledger_history import grow, head_of, release_log
from tests.unit.publish.inputs import RUN_A, source


class Page(HTMLParser):
    """What the tests look at: attributes, text by element, table rows, headings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.text_in: dict[str, list[str]] = {}
        self.rows: list[list[str]] = []
        self.headings: list[tuple[int, str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop() != tag:
            pass
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append((int(tag[1]), "".join(self._heading).strip()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        for tag in set(self.stack):
            self.text_in.setdefault(tag, []).append(data)
        for part in (self._cell, self._heading):
            if part is not None:
                part.append(data)


def _parse(files: ReleaseFiles) -> tuple[str, Page]:
    text = files.path(PAGE_NAME).read_text("utf-8")
    parsed = Page()
    parsed.feed(text)
    parsed.close()
    return text, parsed


@pytest.fixture(params=["consultation", "signalements"])
def release(
    request: pytest.FixtureRequest,
    build: Callable[..., ReleaseFiles],
    inputs_of: Callable[[str], dict[str, Any]],
) -> tuple[ReleaseFiles, dict[str, Any]]:
    files = build(inputs_of(request.param), name=request.param)
    return files, json.loads(files.path("manifest.json").read_text("utf-8"))


def test_the_page_is_in_the_manifest_with_its_checksum_like_the_readme(
    release: tuple[ReleaseFiles, dict[str, Any]],
) -> None:
    files, manifest = release
    listed = {item["path"]: item for item in manifest["files"]}
    payload = files.path(PAGE_NAME).read_bytes()
    assert listed[PAGE_NAME]["sha256"] == hashlib.sha256(payload).hexdigest()
    assert listed[PAGE_NAME]["bytes"] == len(payload)
    assert listed[PAGE_NAME]["media_type"] == "text/html; charset=utf-8"
    assert listed[README_NAME]["media_type"].startswith("text/markdown")
    assert [entry.path for entry in files.files][-2:] == [README_NAME, PAGE_NAME]
    assert load_release(files.directory).files == files.files  # the folder verifies


def test_the_page_lists_every_file_with_the_manifests_size_and_checksum(
    release: tuple[ReleaseFiles, dict[str, Any]],
) -> None:
    files, manifest = release
    _, page = _parse(files)
    table = {row[0]: row[1:] for row in page.rows if len(row) == 3 and row[0] != "Fichier"}
    expected = {item["path"] for item in manifest["files"]} - {PAGE_NAME}
    assert set(table) == expected
    for item in manifest["files"]:
        if item["path"] == PAGE_NAME:
            continue
        size, checksum = table[item["path"]]
        assert size.replace("\u202f", "") == f"{item['bytes']} octets"
        assert checksum == item["sha256"]
    hrefs = {attrs["href"] for tag, attrs in page.tags if tag == "a"}
    assert expected | {"manifest.json"} <= hrefs


def test_no_external_resource_or_link(release: tuple[ReleaseFiles, dict[str, Any]]) -> None:
    files, manifest = release
    text, page = _parse(files)
    allowed = {item["path"] for item in manifest["files"]} | {"manifest.json"}
    for tag, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "action", "data"):
            value = attrs.get(name)
            if value is None:
                continue
            assert value.startswith("#") or value in allowed, f"<{tag} {name}={value!r}>"
    assert not [tag for tag, _ in page.tags if tag in ("script", "link", "img", "iframe")]
    for external in ("@import", "url(http", "@font-face", "//"):
        assert external not in re.sub(r'xmlns(:\w+)?="[^"]*"', "", text), external
    # An id referenced by url(#...) or href="#..." exists exactly once in the page.
    ids = [attrs["id"] for _, attrs in page.tags if attrs.get("id")]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for ref in re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', text):
        assert (ref[0] or ref[1]) in ids


def test_no_number_in_the_charts_reads_as_an_identifier(
    release: tuple[ReleaseFiles, dict[str, Any]],
) -> None:
    """The end-to-end tests scan every public file for identifier shapes; the SVG's numbers
    must not trip them (matplotlib's `rotate(-0 272.767089 …)` on unrotated text did)."""
    files, _ = release
    text = files.path(PAGE_NAME).read_text("utf-8")
    shapes = [
        (name, text[max(0, found.start() - 60) : found.end() + 20])
        for name, pattern in BACKSTOP_PATTERNS.items()
        for found in pattern.finditer(text)
    ]
    assert shapes == []


def test_the_page_is_french_with_a_heading_hierarchy(
    release: tuple[ReleaseFiles, dict[str, Any]],
) -> None:
    files, _ = release
    _, page = _parse(files)
    assert page.tags[0] == ("html", {"lang": "fr"})
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1
    assert levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))
    assert "".join(page.text_in["title"]).startswith(source(files.source).title)


def test_every_aggregate_is_a_chart_with_title_and_description(
    release: tuple[ReleaseFiles, dict[str, Any]],
) -> None:
    files, manifest = release
    text, page = _parse(files)
    aggregates = [t for t in manifest["tables"] if t["kind"] == "aggregate"]
    svgs = [attrs for tag, attrs in page.tags if tag == "svg"]
    assert len(svgs) == len(aggregates)
    titles = re.findall(r'<svg role="img" aria-labelledby="([^" ]+) ([^"]+)"', text)
    assert len(titles) == len(aggregates)
    for (title_id, desc_id), table in zip(titles, aggregates, strict=True):
        title = re.search(rf'<title id="{title_id}">([^<]*)</title>', text)
        assert title is not None
        assert title.group(1) == table["title"].replace("'", "&#x27;")
        assert re.search(rf'<desc id="{desc_id}">[^<]+</desc>', text)


def test_suppressed_cells_are_marked_never_drawn_as_zero(
    build: Callable[..., ReleaseFiles], inputs_of: Callable[[str], dict[str, Any]]
) -> None:
    files = build(inputs_of("signalements"), name="signalements")
    text, page = _parse(files)
    manifest = json.loads(files.path("manifest.json").read_text("utf-8"))
    hidden = sum(t["cells_suppressed"] for t in manifest["tables"] if t["kind"] == "aggregate")
    assert hidden > 0  # the seeded inputs hide cells, or this test proves nothing
    # In the charts: a hatched band (filled with a hatch pattern) and the words, per cell.
    assert text.count(f">{SECRET}</text>") == hidden
    assert len(re.findall(r"fill: url\(#graphique-\d+-h[0-9a-f]+\)", text)) == hidden
    # In each chart's table of values: the words, never 0 nor an empty cell.
    cells = [row for row in page.rows if len(row) == 2 and row[1] != "Effectif publié"]
    assert sum(row[1] == SECRET for row in cells) == hidden
    assert not [row for row in cells if row[1] in ("0", "")]
    published = sum(t["rows"] for t in manifest["tables"] if t["kind"] == "aggregate")
    assert len(cells) == published  # one row per published cell


def test_protection_and_verification_reuse_the_readme_text(
    release: tuple[ReleaseFiles, dict[str, Any]],
) -> None:
    files, _ = release
    readme = files.path(README_NAME).read_text("utf-8")
    text, page = _parse(files)
    sections = readme_sections(readme)
    for heading in sections:
        if heading.startswith(("Comment les données", "Risques", "Vérifier l'intégrité")):
            assert markdown_html(sections[heading]) in text
    headings = [h for _, h in page.headings]
    assert any(h.startswith("Risques de ré-identification") for h in headings)
    assert "Vérifier l'intégrité" in headings


def test_a_release_with_a_public_log_tells_how_to_verify_it(
    build: Callable[..., ReleaseFiles], inputs_of: Callable[[str], dict[str, Any]]
) -> None:
    ledger = grow(grow([], "earlier"), RUN_A.run_id)
    log = release_log(ledger, RUN_A.run_id, None)
    files = build(inputs_of("consultation"), ledger=head_of(ledger), log=log)
    text, page = _parse(files)
    assert "Vérifier le journal d'audit" in [h for _, h in page.headings]
    assert "civic audit verify-release" in "".join(page.text_in["code"])
    assert "<ol>\n<li><strong>Fichiers</strong>" in text  # the manual steps, numbered
    readme = readme_sections(files.path(README_NAME).read_text("utf-8"))
    assert markdown_html(readme["Vérifier le journal d'audit"]) in text
    hrefs = {attrs["href"] for tag, attrs in page.tags if tag == "a"}
    assert {"ledger_checkpoint.json", "ledger_proofs.json"} <= hrefs


def test_markdown_subset() -> None:
    lines = [
        "## Titre `x` & <y>",
        "",
        "- **un** : `a`",
        "  - sous-point",
        "- deux",
        "",
        "1. premier",
        "2. second",
        "",
        "```",
        "civic audit verify-release <dossier>",
        "```",
        "> **Attention** : fin",
    ]
    page = markdown_html(lines)
    for part in (
        "<h2>Titre <code>x</code> &amp; &lt;y&gt;</h2>",  # raw HTML escaped, never passed
        "<li><strong>un</strong> : <code>a</code>\n<ul>\n<li>sous-point</li>\n</ul>",
        "<ol>\n<li>premier</li>\n<li>second</li>\n</ol>",
        "<pre><code>civic audit verify-release &lt;dossier&gt;\n</code></pre>",
        "<blockquote>\n<p><strong>Attention</strong> : fin</p>\n</blockquote>",
    ):
        assert part in page


def _value_tables(page: Page) -> list[list[list[str]]]:
    """Each chart's table of values (its rows without the header), in the page's order."""
    tables: list[list[list[str]]] = []
    for row in page.rows:
        if len(row) == 2 and row[1] == "Effectif publié" and row[0].startswith("Cellule"):
            tables.append([])
        elif tables and len(row) == 2:
            tables[-1].append(row)
    return tables


def test_codes_read_as_their_french_labels_in_french_order(
    build: Callable[..., ReleaseFiles], inputs_of: Callable[[str], dict[str, Any]]
) -> None:
    config = source("signalements")
    files = build(inputs_of("signalements"), name="signalements")
    _, page = _parse(files)
    category = config.field("category")
    labels = category.labels_at(0)
    assert labels["eclairage"] == "Éclairage public"  # an accented label, or this proves nothing
    tables = _value_tables(page)
    assert len(tables) == len(config.aggregates)
    shown = {row[0].split(" · ")[0] for table in tables[:2] for row in table}
    assert shown & set(labels.values()), "the category reads as its labels"
    assert not shown & (set(labels) - set(labels.values())), "no code is shown for a label"
    for table in tables:
        firsts = [row[0].split(" · ")[0] for row in table]
        values = [first for first in dict.fromkeys(firsts) if not first.startswith("Total")]
        assert values == sorted(values, key=french_key), values
        totals = [i for i, first in enumerate(firsts) if first.startswith("Total")]
        assert totals == list(range(len(firsts) - len(totals), len(firsts))), "totals come last"
    categories = [first for first in dict.fromkeys(r[0].split(" · ")[0] for r in tables[0])]
    in_code_point_order = sorted(c for c in categories if not c.startswith("Total"))
    assert categories[: len(in_code_point_order)] != in_code_point_order  # « É » before « V »
