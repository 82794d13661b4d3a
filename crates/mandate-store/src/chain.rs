//! The audit hash chain: how a record's hash is computed, and how a log is verified.

use sha2::{Digest, Sha256};

use crate::{AuditRecord, Checkpoint};

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of a record: SHA-256 over every stored column, chained to the previous hash.
pub fn record_hash(
    prev_hash: &str,
    seq: i64,
    kind: &str,
    task_id: Option<&str>,
    time_ms: i64,
    body: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(b"mandate-audit-v1\n");
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(kind.as_bytes());
    h.update(b"\n");
    h.update(task_id.unwrap_or("").as_bytes());
    h.update(b"\n");
    h.update(time_ms.to_string().as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    hex(&h.finalize())
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl AuditRecord {
    /// The hash this record's content implies.
    pub fn computed_hash(&self) -> String {
        record_hash(
            &self.prev_hash,
            self.seq,
            &self.kind,
            self.task_id.as_deref(),
            self.time_ms,
            &self.body,
        )
    }
}

impl Checkpoint {
    /// The bytes the broker signs for a checkpoint (a C2SP-style note body).
    pub fn signed_message(&self) -> Vec<u8> {
        format!(
            "mandate-audit-checkpoint\n{}\n{}\n{}\n",
            self.seq, self.hash, self.time_ms
        )
        .into_bytes()
    }
}

/// What verification found wrong, naming the first bad record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ChainBroken {
    /// The sequence number of the first bad record (or checkpoint), when there is one.
    pub seq: Option<i64>,
    /// What is wrong, in words.
    pub message: String,
}

/// A summary of a log that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Records checked.
    pub records: i64,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// The last record's hash.
    pub head: String,
}

/// Checks records one page at a time, in order.
#[derive(Debug)]
pub struct ChainVerifier {
    expected: i64,
    prev: String,
    hashes_at: std::collections::HashMap<i64, String>,
    wanted: std::collections::HashSet<i64>,
}

impl ChainVerifier {
    /// Starts verification; `checkpoint_seqs` are the records whose hashes checkpoints
    /// will be compared with.
    pub fn new(checkpoint_seqs: impl IntoIterator<Item = i64>) -> Self {
        Self {
            expected: 1,
            prev: GENESIS.to_owned(),
            hashes_at: Default::default(),
            wanted: checkpoint_seqs.into_iter().collect(),
        }
    }

    /// Checks the next records.
    pub fn feed(&mut self, records: &[AuditRecord]) -> Result<(), ChainBroken> {
        for r in records {
            if r.seq != self.expected {
                let message = if r.seq > self.expected {
                    format!(
                        "record {} is missing (the next record is {}): records were deleted",
                        self.expected, r.seq
                    )
                } else {
                    format!(
                        "record {} appears out of order after record {}",
                        r.seq,
                        self.expected - 1
                    )
                };
                return Err(ChainBroken {
                    seq: Some(self.expected),
                    message,
                });
            }
            if r.prev_hash != self.prev {
                return Err(ChainBroken {
                    seq: Some(r.seq),
                    message: format!(
                        "record {}: its prev_hash does not match record {}: records were reordered, replaced or edited",
                        r.seq,
                        r.seq - 1
                    ),
                });
            }
            if r.computed_hash() != r.hash {
                return Err(ChainBroken {
                    seq: Some(r.seq),
                    message: format!(
                        "record {}: its content does not match its hash: the record was edited",
                        r.seq
                    ),
                });
            }
            if self.wanted.contains(&r.seq) {
                self.hashes_at.insert(r.seq, r.hash.clone());
            }
            self.prev = r.hash.clone();
            self.expected += 1;
        }
        Ok(())
    }

    /// Finishes: checks checkpoints against the records seen and their signatures.
    pub fn finish(
        self,
        checkpoints: &[Checkpoint],
        verify_signature: &dyn Fn(&Checkpoint) -> bool,
    ) -> Result<ChainReport, ChainBroken> {
        let last = self.expected - 1;
        for c in checkpoints {
            if !verify_signature(c) {
                return Err(ChainBroken {
                    seq: Some(c.seq),
                    message: format!(
                        "checkpoint at record {}: the signature does not verify with the broker's key",
                        c.seq
                    ),
                });
            }
            if c.seq > last {
                return Err(ChainBroken {
                    seq: Some(last + 1),
                    message: format!(
                        "the log was truncated: a signed checkpoint covers record {} but the log ends at record {last}",
                        c.seq
                    ),
                });
            }
            match self.hashes_at.get(&c.seq) {
                Some(h) if *h == c.hash => {}
                _ => {
                    return Err(ChainBroken {
                        seq: Some(c.seq),
                        message: format!(
                            "record {}: it does not match the signed checkpoint taken at it",
                            c.seq
                        ),
                    });
                }
            }
        }
        Ok(ChainReport {
            records: last,
            checkpoints: checkpoints.len(),
            head: self.prev,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let body = format!("{{\"n\":{seq}}}");
                let hash = record_hash(&prev, seq, "decision", Some("task_a"), seq, &body);
                let r = AuditRecord {
                    seq,
                    kind: "decision".into(),
                    task_id: Some("task_a".into()),
                    time_ms: seq,
                    body,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                r
            })
            .collect()
    }

    fn check(records: &[AuditRecord], cps: &[Checkpoint]) -> Result<ChainReport, ChainBroken> {
        let mut v = ChainVerifier::new(cps.iter().map(|c| c.seq));
        v.feed(records)?;
        v.finish(cps, &|c| c.signature == "ok")
    }

    fn cp(r: &AuditRecord) -> Checkpoint {
        Checkpoint {
            seq: r.seq,
            hash: r.hash.clone(),
            time_ms: 0,
            kid: "k".into(),
            signature: "ok".into(),
        }
    }

    #[test]
    fn untouched_log_verifies() {
        let l = log(5);
        let r = check(&l, &[cp(&l[2])]).unwrap();
        assert_eq!(r.records, 5);
        assert_eq!(r.head, l[4].hash);
    }

    #[test]
    fn edits_deletions_reorders_and_truncation_name_the_record() {
        let l = log(6);
        let mut edited = l.clone();
        edited[2].body = "{\"n\":99}".into();
        assert_eq!(check(&edited, &[]).unwrap_err().seq, Some(3));

        let mut deleted = l.clone();
        deleted.remove(3);
        assert_eq!(check(&deleted, &[]).unwrap_err().seq, Some(4));

        let mut swapped = l.clone();
        swapped.swap(1, 2);
        let (a, b) = (swapped[1].seq, swapped[2].seq);
        swapped[1].seq = b;
        swapped[2].seq = a;
        assert_eq!(check(&swapped, &[]).unwrap_err().seq, Some(2));

        let e = check(&l[..3], &[cp(&l[4])]).unwrap_err();
        assert_eq!(e.seq, Some(4));
        assert!(e.message.contains("truncated"));

        // A consistent rewrite of the tail is caught by the checkpoint covering it.
        let mut rewritten = l.clone();
        rewritten[5].body = "{\"n\":0}".into();
        rewritten[5].hash = rewritten[5].computed_hash();
        assert_eq!(check(&rewritten, &[cp(&l[5])]).unwrap_err().seq, Some(6));

        let mut bad_sig = cp(&l[1]);
        bad_sig.signature = "forged".into();
        assert!(
            check(&l, &[bad_sig])
                .unwrap_err()
                .message
                .contains("signature")
        );
    }
}
