//! The state journal: between two whole-document writes, each group of finished
//! operations is one [`Batch`] of small [`Record`]s appended to the journal of that
//! document. Reading a state is reading its document and replaying its journal.
//!
//! A journal belongs to exactly one document: its header names the document's lineage
//! and serial (`base_serial`). Writing a new document (compaction) starts a new journal,
//! so a journal left behind by a crash between the two steps names an older serial and
//! is ignored — the new document already holds it. A batch's last line may be torn by a
//! crash during the append; it was never acknowledged, so it is dropped. Every record is
//! idempotent, so a batch applied twice changes nothing.

use super::crypt::{Crypt, Head};
use super::{OutputState, PendingCreate, ResourceState, State};
use crate::address::Address;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;

pub const JOURNAL_VERSION: u32 = 1;

/// One change to the state.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Record {
    /// The instance now holds this (created, updated, or refreshed).
    Put { resource: ResourceState },
    /// The instance no longer exists.
    Remove { address: Address },
    /// A create is about to be attempted (written before the AWS call).
    PendingAdd { pending: PendingCreate },
    /// A create finished (its result is in a `Put` of the same batch) or failed cleanly.
    PendingRemove { address: Address },
    /// The old object of a create_before_destroy replacement, kept until deleted.
    Depose { resource: ResourceState },
    DeposedRemove {
        address: Address,
        attributes: serde_json::Map<String, Json>,
    },
    Outputs {
        outputs: BTreeMap<String, OutputState>,
    },
}

/// Records that became durable together; `serial` is the state's serial after them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Batch {
    pub serial: u64,
    pub records: Vec<Record>,
}

/// The first line of a journal: which document it continues.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub thingform_journal: u32,
    pub lineage: String,
    pub base_serial: u64,
    /// How the batch lines are sealed (each a JSON string: base64 of nonce, ciphertext
    /// and tag under this head's key); absent: plain JSON lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Head>,
}

impl Header {
    pub fn for_state(state: &State) -> Header {
        Header {
            thingform_journal: JOURNAL_VERSION,
            lineage: state.lineage.clone(),
            base_serial: state.serial,
            encryption: None,
        }
    }

    /// Whether this journal continues `doc` (else it is a leftover of an older document).
    pub fn continues(&self, doc: &State) -> bool {
        self.lineage == doc.lineage && self.base_serial == doc.serial
    }
}

impl State {
    /// Applies a batch and takes its serial.
    pub fn apply_batch(&mut self, b: &Batch) {
        for r in &b.records {
            self.apply_record(r);
        }
        self.serial = self.serial.max(b.serial);
    }
}

/// Replays a local journal file (JSON lines: the header, then one batch per line) onto
/// `doc`. Returns how many batches were applied. A torn last line is dropped; a bad line
/// anywhere else is an error (the file was damaged, not cut short by a crash).
pub fn replay_lines(doc: &mut State, text: &str, origin: &str) -> anyhow::Result<usize> {
    replay_lines_with(doc, text, origin, None)
}

/// The header of a local journal, if its first line is complete (to unlock its key).
pub fn header_of(text: &str) -> Option<Header> {
    let first = text.split_inclusive('\n').next()?;
    if !first.ends_with('\n') {
        return None;
    }
    serde_json::from_str(first.trim_end()).ok()
}

/// One batch line: plain JSON, or (under an encrypted header) a sealed JSON string.
fn decode_line(
    header: &Header,
    line: &str,
    crypt: Option<&Crypt>,
    origin: &str,
) -> anyhow::Result<Batch> {
    match (&header.encryption, crypt) {
        (Some(head), Some(c)) => {
            let sealed: String = serde_json::from_str(line)?;
            let plain = c.open_line(head, &sealed, origin)?;
            Ok(serde_json::from_slice(&plain)?)
        }
        (None, _) => Ok(serde_json::from_str(line)?),
        (Some(_), None) => unreachable!("checked by replay_lines_with"),
    }
}

/// [`replay_lines`] for a journal that may be encrypted: an encrypted journal needs the
/// stack's state encryption (its key unlocked with [`Crypt::unlock`] first), and a plain
/// one where encryption is configured is read only during a migration.
pub fn replay_lines_with(
    doc: &mut State,
    text: &str,
    origin: &str,
    crypt: Option<&Crypt>,
) -> anyhow::Result<usize> {
    let mut lines = text.split_inclusive('\n');
    let Some(first) = lines.next() else {
        return Ok(0);
    };
    let header: Header = match serde_json::from_str(first.trim_end()) {
        Ok(h) => h,
        // A crash while the header itself was written: nothing was journaled yet.
        Err(_) if !first.ends_with('\n') => return Ok(0),
        Err(e) => anyhow::bail!(
            "state journal {origin} has a damaged header ({e}); it was left untouched"
        ),
    };
    if header.thingform_journal > JOURNAL_VERSION {
        anyhow::bail!(
            "state journal {origin} has format version {} but this thingform understands up to {JOURNAL_VERSION}; upgrade thingform",
            header.thingform_journal
        );
    }
    if !header.continues(doc) {
        return Ok(0);
    }
    match (&header.encryption, crypt) {
        (Some(h), None) => {
            return Err(super::crypt::not_configured(origin, Some(h), "state"));
        }
        (None, Some(c)) => c.check_plain(origin)?,
        _ => {}
    }
    let mut applied = 0;
    let rest: Vec<&str> = lines.collect();
    for (i, line) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        if line.trim().is_empty() {
            continue;
        }
        match decode_line(&header, line.trim_end(), crypt, origin) {
            Ok(b) => {
                doc.apply_batch(&b);
                applied += 1;
            }
            Err(_) if last && !line.ends_with('\n') => break,
            Err(e) => anyhow::bail!(
                "state journal {origin} is damaged at line {} ({e}); it was left untouched. The document without it is at the same path without `.journal`",
                i + 2
            ),
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ResourceState;

    fn rs(addr: &str) -> ResourceState {
        let mut attrs = serde_json::Map::new();
        attrs.insert("id".into(), addr.into());
        ResourceState::managed(addr.parse().unwrap(), attrs)
    }

    fn journal(doc: &State, batches: &[Batch]) -> String {
        let mut s = serde_json::to_string(&Header::for_state(doc)).unwrap();
        s.push('\n');
        for b in batches {
            s.push_str(&serde_json::to_string(b).unwrap());
            s.push('\n');
        }
        s
    }

    #[test]
    fn replay_applies_batches_and_takes_the_serial() {
        let mut doc = State::new();
        doc.serial = 4;
        let batches = vec![
            Batch {
                serial: 5,
                records: vec![Record::Put {
                    resource: rs("aws_iot_thing.a[0]"),
                }],
            },
            Batch {
                serial: 6,
                records: vec![
                    Record::Put {
                        resource: rs("aws_iot_thing.a[1]"),
                    },
                    Record::Remove {
                        address: "aws_iot_thing.a[0]".parse().unwrap(),
                    },
                ],
            },
        ];
        let text = journal(&doc, &batches);
        assert_eq!(replay_lines(&mut doc, &text, "j").unwrap(), 2);
        assert_eq!(doc.serial, 6);
        let addrs: Vec<String> = doc.iter().map(|r| r.address.to_string()).collect();
        assert_eq!(addrs, vec!["aws_iot_thing.a[1]"]);
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_a_damaged_middle_is_an_error() {
        let mut doc = State::new();
        let b = Batch {
            serial: 1,
            records: vec![Record::Put {
                resource: rs("aws_iot_thing.a"),
            }],
        };
        let full = journal(&doc, &[b.clone(), b.clone()]);
        let torn = &full[..full.len() - 10];
        let mut d1 = doc.clone();
        assert_eq!(replay_lines(&mut d1, torn, "j").unwrap(), 1);
        assert!(d1.get(&"aws_iot_thing.a".parse().unwrap()).is_some());

        let mut lines: Vec<&str> = full.lines().collect();
        lines[1] = "{\"serial\": 1, \"records\": [";
        let damaged = lines.join("\n") + "\n";
        let err = replay_lines(&mut doc, &damaged, "j")
            .unwrap_err()
            .to_string();
        assert!(err.contains("damaged at line 2"), "{err}");
    }

    #[test]
    fn a_journal_of_an_older_document_is_ignored() {
        let mut doc = State::new();
        doc.serial = 3;
        let b = Batch {
            serial: 3,
            records: vec![Record::Put {
                resource: rs("aws_iot_thing.a"),
            }],
        };
        let text = journal(&doc, &[b]);
        // The document was compacted to serial 9 after the journal was written.
        doc.serial = 9;
        assert_eq!(replay_lines(&mut doc, &text, "j").unwrap(), 0);
        assert!(doc.resources.is_empty());
    }

    #[test]
    fn records_are_idempotent() {
        let mut s = State::new();
        let pending = PendingCreate {
            provider: None,
            address: "aws_iot_thing.a".parse().unwrap(),
            rtype: "aws_iot_thing".into(),
            planned: Default::default(),
            started_at: "now".into(),
        };
        let records = [
            Record::PendingAdd {
                pending: pending.clone(),
            },
            Record::Depose {
                resource: rs("aws_iot_thing.b"),
            },
            Record::Put {
                resource: rs("aws_iot_thing.a"),
            },
        ];
        for r in records.iter().chain(records.iter()) {
            s.apply_record(r);
        }
        assert_eq!(s.pending.len(), 1);
        assert_eq!(s.deposed.len(), 1);
        assert_eq!(s.resources.len(), 1);
    }

    #[test]
    fn version_1_dependencies_collapse_to_resources() {
        let text = r#"{"version":1,"thingform_version":"0.1.0","serial":2,"lineage":"l",
          "resources":[{"address":"aws_iot_policy_attachment.a[0]","mode":"managed","type":"aws_iot_policy_attachment","name":"a","index_key":0,"attributes":{},
          "dependencies":["aws_iot_certificate.c[0]","aws_iot_certificate.c[1]","aws_iot_policy.p"]}]}"#;
        let s = State::parse(text, "t").unwrap();
        assert_eq!(s.version, crate::state::FORMAT_VERSION);
        let r = s.iter().next().unwrap();
        assert_eq!(
            r.dependencies,
            vec!["aws_iot_certificate.c", "aws_iot_policy.p"]
        );
    }
}
