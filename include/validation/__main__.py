"""`python -m include.validation write|check`: generate the suites under expectations/."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from include.source_config import SOURCES_DIR, load_all_sources
from include.validation.suite_files import EXPECTATIONS_DIR, stale_files, write_files
from include.validation.suites import GENERATED_BY


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m include.validation",
        description="Generate the expectation suites under expectations/ from sources/*.yaml.",
    )
    parser.add_argument("action", choices=["write", "check"])
    parser.add_argument("--sources", type=Path, default=SOURCES_DIR)
    parser.add_argument("--out", type=Path, default=EXPECTATIONS_DIR)
    args = parser.parse_args(argv)
    configs = list(load_all_sources(args.sources).values())
    if args.action == "write":
        changed = write_files(configs, args.out)
        lines = [f"{action} {path}" for path, action in sorted(changed.items())]
        print("\n".join(lines) or "expectations are up to date")
        return 0
    stale = stale_files(configs, args.out)
    if stale:
        print(
            f"stale expectation files (run `{GENERATED_BY}`): " + ", ".join(stale),
            file=sys.stderr,
        )
        return 1
    print("expectations are up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
