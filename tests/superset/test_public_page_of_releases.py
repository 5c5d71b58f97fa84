"""The public page of the releases the pipeline itself published, opened as a citizen would.

`tests/integration/test_public_page_browser.py` checks pages built from seeded release
inputs; this one opens the pages of the releases the demo's pipeline really writes:
each source's DAG run through Airflow on its sample data (the `released_sources`
fixture, shared with the dashboards' tests), published to the platform's own public
bucket. The bucket is readable by anyone as the platform set it up (no policy added
here, no credentials on the request), so the page is checked from where citizens get
it, with the same checks: charts and their hidden cells, links to the manifest's
bytes, and axe-core's WCAG 2 A/AA rules in Chromium.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from include.core.settings import Settings
from include.core.source_config import load_all_sources
from include.publish.public_page import PAGE_NAME
from include.publish.s3_release import release_prefix
from tests.integration.test_public_page_browser import assert_public_page, axe_script, page
from tests.superset.data_fixtures import ReleasedSource
from tests.superset.test_dashboards_browser import chromium_path

pytestmark = [pytest.mark.integration, pytest.mark.slow]

__all__ = ["axe_script", "chromium_path", "page"]  # fixtures shared with the page's other test


@pytest.mark.parametrize("name", ["consultation", "signalements"])
def test_the_pipelines_release_page_renders_from_the_public_bucket(
    name: str,
    released_sources: dict[str, ReleasedSource],
    s3_client: Any,
    settings: Settings,
    page: Page,
    axe_script: Path,
) -> None:
    release = released_sources[name]
    key = release_prefix(name, release.release_id) + PAGE_NAME
    url = f"{s3_client.meta.endpoint_url}/{settings.public_bucket}/{key}"
    assert_public_page(page, url, load_all_sources()[name], axe_script)
