"""The tamper-evident audit ledger: every pipeline step appends a hash-chained, signed entry.

An entry records a run id, a DAG id, a step name and a payload (inputs and
outputs with checksums, counts, check results), chained to the previous entry
by SHA-256 and signed with a key held outside the database (connection
`civic_audit_key`). `civic audit verify` (or `verify()` in a DAG task after each
release) recomputes everything and names the first entry that was changed,
removed or forged.

What is protected, and how (details in include/sql/audit.sql):
- detection: any change to a stored entry, removal from the middle, or an
  entry written without the key fails verification at that entry; removal
  from the end is caught with an `Anchor` kept outside the database;
- prevention of accidents: the table refuses UPDATE, DELETE and TRUNCATE
  (trigger + revoked privileges) and belongs to a role the pipeline is not
  (`provision_audit`). A superuser can still rewrite it; they cannot make it verify.
- public detection: every release carries a signed RFC 9162 checkpoint of the
  whole ledger, its run's entries with inclusion proofs and a consistency proof
  from the previous release's checkpoint (`public_log`, over `merkle`), which
  `civic audit verify-release` checks from public files: even the key holder
  cannot rewrite or cut history a release has signed without it showing.

Typical use in a task:

    key = load_key()
    append(dsn, run_id, "scrub", {"inputs": {uri: checksum_stream(body)}, "counts": {...}}, key)
    ...
    verify(dsn, key).raise_if_broken()
"""

from include.audit.canonical import canonical_json
from include.audit.chain import Anchor, Breakage, Problem, VerifyResult, check_chain
from include.audit.checksums import Checksum, checksum_file, checksum_stream
from include.audit.entry import GENESIS_HASH, Entry
from include.audit.errors import (
    AuditError,
    AuditKeyError,
    CanonicalJSONError,
    LedgerBrokenError,
    LedgerError,
)
from include.audit.keys import (
    AUDIT_KEY_CONN_ID,
    AuditKey,
    Ed25519Key,
    HmacKey,
    audit_key_connection,
    generate_secret,
    key_from_connection,
    load_key,
)
from include.audit.ledger import LedgerState, append, ensure_ledger, last_entries, verify
from include.audit.provision import AUDIT_OWNER_ROLE, provision_audit

__all__ = [
    "AUDIT_KEY_CONN_ID",
    "AUDIT_OWNER_ROLE",
    "GENESIS_HASH",
    "Anchor",
    "AuditError",
    "AuditKey",
    "AuditKeyError",
    "Breakage",
    "CanonicalJSONError",
    "Checksum",
    "Ed25519Key",
    "Entry",
    "HmacKey",
    "LedgerBrokenError",
    "LedgerError",
    "LedgerState",
    "Problem",
    "VerifyResult",
    "append",
    "audit_key_connection",
    "canonical_json",
    "check_chain",
    "checksum_file",
    "checksum_stream",
    "ensure_ledger",
    "generate_secret",
    "key_from_connection",
    "last_entries",
    "load_key",
    "provision_audit",
    "verify",
]
