//! A synthetic population for tests, demos and benchmarks: people of Xi'an
//! with common Chinese names and valid-looking resident id numbers (region
//! 6101xx, a birth date, a sequence number, the ISO 7064 MOD 11-2 check
//! character), and a plausible health status. Deterministic from a seed,
//! and an iterator: 13 million people never need 13 million rows in memory.
//! Nobody in it exists; the subject ids say so (`SYN-...`).

use crate::id_number::check_character;
use crate::shared::mix;
use sealpass_core::{Colour, Date, TestResult, Timestamp};
use std::fmt::Write as _;

/// The most common surnames, in rough order of frequency.
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏",
    "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯",
    "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "武", "戴",
    "欧阳",
];

/// Characters common in given names.
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀", "英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "兰", "霞", "平", "刚", "桂", "文", "辉", "力", "建", "华", "玉", "萍", "红",
    "鹏", "飞", "斌", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "欣", "晨",
    "婷", "雪", "琳", "晶", "颖", "佳", "慧", "燕", "峰", "波", "鑫", "博", "思", "雨", "子", "梓",
    "涵", "轩", "睿", "怡", "悦", "嘉", "诗", "一", "诺", "泽", "宏", "志", "国", "春", "海", "秦",
];

/// Districts and counties of Xi'an (GB/T 2260 codes).
const REGIONS: &[&str] = &[
    "610102", "610103", "610104", "610111", "610112", "610113", "610114", "610115", "610116",
    "610117", "610118", "610122", "610124",
];

/// One synthetic person, with full name and id number as a health
/// authority would send them (the issuer masks both on arrival).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub subject: String,
    pub name: String,
    pub id_number: String,
    pub colour: Colour,
    pub doses: u8,
    pub last_dose: Option<Date>,
    pub test: Option<(Timestamp, TestResult)>,
}

/// `count` people from `seed`, with tests taken in the three days before
/// `now`.
pub struct Population {
    seed: u64,
    next: u64,
    count: u64,
    now: Timestamp,
}

impl Population {
    pub fn new(seed: u64, count: u64, now: Timestamp) -> Population {
        Population {
            seed,
            next: 0,
            count,
            now,
        }
    }

    /// Person number `n` (the same whatever was generated before).
    pub fn person(&self, n: u64) -> Person {
        let mut state = mix(self.seed ^ mix(n));
        let mut draw = |bound: u64| {
            state = mix(state);
            state % bound
        };
        let surname = SURNAMES[draw(SURNAMES.len() as u64) as usize];
        let given_len = if draw(10) < 7 { 2 } else { 1 };
        let mut name = surname.to_string();
        for _ in 0..given_len {
            name.push_str(GIVEN[draw(GIVEN.len() as u64) as usize]);
        }
        let region = REGIONS[draw(REGIONS.len() as u64) as usize];
        let birth = birth_ymd(draw(365 * 75) as u32);
        let sequence = draw(1000);
        let mut id = format!("{region}{birth}{sequence:03}");
        let digits: &[u8; 17] = id.as_bytes().try_into().expect("17 digits");
        let check = check_character(digits) as char;
        id.push(check);
        let colour = match draw(1000) {
            0..970 => Colour::Green,
            970..990 => Colour::Yellow,
            _ => Colour::Red,
        };
        let doses = [0, 1, 2, 3, 3, 3, 3, 3, 2, 3][draw(10) as usize];
        let last_dose = (doses > 0)
            .then(|| Date::from_ymd(2021, 3, 1).map(|d| Date(d.0 + draw(500) as u32)))
            .flatten();
        let test = (draw(10) < 9).then(|| {
            let taken = self
                .now
                .minus(sealpass_core::Seconds(draw(72 * 3600) + 600));
            let result = if colour == Colour::Red && draw(2) == 0 {
                TestResult::Positive
            } else {
                TestResult::Negative
            };
            (taken, result)
        });
        Person {
            subject: format!("SYN-{:016x}", mix(self.seed.wrapping_add(n))),
            name,
            id_number: id,
            colour,
            doses,
            last_dose,
            test,
        }
    }

    /// The CSV header of [`Person::csv`].
    pub const CSV_HEADER: &'static str =
        "subject,name,id_number,colour,doses,last_dose,test_time,test_result";
}

/// `YYYYMMDD` of the day `days` after 1945-01-01 (birth dates reach before
/// 1970, where the core's [`Date`] does not go).
fn birth_ymd(mut days: u32) -> String {
    let (mut year, mut month) = (1945u32, 1u32);
    loop {
        let in_month = days_in_month(year, month);
        if days < in_month {
            return format!("{year:04}{month:02}{:02}", days + 1);
        }
        days -= in_month;
        month += 1;
        if month == 13 {
            month = 1;
            year += 1;
        }
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Iterator for Population {
    type Item = Person;

    fn next(&mut self) -> Option<Person> {
        if self.next >= self.count {
            return None;
        }
        let person = self.person(self.next);
        self.next += 1;
        Some(person)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.count - self.next) as usize;
        (left, Some(left))
    }
}

impl Person {
    /// One CSV line (no line break), columns as [`Population::CSV_HEADER`].
    pub fn csv(&self) -> String {
        let mut line = format!(
            "{},{},{},{},{},",
            self.subject,
            self.name,
            self.id_number,
            self.colour.name(),
            self.doses
        );
        if let Some(date) = self.last_dose {
            let (y, m, d) = date.ymd();
            let _ = write!(line, "{y:04}-{m:02}-{d:02}");
        }
        line.push(',');
        if let Some((time, result)) = self.test {
            let _ = write!(line, "{},{}", time.0, result.name());
        } else {
            line.push(',');
        }
        line
    }

    /// One NDJSON line (no line break).
    pub fn json(&self) -> String {
        let mut object = serde_json::json!({
            "subject": self.subject,
            "name": self.name,
            "id_number": self.id_number,
            "colour": self.colour.name(),
            "doses": self.doses,
        });
        if let Some(date) = self.last_dose {
            let (y, m, d) = date.ymd();
            object["last_dose"] = format!("{y:04}-{m:02}-{d:02}").into();
        }
        if let Some((time, result)) = self.test {
            object["test_time"] = time.0.into();
            object["test_result"] = result.name().into();
        }
        object.to_string()
    }
}

/// A population as an import source: CSV, header first, in chunks of
/// about a mebibyte, so importing 13 million never holds 13 million rows.
pub struct CsvChunks {
    people: Population,
    header: bool,
}

impl CsvChunks {
    /// A chunk is sent once it holds this many bytes.
    const CHUNK: usize = 1 << 20;

    pub fn new(people: Population) -> CsvChunks {
        CsvChunks {
            people,
            header: false,
        }
    }
}

impl crate::write::ingest::ByteSource for CsvChunks {
    async fn next_chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut chunk = Vec::with_capacity(Self::CHUNK + 256);
        if !self.header {
            self.header = true;
            chunk.extend_from_slice(Population::CSV_HEADER.as_bytes());
            chunk.push(b'\n');
        }
        for person in self.people.by_ref() {
            chunk.extend_from_slice(person.csv().as_bytes());
            chunk.push(b'\n');
            if chunk.len() >= Self::CHUNK {
                break;
            }
        }
        Ok((!chunk.is_empty()).then_some(chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_number::validate;
    use crate::write::ingest::ByteSource;

    #[tokio::test(flavor = "current_thread")]
    async fn csv_chunks_are_the_header_and_every_line_in_whole_lines() {
        let now = Timestamp(1_795_218_000);
        let mut source = CsvChunks::new(Population::new(3, 20_000, now));
        let mut chunks = Vec::new();
        while let Some(chunk) = source.next_chunk().await.unwrap() {
            assert!(chunk.ends_with(b"\n"));
            chunks.push(chunk);
        }
        assert!(chunks.len() >= 2, "{} chunks", chunks.len());
        let text = String::from_utf8(chunks.concat()).unwrap();
        let expected: Vec<String> = std::iter::once(Population::CSV_HEADER.to_owned())
            .chain(Population::new(3, 20_000, now).map(|p| p.csv()))
            .collect();
        assert_eq!(text.lines().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn people_are_deterministic_valid_and_distinct() {
        let now = Timestamp(1_795_218_000);
        let a: Vec<Person> = Population::new(7, 2000, now).collect();
        let b: Vec<Person> = Population::new(7, 2000, now).collect();
        assert_eq!(a, b);
        assert_ne!(a, Population::new(8, 2000, now).collect::<Vec<_>>());
        let mut subjects = std::collections::HashSet::new();
        for person in &a {
            validate(&person.id_number).unwrap_or_else(|e| panic!("{}: {e:?}", person.id_number));
            assert!(person.id_number.starts_with("6101"));
            assert!(
                (2..=4).contains(&person.name.chars().count()),
                "{}",
                person.name
            );
            assert!(subjects.insert(person.subject.clone()));
        }
        let green = a.iter().filter(|p| p.colour == Colour::Green).count();
        assert!(green > 1900, "{green}");
    }
}
