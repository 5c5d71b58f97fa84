"""The public release page as a citizen opens it: from the public bucket, in Chromium.

A release of each source is built from seeded inputs, published to the test session's
S3 server and made readable by anyone (a public-read bucket policy on a scratch bucket,
as `test_publish_s3` does). Debian's Chromium, driven by Playwright as the dashboards'
browser test drives it, opens `index.html` from the bucket's HTTP URL; the test checks
that the page asks for nothing but itself, that every chart is drawn with its title,
that every link resolves to the bytes the manifest lists, and runs axe-core (pinned in
tests/a11y/package-lock.json, installed by `make a11y`) in the page with the WCAG 2 A
and AA rules: no violation is accepted.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from include.core.settings import Settings
from include.core.source_config import SourceConfig
from include.core.zones import sse_arguments
from include.publish import ReleaseFiles, build_release, publish_release
from include.publish.public_page import PAGE_NAME, SECRET
from include.publish.s3_release import release_prefix
from tests.superset.test_dashboards_browser import chromium_context, chromium_path
from tests.unit.publish.inputs import RUN_A, release_inputs, source

pytestmark = [pytest.mark.integration, pytest.mark.slow]

__all__ = ["chromium_path"]  # the fixture, shared with the dashboards' browser test

AXE = Path(__file__).resolve().parent.parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def axe_script() -> Path:
    """axe-core from tests/a11y; missing, the test fails (never skips) and says how to get it."""
    if not AXE.is_file():
        pytest.fail(
            f"axe-core is not installed ({AXE} is missing): run `make a11y`.", pytrace=False
        )
    return AXE


@pytest.fixture(scope="module")
def page(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with chromium_context(chromium_path, tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context.new_page()


def _get(url: str) -> tuple[int, str, bytes]:
    """An anonymous HTTP GET, as a citizen's browser or curl sends it."""
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback)
        return response.status, response.headers.get("Content-Type", ""), response.read()


def _published(s3_client: Any, bucket: str, settings: Settings, name: str, tmp: Path) -> str:
    """Build and publish a release of `name`, make the bucket public; the page's URL."""
    files: ReleaseFiles = build_release(source(name), RUN_A, tmp, **release_inputs(name))
    publish_release(s3_client, bucket, files, sse_arguments(settings))
    anyone_reads = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{bucket}/*"}],
    }  # fmt: skip
    s3_client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(anyone_reads))
    prefix = release_prefix(files.source, files.release_id)
    return f"{s3_client.meta.endpoint_url}/{bucket}/{prefix}{PAGE_NAME}"


def _violations(result: dict[str, Any]) -> str:
    return "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in result["violations"]
    )


def assert_public_page(page: Page, url: str, config: SourceConfig, axe_script: Path) -> int:
    """Open the release page at `url` as a citizen would and check it whole: French, asks
    for nothing but itself, one titled and described chart per aggregate with a bar or
    band per cell and « secret statistique » for each hidden cell, links that resolve to
    the manifest's bytes, and no WCAG 2 A/AA violation by axe-core. Returns how many
    cells the page shows hidden."""
    base = url.rsplit("/", 1)[0] + "/"
    status, content_type, _ = _get(url)
    assert status == 200
    assert content_type.startswith("text/html"), content_type

    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(url, wait_until="load")
    assert response is not None
    assert response.status == 200
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert requested == [url], f"the page loaded other resources: {requested[1:]}"

    # Every aggregate drawn, in the config's order, with its title, one bar per cell.
    manifest = json.loads(_get(base + "manifest.json")[2])
    aggregates = [t for t in manifest["tables"] if t["kind"] == "aggregate"]
    cells = {t["title"]: t["rows"] for t in aggregates}
    titles = [aggregate.title for aggregate in config.aggregates]
    charts = page.locator("svg[role=img]")
    assert charts.count() == len(titles)
    for index, title in enumerate(titles):
        chart = charts.nth(index)
        assert chart.locator("title").first.text_content() == title
        assert chart.locator("desc").first.text_content()
        box = chart.bounding_box()
        assert box is not None
        assert box["width"] > 200, box
        assert box["height"] > 50, box
        assert chart.locator("path").count() >= cells[title]  # a bar or band per cell
    labelled = page.evaluate(
        """() => [...document.querySelectorAll('svg[role=img]')].map(svg =>
             svg.getAttribute('aria-labelledby').split(' ').every(id =>
               document.getElementById(id) && svg.contains(document.getElementById(id))))"""
    )
    assert all(labelled)
    hidden = sum(int(t["cells_suppressed"]) for t in aggregates)
    assert page.locator("svg[role=img] text", has_text=SECRET).count() == hidden

    # Every link resolves from the bucket to the bytes the manifest lists; none leaves it.
    listed = {item["path"]: item for item in manifest["files"]}
    hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    assert hrefs
    for href in sorted(set(hrefs)):
        assert href.startswith(base), f"{href} leaves the release"
        status, _, body = _get(href)
        assert status == 200, href
        path = href[len(base) :]
        if path in listed:
            assert hashlib.sha256(body).hexdigest() == listed[path]["sha256"], path
    linked = {href[len(base) :] for href in hrefs}
    assert set(listed) - {PAGE_NAME} <= linked, "a file of the manifest has no link"

    page.add_script_tag(path=str(axe_script))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_TAGS,
    )
    assert result["testEngine"]["version"] == "4.14.1"
    ran = {rule["id"] for key in ("passes", "violations", "incomplete") for rule in result[key]}
    assert {"color-contrast", "html-has-lang", "svg-img-alt"} <= ran, sorted(ran)
    assert not result["violations"], "axe-core (WCAG 2 A/AA):\n" + _violations(result)
    return hidden


@pytest.mark.parametrize("name", ["consultation", "signalements"])
def test_public_page_renders_from_the_bucket_with_charts_links_and_no_a11y_violation(
    name: str,
    s3_client: Any,
    raw_bucket: str,
    settings: Settings,
    page: Page,
    axe_script: Path,
    tmp_path: Path,
) -> None:
    url = _published(s3_client, raw_bucket, settings, name, tmp_path)
    hidden = assert_public_page(page, url, source(name), axe_script)
    if name == "signalements":  # its seeded aggregates hide cells (checked in the unit tests)
        assert hidden > 0
