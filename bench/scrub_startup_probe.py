"""What a fresh process pays before its first scrubbed text, phase by phase (run by bench_scrub).

It must run in a process of its own, importing nothing heavy before it starts
timing: a scrub task or `civic scrub` starts from a bare interpreter, and any
library already imported would hide its share. Prints one JSON object on
stdout: seconds per phase, and where spaCy's French token regex came from (the
per-virtualenv cache of `french_token_match`, or a compile).

    .venv/bin/python bench/scrub_startup_probe.py --processes 2
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")


def measure(processes: int) -> tuple[dict[str, float], str]:
    """Seconds per phase (they follow each other, so they add up), and the token regex's origin."""
    phases: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[phase] = now - mark
        mark = now

    import spacy  # noqa: F401

    lap("import spaCy")
    # As the scrubber imports it: spaCy's French token regex from the cache, else compiled (~2 s).
    from include.anonymization.pii import spacy_french

    lap("import spaCy French")
    import presidio_analyzer  # noqa: F401

    lap("import Presidio")
    from include.anonymization.pii import Scrubber

    lap("import the scrubber")
    with Scrubber(processes=processes) as scrubber:
        lap("model, recognizers, warm-up")
        scrubber.start_workers()
        lap(f"start {processes} worker(s)")
        scrubber.scrub_texts(["Je m'appelle Inès Roux, tél. 06 12 34 56 78."])
        lap("first text")
    lap("stop the workers")
    return phases, spacy_french.TOKEN_MATCH_ORIGIN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2, help="worker processes to start")
    phases, token_match = measure(parser.parse_args().processes)
    print(json.dumps({"phases": phases, "token_match": token_match}))


if __name__ == "__main__":
    main()
