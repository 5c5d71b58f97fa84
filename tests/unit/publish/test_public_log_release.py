"""Releases carrying the public audit log, built by `build_release` and mirrored as the
publish stage does, checked with `civic audit verify-release` from their files alone;
and the tampering a holder of the bucket (or of the ledger key) could try, caught."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from include.audit.public_log import (
    CHECKPOINT_NAME,
    PROOFS_NAME,
    PreviousCheckpoint,
    ReleaseLog,
    SignedCheckpoint,
)
from include.cli.audit import audit_app
from include.publish import ReleaseFiles, load_release, mirror_release
from include.publish.jsonfile import json_bytes
from include.publish.manifest import MANIFEST_NAME
from tests.ledger_history import (
    KEY,
    OTHER_KEY,
    forged_previous,
    grow,
    head_of,
    release_log,
    rewritten,
    truncated,
)
from tests.unit.publish.inputs import RUN_A, RUN_B

Build = Callable[..., ReleaseFiles]
runner = CliRunner()


@dataclass
class History:
    """Releases A then B of one source, mirrored side by side, and the ledger behind them."""

    exports: Path
    ledger: list
    a: Path
    b: Path
    log_a: ReleaseLog
    log_b: ReleaseLog

    def folder(self, files: ReleaseFiles) -> Path:
        return mirror_release(files, self.exports).directory


def verify(*args: str) -> tuple[int, str]:
    result = runner.invoke(audit_app, ["verify-release", *args], catch_exceptions=False)
    return result.exit_code, " ".join(result.output.split())


def _release(
    build: Build, inputs: dict, run: Any, ledger: list, previous: PreviousCheckpoint | None
) -> tuple[ReleaseFiles, ReleaseLog]:
    log = release_log(ledger, run.run_id, previous)
    return build(inputs, run=run, ledger=head_of(ledger), log=log), log


@pytest.fixture
def history(build: Build, consultation_inputs: dict, tmp_path: Path) -> History:
    ledger = grow(grow([], "earlier"), RUN_A.run_id)
    a, log_a = _release(build, consultation_inputs, RUN_A, ledger, None)
    grow(ledger, RUN_A.run_id, ["verify_ledger", "publish"])
    grow(grow(ledger, "other-source"), RUN_B.run_id)
    previous = PreviousCheckpoint(RUN_A.release_id, log_a.checkpoint)
    b, log_b = _release(build, consultation_inputs, RUN_B, ledger, previous)
    exports = tmp_path / "exports"
    folder_a = mirror_release(a, exports).directory
    folder_b = mirror_release(b, exports).directory
    return History(exports, ledger, folder_a, folder_b, log_a, log_b)


def tamper(release: Path, name: str, change: Callable[[dict], None], *, cover: bool = True) -> None:
    """Edit a JSON file of a published release, as whoever can write the bucket could; with
    `cover`, also fix its size and SHA-256 in the manifest (and the manifest's copy of the
    checkpoint), so that only the public log's own checks can tell."""
    path = release / name
    document = json.loads(path.read_text("utf-8"))
    change(document)
    body = json_bytes(document)
    path.write_bytes(body)
    if not cover:
        return
    manifest = json.loads((release / MANIFEST_NAME).read_text("utf-8"))
    for item in manifest["files"]:
        if item["path"] == name:
            item["bytes"], item["sha256"] = len(body), hashlib.sha256(body).hexdigest()
    if name == CHECKPOINT_NAME:
        manifest["ledger"]["checkpoint"] = document["checkpoint"]
    (release / MANIFEST_NAME).write_bytes(json_bytes(manifest))


def test_both_releases_verify_from_their_files(history: History) -> None:
    code, out = verify(str(history.a), "--public-key", KEY.public_b64())
    assert code == 0, out
    assert "no earlier checkpoint" in out
    code, out = verify(
        str(history.exports / "consultation" / "latest"), "--public-key", KEY.public_b64()
    )
    assert code == 0, out
    assert (
        f"extend, unchanged, the {history.log_a.checkpoint.head.size} release {RUN_A.release_id}"
        in out
    )
    assert f"{history.a} {CHECKPOINT_NAME}" in out  # read from A itself, beside B
    assert "verified" in out


def test_without_a_key_the_carried_one_is_used_and_said_weaker(history: History) -> None:
    code, out = verify(str(history.b))
    assert code == 0, out
    assert "the key the release itself carries" in out
    assert "weaker" in out


def test_the_manifest_lists_the_log_files_and_carries_the_checkpoint(history: History) -> None:
    manifest = json.loads((history.b / MANIFEST_NAME).read_text("utf-8"))
    listed = {item["path"] for item in manifest["files"]}
    assert {CHECKPOINT_NAME, PROOFS_NAME} <= listed
    ledger = manifest["ledger"]
    assert ledger["head"] == str(head_of(history.ledger))
    assert SignedCheckpoint.from_json(ledger["checkpoint"], "manifest") == history.log_b.checkpoint
    assert ledger["previous_checkpoint"]["release_id"] == RUN_A.release_id
    assert ledger["files"] == [CHECKPOINT_NAME, PROOFS_NAME]
    load_release(history.b)  # the folder still matches its manifest, file by file


def test_the_readme_tells_a_citizen_how_to_verify(history: History) -> None:
    readme = (history.b / "README.md").read_text("utf-8")
    assert "## Vérifier le journal d'audit" in readme
    assert readme.index("## Vérifier le journal d'audit") < readme.index("## In English")
    assert "civic audit verify-release" in readme
    assert history.log_b.checkpoint.to_json()["public_key"]["sha256"] in readme
    assert f"`{RUN_A.release_id}`" in readme  # the consistency proof's origin
    assert "RFC 9162" in readme
    assert "Audit log:" in readme  # the English summary


def test_a_release_without_the_log_says_nothing_of_it(
    build: Build, consultation_inputs: dict
) -> None:
    files = build(consultation_inputs)
    readme = files.path("README.md").read_text("utf-8")
    assert "verify-release" not in readme
    assert not files.path(CHECKPOINT_NAME).exists()
    code, out = verify(str(files.directory))
    assert code == 2
    assert "carries no signed checkpoint" in out


def test_an_edited_inclusion_proof_is_named(history: History) -> None:
    seq = history.log_b.entries[0][0].seq

    def edit(document: dict) -> None:
        proof = document["entries"][0]["inclusion_proof"]
        proof[0] = ("0" if proof[0][0] != "0" else "1") + proof[0][1:]

    tamper(history.b, PROOFS_NAME, edit)
    code, out = verify(str(history.b), "--public-key", KEY.public_b64())
    assert code == 1, out
    assert f"FAILED entry {seq}: inclusion proof" in out
    assert "TAMPERED" in out


def test_an_edit_the_manifest_does_not_cover_fails_its_checksum(history: History) -> None:
    tamper(history.b, PROOFS_NAME, lambda d: d["entries"].pop(), cover=False)
    code, out = verify(str(history.b), "--public-key", KEY.public_b64())
    assert code == 1, out
    assert f"FAILED {PROOFS_NAME}: {PROOFS_NAME} has" in out


def test_a_rewritten_published_entry_is_named(history: History) -> None:
    entry = history.log_b.entries[2][0]

    def edit(document: dict) -> None:
        item = next(i for i in document["entries"] if i["seq"] == entry.seq)
        item["payload"] = item["payload"].replace('"rows_read":', '"rows_read":1')

    tamper(history.b, PROOFS_NAME, edit)
    code, out = verify(str(history.b), "--public-key", KEY.public_b64())
    assert code == 1, out
    assert f"FAILED entry {entry.seq}: its published content hashes to" in out


def test_a_forged_checkpoint_signature_fails_with_the_platforms_key(history: History) -> None:
    """Whoever rewrites the bucket signs the tree head with their own key and carries it."""
    forged = SignedCheckpoint.sign(history.log_b.checkpoint.head, OTHER_KEY).to_json()
    tamper(history.b, CHECKPOINT_NAME, lambda d: d.update(checkpoint=forged))
    code, out = verify(str(history.b), "--public-key", KEY.public_b64())
    assert code == 1, out
    assert "FAILED checkpoint signature: the signature of key 'a1' does not verify" in out
    # With only the carried (forged) key, the entries' own signatures still give it away.
    code, out = verify(str(history.b))
    assert code == 1, out
    assert "its signature does not verify with key 'a1'" in out


def test_a_rewritten_past_entry_is_caught_by_the_previous_release(
    history: History, build: Build, consultation_inputs: dict
) -> None:
    """The key holder rewrites an entry release A covered, re-chains and re-signs the
    ledger, and publishes B' carrying a copy of A's checkpoint re-made over the rewrite.
    B' is consistent with itself; A's own checkpoint, beside it, is not."""
    size_a = history.log_a.checkpoint.head.size
    changed = rewritten(history.ledger, 2, {"rows_read": 0})
    forged = forged_previous(changed, RUN_A.release_id, size_a)
    files, _ = _release(build, consultation_inputs, RUN_B, changed, forged)
    other = history.exports.parent / "elsewhere"
    alone = mirror_release(files, other).directory
    code, out = verify(str(alone), "--public-key", KEY.public_b64())
    assert code == 0, out  # without A, only the forged copy: the weakness the output states
    assert "the copy this release carries (weaker" in out

    code, out = verify(str(alone), "--public-key", KEY.public_b64(), "--previous", str(history.a))
    assert code == 1, out
    assert "FAILED previous checkpoint" in out
    assert "the copy was forged" in out
    extends = f"does not extend the one release {RUN_A.release_id} signed"
    assert f"FAILED consistency: the ledger behind this release {extends}" in out


def test_a_truncated_history_is_caught(
    history: History, build: Build, consultation_inputs: dict
) -> None:
    """A later release whose tree does not extend A's: entries A covered were cut, and it
    carries a copy of 'A's checkpoint' over what is left."""
    size_a = history.log_a.checkpoint.head.size
    changed = grow(truncated(history.ledger, size_a - 3), RUN_B.run_id, ["ingest"])
    forged = forged_previous(changed, RUN_A.release_id, len(changed))
    files, _ = _release(build, consultation_inputs, RUN_B, changed, forged)
    alone = mirror_release(files, history.exports.parent / "elsewhere").directory
    code, out = verify(str(alone), "--public-key", KEY.public_b64(), "--previous", str(history.a))
    assert code == 1, out
    assert f"the tree shrank from {size_a} to {len(changed)} leaves" in out


def test_not_a_release_and_the_wrong_previous_are_exit_2(history: History, tmp_path: Path) -> None:
    code, out = verify(str(tmp_path))
    assert (code, "not a release" in out) == (2, True)
    code, out = verify(
        str(history.b), "--public-key", KEY.public_b64(), "--previous", str(history.b)
    )
    assert code == 2, out
    assert f"proves consistency from release {RUN_A.release_id}: give that one" in out
    code, out = verify(str(history.b), "--public-key", "not-a-key")
    assert code == 2
    assert "not an Ed25519 public key" in out


def test_a_key_file_as_civic_audit_public_key_prints_it(history: History, tmp_path: Path) -> None:
    from include.audit.keys import verify_only_connection
    from include.audit.public_log import fingerprint, note_verifier_key

    printed = [  # the lines `civic audit public-key` prints
        f"# sha256 fingerprint: {fingerprint(KEY)}",
        f"# signed-note verifier key: {note_verifier_key(KEY)}",
        "# AIRFLOW_CONN_CIVIC_AUDIT_KEY for verifiers (key a1):",
        verify_only_connection(KEY).to_json(),
    ]
    key_file = tmp_path / "ledger-key.txt"
    key_file.write_text("\n".join(printed) + "\n", "utf-8")
    code, out = verify(str(history.b), "--public-key", str(key_file))
    assert code == 0, out
    assert "the key the release itself carries" not in out


def test_a_rebuild_of_the_same_run_gives_the_same_bytes(
    history: History, build: Build, consultation_inputs: dict
) -> None:
    """A rerun rebuilds its log from the committed checkpoint: byte-identical manifest."""
    ledger = history.ledger[: history.log_b.head.seq]
    previous = PreviousCheckpoint(RUN_A.release_id, history.log_a.checkpoint)
    again = release_log(
        ledger, RUN_B.run_id, previous, key=OTHER_KEY, committed=history.log_b.checkpoint
    )
    files = build(consultation_inputs, run=RUN_B, ledger=head_of(ledger), log=again)
    assert files.path(MANIFEST_NAME).read_bytes() == (history.b / MANIFEST_NAME).read_bytes()


def test_a_log_not_ending_at_the_recorded_head_is_refused(
    history: History, build: Build, consultation_inputs: dict
) -> None:
    with pytest.raises(ValueError, match="not at the head"):
        build(consultation_inputs, run=RUN_B, ledger=head_of(history.ledger[:3]), log=history.log_b)


def _manual_entry_hash(item: dict) -> bytes:
    """An entry's hash as the README's step 3 says to compute it."""
    header = json.dumps(
        [
            item[k]
            for k in ("prev_hash", "seq", "recorded_at", "run_id", "dag_id", "step", "key_id")
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    message = (
        b"civic-audit-ledger/v1/entry\x00" + header.encode() + b"\x00" + item["payload"].encode()
    )
    return hashlib.sha256(message).digest()


def test_the_readmes_manual_steps_verify_the_release(history: History) -> None:
    """A citizen following the README by hand, with SHA-256, Ed25519 and RFC 9162's
    verification algorithms only (no platform code for the entry hash or the signature)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from include.audit.merkle import verify_consistency, verify_inclusion

    checkpoint = json.loads((history.b / CHECKPOINT_NAME).read_text("utf-8"))["checkpoint"]
    proofs = json.loads((history.b / PROOFS_NAME).read_text("utf-8"))
    raw_key = base64.urlsafe_b64decode(checkpoint["public_key"]["ed25519"] + "=")
    Ed25519PublicKey.from_public_bytes(raw_key).verify(  # step 2: raises if forged
        bytes.fromhex(checkpoint["signature"]["value"]), checkpoint["signed_text"].encode()
    )
    size, root = checkpoint["tree_size"], bytes.fromhex(checkpoint["root_hash"])
    for item in proofs["entries"]:  # step 3
        entry_hash = bytes.fromhex(item["entry_hash"])
        if "withheld" not in item:  # a withheld entry publishes its hash alone
            assert _manual_entry_hash(item) == entry_hash
        leaf = hashlib.sha256(b"\x00" + entry_hash).digest()
        path = [bytes.fromhex(p) for p in item["inclusion_proof"]]
        verify_inclusion(item["leaf_index"], size, leaf, path, root)
    previous = json.loads((history.a / CHECKPOINT_NAME).read_text("utf-8"))["checkpoint"]
    verify_consistency(  # step 4
        previous["tree_size"],
        size,
        bytes.fromhex(previous["root_hash"]),
        root,
        [bytes.fromhex(p) for p in proofs["consistency"]["proof"]],
    )
