"""The public log's files and their checks, in memory: what a release publishes of the
ledger, what the checks accept, and the rewrites they catch."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from include.audit.errors import PublicLogError
from include.audit.keys import Ed25519Key, HmacKey, verify_only_connection
from include.audit.merkle import leaf_hash, verify_inclusion
from include.audit.public_log import (
    PreviousCheckpoint,
    ReleaseLog,
    SignedCheckpoint,
    TreeHead,
    Verdict,
    check_release_log,
    note_verifier_key,
    parse_public_key,
    signed_note,
)
from tests.ledger_history import (
    KEY,
    OTHER_KEY,
    forged_previous,
    grow,
    release_log,
    rewritten,
    tree_of,
    truncated,
)

PUBLIC = KEY.public_key()
RUN_A, RUN_B = "scheduled__2026-11-24T03_00_00_00_00", "scheduled__2026-11-25T03_00_00_00_00"


def _manifest(log: ReleaseLog, run_id: str) -> dict[str, Any]:
    """The parts of a manifest the log checks read, as `build_manifest` writes them."""
    return {"run": {"run_id": run_id}, "ledger": {"head": str(log.head), **log.manifest_entry()}}


def _documents(log: ReleaseLog, run_id: str) -> tuple[dict, dict, dict]:
    """The manifest, checkpoint and proofs documents, through JSON as the public reads them."""
    docs = (
        _manifest(log, run_id),
        log.checkpoint_document("consultation", "r"),
        log.proofs_document("consultation", "r"),
    )
    return tuple(json.loads(json.dumps(doc)) for doc in docs)  # type: ignore[return-value]


def _verdicts(findings: list) -> dict[str, Verdict]:
    """The worst verdict per check name."""
    order = [Verdict.NOTE, Verdict.OK, Verdict.UNCHECKED, Verdict.FAILED]
    worst: dict[str, Verdict] = {}
    for finding in findings:
        if order.index(finding.verdict) >= order.index(worst.get(finding.check, Verdict.NOTE)):
            worst[finding.check] = finding.verdict
    return worst


@pytest.fixture
def history() -> tuple[list, ReleaseLog, ReleaseLog]:
    """Release A over 3 runs' entries, then release B two runs later, proving A's extension."""
    ledger = grow(grow(grow([], "earlier-1"), "earlier-2"), RUN_A)
    log_a = release_log(ledger, RUN_A)
    grow(ledger, RUN_A, ["verify_ledger", "publish"])
    grow(grow(ledger, "other-source"), RUN_B)
    log_b = release_log(ledger, RUN_B, PreviousCheckpoint("release-a", log_a.checkpoint))
    return ledger, log_a, log_b


def test_signed_note_matches_the_go_reference_vector() -> None:
    """golang.org/x/mod/sumdb/note (note.go package example): the PeterNeumann key, text and
    signed note. Ed25519 is deterministic, so signing the same text must give the same bytes,
    and the verifier key must be the one the example prints."""
    skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    seed = base64.b64decode(skey.split("+", 4)[4])[1:]  # 0x01 || seed
    private = Ed25519PrivateKey.from_private_bytes(seed)
    key = Ed25519Key("peter", private.public_key(), private)
    text = (
        "If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n"
    )
    note = signed_note(text, key.public_key(), private.sign(text.encode()), name="PeterNeumann")
    assert note == (
        text
        + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqf"
        "qdngotpRZb6KE6RyyBwJnAM=\n"
    )
    assert note_verifier_key(key, "PeterNeumann") == (
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    )


def test_checkpoint_text_is_a_c2sp_body_and_round_trips(history: tuple) -> None:
    _, _, log_b = history
    checkpoint = log_b.checkpoint
    origin, size, root, end = checkpoint.head.text().split("\n")
    assert (origin, int(size), base64.b64decode(root), end) == (
        "civic-audit-ledger/v1", checkpoint.head.size, checkpoint.head.root, ""
    )  # fmt: skip
    assert checkpoint.verified_by(PUBLIC)
    assert not checkpoint.verified_by(OTHER_KEY.public_key())
    data = json.loads(json.dumps(checkpoint.to_json()))
    assert SignedCheckpoint.from_json(data, "x") == checkpoint
    assert data["public_key"]["ed25519"] == KEY.public_b64()
    for field, value in [("tree_size", checkpoint.head.size + 1), ("signed_text", "x\n")]:
        with pytest.raises(ValueError, match=r"signed_text does not match"):
            SignedCheckpoint.from_json({**data, field: value}, "x")


def test_honest_history_checks(history: tuple) -> None:
    ledger, log_a, log_b = history
    findings = check_release_log(*_documents(log_b, RUN_B), [PUBLIC])
    ingest = next(e.seq for e in ledger if e.run_id == RUN_B and e.step == "ingest")
    assert [f.check for f in findings if f.verdict != Verdict.OK] == [
        f"entry {ingest}",
        "previous checkpoint",
    ]
    assert _verdicts(findings) == {
        "previous checkpoint": Verdict.NOTE,  # read from the copy B carries: said weaker
        f"entry {ingest}": Verdict.NOTE,  # ingest's names raw objects: its hash only
        "checkpoint signature": Verdict.OK,
        "ledger head": Verdict.OK,
        "entries": Verdict.OK,
        "checkpoint signature of release release-a": Verdict.OK,
        "consistency": Verdict.OK,
    }
    first = check_release_log(*_documents(log_a, RUN_A), [PUBLIC])
    assert _verdicts(first)["consistency"] == Verdict.NOTE  # nothing before A


def test_published_entries_are_the_runs_and_their_proofs_verify(history: tuple) -> None:
    ledger, _, log_b = history
    proofs = log_b.proofs_document("consultation", "r")
    published = proofs["entries"]
    assert [item["seq"] for item in published] == [e.seq for e in ledger if e.run_id == RUN_B]
    in_full = [item for item in published if "withheld" not in item]
    assert [item["step"] for item in published if "withheld" in item] == ["ingest"]
    assert {item["run_id"] for item in in_full} == {RUN_B}
    root = bytes.fromhex(proofs["root_hash"])
    for item in published:
        leaf = leaf_hash(bytes.fromhex(item["entry_hash"]))
        path = list(map(bytes.fromhex, item["inclusion_proof"]))
        verify_inclusion(item["leaf_index"], proofs["tree_size"], leaf, path, root)


def test_a_step_not_listed_public_is_published_as_its_hash_only() -> None:
    ledger = grow(grow([], "earlier"), RUN_A, ["ingest", "operator_note"])
    log = release_log(ledger, RUN_A)
    manifest, checkpoint, proofs = _documents(log, RUN_A)
    withheld = [item for item in proofs["entries"] if "withheld" in item]
    assert [(item["step"], "payload" in item) for item in withheld] == [
        ("ingest", False),
        ("operator_note", False),
    ]
    findings = check_release_log(manifest, checkpoint, proofs, [PUBLIC])
    assert not [f for f in findings if f.verdict == Verdict.FAILED]
    withheld[-1]["entry_hash"] = "0" * 64
    assert (
        _verdicts(check_release_log(manifest, checkpoint, proofs, [PUBLIC]))[
            f"entry {ledger[-1].seq}"
        ]
        == Verdict.FAILED
    )


def test_a_rewritten_published_entry_fails_its_hash(history: tuple) -> None:
    _, _, log_b = history
    manifest, checkpoint, proofs = _documents(log_b, RUN_B)
    item = proofs["entries"][1]
    item["payload"] = item["payload"].replace("rows_read", "rows_lost")
    findings = check_release_log(manifest, checkpoint, proofs, [PUBLIC])
    failed = [f for f in findings if f.verdict == Verdict.FAILED]
    assert [f.check for f in failed] == [f"entry {item['seq']}"]
    assert "rewritten" in failed[0].detail


def test_an_entry_of_another_run_is_refused(history: tuple) -> None:
    _, _, log_b = history
    manifest, checkpoint, proofs = _documents(log_b, RUN_B)
    manifest["run"]["run_id"] = RUN_A
    failed = [
        f
        for f in check_release_log(manifest, checkpoint, proofs, [PUBLIC])
        if f.verdict == Verdict.FAILED
    ]
    assert len(failed) == len([item for item in proofs["entries"] if "withheld" not in item])
    assert all("not to this release's run" in f.detail for f in failed)


def test_a_forged_signature_and_the_wrong_key_fail(history: tuple) -> None:
    _, _, log_b = history
    manifest, checkpoint, proofs = _documents(log_b, RUN_B)
    assert (
        _verdicts(check_release_log(manifest, checkpoint, proofs, [OTHER_KEY.public_key()]))[
            "checkpoint signature"
        ]
        == Verdict.FAILED
    )
    forged = SignedCheckpoint.sign(log_b.checkpoint.head, OTHER_KEY).to_json()
    checkpoint["checkpoint"] = manifest["ledger"]["checkpoint"] = forged
    assert (
        _verdicts(check_release_log(manifest, checkpoint, proofs, [PUBLIC]))["checkpoint signature"]
        == Verdict.FAILED
    )


def test_a_checkpoint_file_unlike_the_manifests_fails(history: tuple) -> None:
    _, log_a, log_b = history
    manifest, checkpoint, proofs = _documents(log_b, RUN_B)
    checkpoint["checkpoint"] = log_a.checkpoint.to_json()
    verdicts = _verdicts(check_release_log(manifest, checkpoint, proofs, [PUBLIC]))
    assert verdicts["checkpoint"] == Verdict.FAILED


def test_an_edited_inclusion_proof_fails(history: tuple) -> None:
    _, _, log_b = history
    manifest, checkpoint, proofs = _documents(log_b, RUN_B)
    item = proofs["entries"][0]
    proof = item["inclusion_proof"]
    proof[-1] = ("1" if proof[-1][0] != "1" else "2") + proof[-1][1:]
    failed = [
        f
        for f in check_release_log(manifest, checkpoint, proofs, [PUBLIC])
        if f.verdict == Verdict.FAILED
    ]
    assert [(f.check, f.detail.split(":")[0]) for f in failed] == [
        (f"entry {item['seq']}", "inclusion proof")
    ]


def test_a_rewritten_history_cannot_be_published_over_the_previous_checkpoint(
    history: tuple,
) -> None:
    ledger, log_a, _ = history
    previous = PreviousCheckpoint("release-a", log_a.checkpoint)
    changed = rewritten(ledger, 3, {"rows_read": 0})
    with pytest.raises(PublicLogError, match="rewritten or truncated"):
        release_log(changed, RUN_B, previous)
    with pytest.raises(PublicLogError, match="rewritten or truncated"):
        release_log(truncated(ledger, log_a.checkpoint.head.size - 1), RUN_A, previous)


def test_a_forged_copy_of_the_previous_checkpoint_fails_against_the_real_one(
    history: tuple,
) -> None:
    """The key holder rewrites entry 3, re-signs everything and carries a checkpoint of
    'release A' re-made over the new history: every proof in the release is consistent,
    but A's own checkpoint, read from A, exposes it."""
    ledger, log_a, _ = history
    size_a = log_a.checkpoint.head.size
    changed = rewritten(ledger, 3, {"rows_read": 0})
    forged = forged_previous(changed, "release-a", size_a)
    log = release_log(changed, RUN_B, forged)
    documents = _documents(log, RUN_B)
    alone = _verdicts(check_release_log(*documents, [PUBLIC]))  # only the forged copy: fooled
    assert alone["consistency"] == Verdict.OK
    real = (PreviousCheckpoint("release-a", log_a.checkpoint), "release A's own file")
    verdicts = _verdicts(check_release_log(*documents, [PUBLIC], previous=real))
    assert verdicts["previous checkpoint"] == Verdict.FAILED
    assert verdicts["consistency"] == Verdict.FAILED


def test_a_truncated_history_fails_consistency_against_the_previous_checkpoint(
    history: tuple,
) -> None:
    """Entries cut from the end of what A signed, new runs appended: the new tree is
    smaller than A's, or has other leaves at A's places."""
    ledger, log_a, _ = history
    size_a = log_a.checkpoint.head.size
    real = (PreviousCheckpoint("release-a", log_a.checkpoint), "release A's own file")
    for keep, runs in [(size_a - 4, 0), (size_a - 4, 2)]:
        changed = truncated(ledger, keep)
        for number in range(runs):
            grow(changed, f"refill-{number}")
        grow(changed, RUN_B)
        size = min(size_a, len(changed))
        log = release_log(changed, RUN_B, forged_previous(changed, "release-a", size))
        findings = check_release_log(*_documents(log, RUN_B), [PUBLIC], previous=real)
        consistency = [f for f in findings if f.check == "consistency"]
        assert [f.verdict for f in consistency] == [Verdict.FAILED]
        if len(changed) < size_a:
            assert "shrank" in consistency[0].detail


def test_a_release_without_consistency_proof_fails_when_the_previous_has_a_checkpoint(
    history: tuple,
) -> None:
    ledger, log_a, _ = history
    log = release_log(ledger, RUN_B)  # the previous checkpoint left out
    real = (PreviousCheckpoint("release-a", log_a.checkpoint), "release A's own file")
    assert (
        _verdicts(check_release_log(*_documents(log, RUN_B), [PUBLIC], previous=real))[
            "consistency"
        ]
        == Verdict.FAILED
    )


def test_a_rerun_reuses_the_committed_checkpoint_and_refuses_another_root(
    history: tuple,
) -> None:
    ledger, log_a, log_b = history
    previous = PreviousCheckpoint("release-a", log_a.checkpoint)
    rotated = release_log(ledger, RUN_B, previous, key=OTHER_KEY, committed=log_b.checkpoint)
    assert rotated == log_b  # same bytes though the key changed meanwhile
    changed = rewritten(ledger, len(ledger) - 1, {"rows_read": 1})
    with pytest.raises(PublicLogError, match="already published"):
        release_log(changed, RUN_B, None, committed=log_b.checkpoint)


def test_an_hmac_checkpoint_cannot_be_checked_by_the_public() -> None:
    key = HmacKey("h1", b"s" * 32)
    ledger = grow([], RUN_A, key=key)
    log = release_log(ledger, RUN_A, key=key)
    assert log.checkpoint.public_key is None
    verdicts = _verdicts(check_release_log(*_documents(log, RUN_A), []))
    assert verdicts["checkpoint signature"] == Verdict.UNCHECKED
    assert Verdict.FAILED not in verdicts.values()


def test_entries_signed_by_an_unknown_key_are_noted_not_failed(history: tuple) -> None:
    """After a rotation, an entry signed by the older key: its content is still proven."""
    ledger, _, _ = history
    grow(ledger, RUN_B, ["load"], key=Ed25519Key("a0", OTHER_KEY.public, OTHER_KEY.private))
    findings = check_release_log(*_documents(release_log(ledger, RUN_B), RUN_B), [PUBLIC])
    assert _verdicts(findings)[f"entry {ledger[-1].seq}"] == Verdict.NOTE
    assert not [f for f in findings if f.verdict == Verdict.FAILED]


def test_public_keys_are_read_in_every_form_an_auditor_holds() -> None:
    raw = PUBLIC.public_raw()
    pem = PUBLIC.public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    forms = [
        raw.hex(),
        KEY.public_b64(),
        base64.b64encode(raw).decode(),
        pem,
        note_verifier_key(PUBLIC),
        f"# for verifiers\n{verify_only_connection(KEY).to_json()}",
    ]
    for form in forms:
        assert parse_public_key(form).public_raw() == raw, form
    for bad in ["", "abc", "00" * 31, note_verifier_key(PUBLIC)[:-4]]:
        with pytest.raises(ValueError, match="not an Ed25519 public key"):
            parse_public_key(bad)


def test_a_checkpoint_over_a_tree_signs_that_tree() -> None:
    ledger = grow([], RUN_A)
    tree = tree_of(ledger)
    checkpoint = SignedCheckpoint.sign(TreeHead(tree.size, tree.root()), KEY)
    moved = dataclasses.replace(checkpoint, head=TreeHead(tree.size - 1, tree.root(tree.size - 1)))
    assert checkpoint.verified_by(PUBLIC)
    assert not moved.verified_by(PUBLIC)
