"""`python -m include.validation write|check`: generate the suites under expectations/."""

from __future__ import annotations

from include.generated_files import Generator
from include.validation.suite_files import EXPECTATIONS_DIR, stale_files, write_files

GENERATOR = Generator(
    "python -m include.validation", "expectation suites", EXPECTATIONS_DIR, write_files, stale_files
)

if __name__ == "__main__":
    raise SystemExit(GENERATOR.main())
