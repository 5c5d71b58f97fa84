"""`python -m include.superset write|check`: generate superset/assets/ from sources/*.yaml."""

from __future__ import annotations

from include.generated_files import Generator
from include.superset.assets import ASSETS_DIR, stale_assets, write_assets

GENERATOR = Generator(
    "python -m include.superset", "Superset assets", ASSETS_DIR, write_assets, stale_assets
)

if __name__ == "__main__":
    raise SystemExit(GENERATOR.main())
