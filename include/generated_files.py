"""The `write|check` command shared by the files the platform generates from sources/*.yaml.

Expectation suites (`python -m include.validation`) and Superset's assets
(`python -m include.superset`) are both committed, generated from the source
configs, and must be regenerated when a config changes: one command shape for
both, so that `check` means the same thing (exit 1 and the stale files) in CI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from include.core.source_config import SOURCES_DIR, SourceConfig, load_all_sources


@dataclass(frozen=True)
class Generator:
    prog: str  # e.g. "python -m include.superset"
    what: str  # e.g. "Superset assets", for messages
    default_out: Path
    write: Callable[[list[SourceConfig], Path], Mapping[str, str]]  # path → action
    stale: Callable[[list[SourceConfig], Path], Sequence[str]]

    def main(self, argv: Sequence[str] | None = None) -> int:
        parser = argparse.ArgumentParser(
            prog=self.prog,
            description=f"Generate the {self.what} under {self.default_out} from sources/*.yaml.",
        )
        parser.add_argument("action", choices=["write", "check"])
        parser.add_argument("--sources", type=Path, default=SOURCES_DIR)
        parser.add_argument("--out", type=Path, default=self.default_out)
        args = parser.parse_args(argv)
        configs = list(load_all_sources(args.sources).values())
        if args.action == "write":
            changed = self.write(configs, args.out)
            lines = [f"{action} {path}" for path, action in sorted(changed.items())]
            print("\n".join(lines) or f"{self.what} are up to date")
            return 0
        stale = self.stale(configs, args.out)
        if stale:
            print(
                f"stale {self.what} (run `{self.prog} write`): " + ", ".join(stale),
                file=sys.stderr,
            )
            return 1
        print(f"{self.what} are up to date")
        return 0
