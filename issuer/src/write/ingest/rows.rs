//! Rows of an import, in CSV (RFC 4180, with a header line) or NDJSON (one
//! JSON object per line), turned into enrolments, status updates or
//! revocations. Every refusal names the field and what would be accepted.

use crate::id_number;
use crate::model::{
    Enrolment, Health, MAX_KEY_LEN, MAX_REASON_LEN, MAX_SUBJECT_LEN, Revocation, StatusUpdate,
};
use sealpass_core::{
    Colour, Date, TestRecord, TestResult, Timestamp, Vaccination, mask_id, mask_name,
};

/// Input formats of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A header line naming the columns, then one record per line. Quoted
    /// fields may hold commas and doubled quotes, not line breaks.
    Csv,
    /// One JSON object per line (values are strings or numbers).
    Ndjson,
}

/// What an import carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Enrolments,
    StatusUpdates,
    Revocations,
}

impl Kind {
    /// Every field a row of this kind may have.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Enrolments => &[
                "key",
                "subject",
                "name",
                "id_number",
                "colour",
                "doses",
                "last_dose",
                "test_time",
                "test_result",
            ],
            Kind::StatusUpdates => &[
                "key",
                "subject",
                "colour",
                "doses",
                "last_dose",
                "test_time",
                "test_result",
            ],
            Kind::Revocations => &["key", "subject", "reason"],
        }
    }

    /// Fields every row must have (so a CSV header must name them).
    pub fn required(self) -> &'static [&'static str] {
        match self {
            Kind::Enrolments => &["subject", "name", "id_number", "colour"],
            Kind::StatusUpdates => &["key", "subject"],
            Kind::Revocations => &["key", "subject"],
        }
    }
}

/// One parsed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Enrolment(Enrolment),
    Status(StatusUpdate),
    Revocation(Revocation),
}

/// Why one row was refused: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub code: &'static str,
    pub reason: String,
}

impl RowError {
    pub fn new(code: &'static str, reason: impl Into<String>) -> RowError {
        RowError {
            code,
            reason: reason.into(),
        }
    }
}

/// A row's fields by name; empty values count as absent.
pub struct Fields<'a> {
    pairs: Vec<(&'a str, String)>,
}

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn require(&self, name: &'static str) -> Result<&str, RowError> {
        self.get(name)
            .ok_or_else(|| RowError::new("missing_field", format!("{name} is required")))
    }
}

/// The column names of a CSV header, checked against the kind.
pub fn csv_header(line: &str, kind: Kind) -> Result<Vec<&'static str>, String> {
    let names = split_csv(line).map_err(|e| e.reason)?;
    let mut columns = Vec::with_capacity(names.len());
    for name in names {
        let name = name.trim();
        let Some(&known) = kind.fields().iter().find(|f| **f == name) else {
            return Err(format!(
                "unknown column {name:?}; the columns are: {}",
                kind.fields().join(", ")
            ));
        };
        if columns.contains(&known) {
            return Err(format!("column {name:?} appears twice"));
        }
        columns.push(known);
    }
    if let Some(missing) = kind.required().iter().find(|r| !columns.contains(r)) {
        return Err(format!(
            "the header has no {missing:?} column; required: {}",
            kind.required().join(", ")
        ));
    }
    Ok(columns)
}

/// One CSV line's fields, named by the header's columns.
pub fn csv_fields<'a>(line: &str, columns: &[&'a str]) -> Result<Fields<'a>, RowError> {
    let values = split_csv(line)?;
    if values.len() != columns.len() {
        return Err(RowError::new(
            "wrong_field_count",
            format!(
                "{} fields, but the header names {}",
                values.len(),
                columns.len()
            ),
        ));
    }
    Ok(Fields {
        pairs: columns.iter().copied().zip(values).collect(),
    })
}

/// One NDJSON line's fields.
pub fn json_fields(line: &str, kind: Kind) -> Result<Fields<'static>, RowError> {
    let value: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| RowError::new("bad_json", format!("not JSON: {e}")))?;
    let serde_json::Value::Object(object) = value else {
        return Err(RowError::new(
            "bad_json",
            "each line must be one JSON object",
        ));
    };
    let mut pairs = Vec::with_capacity(object.len());
    for (name, value) in object {
        let Some(&known) = kind.fields().iter().find(|f| **f == name) else {
            return Err(RowError::new(
                "unknown_field",
                format!(
                    "unknown field {name:?}; the fields are: {}",
                    kind.fields().join(", ")
                ),
            ));
        };
        let text = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Null => String::new(),
            _ => {
                return Err(RowError::new(
                    "bad_field",
                    format!("{name} must be a string or a number"),
                ));
            }
        };
        pairs.push((known, text));
    }
    Ok(Fields { pairs })
}

/// Split one CSV line (RFC 4180 quoting, no line breaks inside fields).
fn split_csv(line: &str) -> Result<Vec<String>, RowError> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            (false, '"') => {
                return Err(RowError::new("bad_csv", "a quote inside an unquoted field"));
            }
            (false, c) if was_quoted && !c.is_whitespace() => {
                return Err(RowError::new("bad_csv", "text after a closing quote"));
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(RowError::new("bad_csv", "a quoted field is not closed"));
    }
    fields.push(field);
    Ok(fields)
}

impl Kind {
    /// The record of one row. Every field is first checked for invisible
    /// characters (`checks::plain_text`), whatever it is.
    pub fn parse(self, fields: &Fields) -> Result<Record, RowError> {
        for (name, value) in &fields.pairs {
            super::checks::plain_text(name, value)?;
        }
        match self {
            Kind::Enrolments => enrolment(fields).map(Record::Enrolment),
            Kind::StatusUpdates => status_update(fields).map(Record::Status),
            Kind::Revocations => revocation(fields).map(Record::Revocation),
        }
    }
}

fn enrolment(f: &Fields) -> Result<Enrolment, RowError> {
    let subject = subject(f)?;
    let name = f.require("name")?;
    if name.chars().count() > 32 || name.contains('*') || name.chars().any(char::is_control) {
        return Err(RowError::new(
            "bad_name",
            "name must be the full name, at most 32 characters",
        ));
    }
    let id = f.require("id_number")?;
    id_number::validate(id).map_err(|e| RowError::new("bad_id_number", e.reason()))?;
    let key = match f.get("key") {
        Some(_) => key(f)?,
        None => format!("enrol:{subject}"),
    };
    let health = Health {
        colour: colour(f.require("colour")?)?,
        vaccination: Vaccination {
            doses: f.get("doses").map(doses).transpose()?.unwrap_or(0),
            last_dose: f.get("last_dose").map(date).transpose()?,
        },
        last_test: test(f)?,
    };
    Ok(Enrolment {
        key,
        masked_name: mask_name(name),
        masked_id: mask_id(&id.to_ascii_uppercase()),
        subject,
        health,
    })
}

fn status_update(f: &Fields) -> Result<StatusUpdate, RowError> {
    let update = StatusUpdate {
        key: key(f)?,
        subject: subject(f)?,
        colour: f.get("colour").map(colour).transpose()?,
        doses: f.get("doses").map(doses).transpose()?,
        last_dose: f.get("last_dose").map(date).transpose()?,
        test: test(f)?,
    };
    if update.colour.is_none()
        && update.doses.is_none()
        && update.last_dose.is_none()
        && update.test.is_none()
    {
        return Err(RowError::new(
            "no_change",
            "a status update needs colour, doses, last_dose or test_time with test_result",
        ));
    }
    Ok(update)
}

fn revocation(f: &Fields) -> Result<Revocation, RowError> {
    let reason = f.get("reason").unwrap_or("revoked");
    if reason.len() > MAX_REASON_LEN || reason.chars().any(char::is_control) {
        return Err(RowError::new(
            "bad_reason",
            format!("reason must be text of at most {MAX_REASON_LEN} bytes"),
        ));
    }
    Ok(Revocation {
        key: key(f)?,
        subject: subject(f)?,
        reason: reason.into(),
    })
}

fn printable(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_graphic())
}

fn key(f: &Fields) -> Result<String, RowError> {
    let key = f.require("key")?;
    if key.len() > MAX_KEY_LEN || !printable(key) {
        return Err(RowError::new(
            "bad_key",
            format!("key must be 1 to {MAX_KEY_LEN} printable ASCII characters without spaces"),
        ));
    }
    Ok(key.into())
}

fn subject(f: &Fields) -> Result<String, RowError> {
    let subject = f.require("subject")?;
    subject_id(subject)?;
    Ok(subject.into())
}

/// Refuse a subject id that is not 1 to [`MAX_SUBJECT_LEN`] printable
/// ASCII characters (the admin API's identity links check theirs here too).
pub fn subject_id(subject: &str) -> Result<(), RowError> {
    if subject.is_empty() || subject.len() > MAX_SUBJECT_LEN || !printable(subject) {
        return Err(RowError::new(
            "bad_subject",
            format!(
                "subject must be 1 to {MAX_SUBJECT_LEN} printable ASCII characters without spaces"
            ),
        ));
    }
    Ok(())
}

fn colour(text: &str) -> Result<Colour, RowError> {
    Colour::from_name(&text.to_ascii_lowercase())
        .ok_or_else(|| RowError::new("bad_colour", "colour must be green, yellow or red"))
}

fn doses(text: &str) -> Result<u8, RowError> {
    text.parse::<u8>()
        .ok()
        .filter(|&d| d <= 20)
        .ok_or_else(|| RowError::new("bad_doses", "doses must be a whole number from 0 to 20"))
}

fn date(text: &str) -> Result<Date, RowError> {
    let bad = || {
        RowError::new(
            "bad_date",
            "last_dose must be a date YYYY-MM-DD from 1970 on",
        )
    };
    let mut parts = text
        .splitn(3, '-')
        .map(|p| p.parse::<u32>().map_err(|_| bad()));
    let (y, m, d) = (
        parts.next().ok_or_else(bad)??,
        parts.next().ok_or_else(bad)??,
        parts.next().ok_or_else(bad)??,
    );
    Date::from_ymd(y, m, d).ok_or_else(bad)
}

fn test(f: &Fields) -> Result<Option<TestRecord>, RowError> {
    match (f.get("test_time"), f.get("test_result")) {
        (None, None) => Ok(None),
        (Some(time), Some(result)) => {
            let taken_at = time
                .parse::<u64>()
                .ok()
                .filter(|&t| t < 1 << 40)
                .map(Timestamp)
                .ok_or_else(|| {
                    RowError::new(
                        "bad_test_time",
                        "test_time must be seconds since 1970 (NumericDate)",
                    )
                })?;
            let result = match result.to_ascii_lowercase().as_str() {
                "negative" => TestResult::Negative,
                "positive" => TestResult::Positive,
                _ => {
                    return Err(RowError::new(
                        "bad_test_result",
                        "test_result must be negative or positive",
                    ));
                }
            };
            Ok(Some(TestRecord { taken_at, result }))
        }
        _ => Err(RowError::new(
            "incomplete_test",
            "test_time and test_result come together",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_commas_and_doubled_quotes() {
        assert_eq!(
            split_csv(r#"a,"b,c","d""e",,"#).unwrap(),
            ["a", "b,c", "d\"e", "", ""]
        );
        assert_eq!(split_csv(r#""open"#).unwrap_err().code, "bad_csv");
        assert_eq!(split_csv(r#"a"b"#).unwrap_err().code, "bad_csv");
    }

    #[test]
    fn an_enrolment_keeps_only_masked_identity() {
        let columns = csv_header("subject,name,id_number,colour,doses", Kind::Enrolments).unwrap();
        let fields = csv_fields("XA-1,张三明,610102199001011231,green,3", &columns).unwrap();
        let Record::Enrolment(e) = Kind::Enrolments.parse(&fields).unwrap() else {
            panic!()
        };
        assert_eq!(
            (e.masked_name.as_str(), e.masked_id.as_str()),
            ("张*明", "6101**********1231")
        );
        assert_eq!(e.key, "enrol:XA-1");
        assert_eq!(e.health.vaccination.doses, 3);
    }

    #[test]
    fn refusals_say_which_field() {
        let columns = csv_header("subject,name,id_number,colour", Kind::Enrolments).unwrap();
        let code = |line: &str| {
            csv_fields(line, &columns)
                .and_then(|f| Kind::Enrolments.parse(&f))
                .unwrap_err()
                .code
        };
        assert_eq!(
            code("XA-1,张三明,610102199001011234,green"),
            "bad_id_number"
        );
        assert_eq!(code("XA-1,张三明,610102199001011231,blue"), "bad_colour");
        assert_eq!(code("XA-1,张三明,610102199001011231"), "wrong_field_count");
        assert_eq!(code(",张三明,610102199001011231,green"), "missing_field");
        assert!(csv_header("subject,name,colour", Kind::Enrolments).is_err());
        assert!(csv_header("subject,name,id_number,colour,shoe_size", Kind::Enrolments).is_err());
    }

    #[test]
    fn json_rows_take_numbers_and_strings() {
        let fields = json_fields(
            r#"{"key":"lab-7","subject":"XA-1","test_time":1795146000,"test_result":"positive"}"#,
            Kind::StatusUpdates,
        )
        .unwrap();
        let Record::Status(u) = Kind::StatusUpdates.parse(&fields).unwrap() else {
            panic!()
        };
        assert_eq!(u.test.unwrap().result, TestResult::Positive);
        assert_eq!(
            json_fields("[1]", Kind::StatusUpdates).err().unwrap().code,
            "bad_json"
        );
        assert_eq!(
            json_fields(r#"{"key":"k","subject":"s","shoe":1}"#, Kind::StatusUpdates)
                .err()
                .unwrap()
                .code,
            "unknown_field"
        );
        let fields = json_fields(r#"{"key":"k","subject":"s"}"#, Kind::StatusUpdates).unwrap();
        assert_eq!(
            Kind::StatusUpdates.parse(&fields).unwrap_err().code,
            "no_change"
        );
    }
}
