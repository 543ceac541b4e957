//! The issuer's ingestion rows: what a health authority's system uploads
//! to the admin API as CSV (the first line is the header) or NDJSON. The
//! input's first line is tried as a CSV header for each kind of import
//! (`csv_header`), and every line as a CSV row under it (`csv_fields`) and
//! as an NDJSON row (`json_fields`), then as a record (`Kind::parse`).
//! None may panic, and a record that parses keeps the model's limits: a
//! valid subject id, keys and reasons within their lengths.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpass_issuer::model::{MAX_KEY_LEN, MAX_REASON_LEN};
use sealpass_issuer::write::ingest::rows::{
    Kind, Record, RowError, csv_fields, csv_header, json_fields, subject_id,
};

const KINDS: [Kind; 3] = [Kind::Enrolments, Kind::StatusUpdates, Kind::Revocations];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let header = text.lines().next().unwrap_or("");
    for kind in KINDS {
        let columns = csv_header(header, kind).ok();
        for line in text.lines() {
            if let Some(columns) = &columns
                && let Ok(fields) = csv_fields(line, columns)
            {
                check(kind, kind.parse(&fields));
            }
            if let Ok(fields) = json_fields(line, kind) {
                check(kind, kind.parse(&fields));
            }
        }
    }
});

fn check(kind: Kind, parsed: Result<Record, RowError>) {
    let Ok(record) = parsed else {
        return;
    };
    let (key, subject) = match (&record, kind) {
        (Record::Enrolment(e), Kind::Enrolments) => (&e.key, &e.subject),
        (Record::Status(s), Kind::StatusUpdates) => (&s.key, &s.subject),
        (Record::Revocation(r), Kind::Revocations) => {
            assert!(r.reason.len() <= MAX_REASON_LEN, "{r:?}");
            (&r.key, &r.subject)
        }
        _ => panic!("a {kind:?} row parsed as {record:?}"),
    };
    assert!(key.len() <= MAX_KEY_LEN, "{record:?}");
    assert!(subject_id(subject).is_ok(), "{record:?}");
}
