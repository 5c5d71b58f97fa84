"""`python -m include.superset write|check`: generate superset/assets/ from sources/*.yaml."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from include.source_config import SOURCES_DIR, load_all_sources
from include.superset.assets import ASSETS_DIR, GENERATED_BY, stale_assets, write_assets


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m include.superset",
        description="Generate Superset's assets (superset/assets/) from sources/*.yaml.",
    )
    parser.add_argument("action", choices=["write", "check"])
    parser.add_argument("--sources", type=Path, default=SOURCES_DIR)
    parser.add_argument("--out", type=Path, default=ASSETS_DIR)
    args = parser.parse_args(argv)
    configs = list(load_all_sources(args.sources).values())
    if args.action == "write":
        changed = write_assets(configs, args.out)
        lines = [f"{action} {path}" for path, action in sorted(changed.items())]
        print("\n".join(lines) or "Superset assets are up to date")
        return 0
    stale = stale_assets(configs, args.out)
    if stale:
        print(f"stale Superset assets (run `{GENERATED_BY}`): " + ", ".join(stale), file=sys.stderr)
        return 1
    print("Superset assets are up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
