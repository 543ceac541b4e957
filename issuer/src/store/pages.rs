//! Pass pages: the signed passes of [`PAGE_SUBJECTS`] subjects with
//! consecutive ids, stored as one row (`pass_pages`) with one due time.
//!
//! Why pages and not a column per subject (docs/performance.md, "Issuer:
//! bulk signing"): re-signing the city rewrites every pass, and a row write
//! per pass, with its index entries and write-ahead log record, cost
//! PostgreSQL more CPU than the signature itself.
//! A page is one row write for 64 passes. A subject's page is its id
//! divided by [`PAGE_SUBJECTS`], so finding a pass needs no mapping that
//! would itself have to be written.
//!
//! The row's `slots` hold the passes in the format below; `due_at` is the
//! earliest time any of its subjects must be (re)signed (0: at once, after
//! an enrolment or a status change); `revision` grows by one with every
//! write to the page, so that the signer stores a page only if nothing
//! changed it since the signer read it.
//!
//! Slot format (all integers little-endian), one record per subject that
//! has a pass, in any order:
//!
//! ```text
//! u8   slot: the subject's id modulo PAGE_SUBJECTS
//! i64  status version the pass was signed from
//! i64  issued at, i64 expires at, i64 revocation index, i64 due at (renewal)
//! u8   1 if the pass before it is still tracked, else 0
//! [i64 its revocation index, i64 its expiry]   when the flag is 1
//! u8   kid length, then the kid (hex, ASCII)
//! u16  length, then the pass as COSE_Sign1 bytes (its text, SP1:..., is
//!      `sealpass_core::text::encode` of them: two thirds of the bytes)
//! ```

use super::StoreError;

/// Subjects per page. Storing a page costs about one row write for them
/// all; reading one subject's pass reads the page (about 20 KB).
pub const PAGE_SUBJECTS: i64 = 64;

/// The page that holds subject `id`'s pass.
pub fn page_of(id: i64) -> i64 {
    id.div_euclid(PAGE_SUBJECTS)
}

/// Subject `id`'s slot in its page.
pub fn slot_of(id: i64) -> usize {
    id.rem_euclid(PAGE_SUBJECTS) as usize
}

/// The ids of the subjects page `page` holds.
pub fn ids_of(page: i64) -> std::ops::Range<i64> {
    page * PAGE_SUBJECTS..(page + 1) * PAGE_SUBJECTS
}

/// One subject's current pass, as the signer stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// The status version the pass was signed from.
    pub version: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub revocation_index: i64,
    /// When the signer renews it.
    pub due_at: i64,
    /// The pass before it, while it may still be valid: (index, expiry).
    pub prev: Option<(i64, i64)>,
    pub kid: String,
    /// The pass as COSE_Sign1 bytes ([`Slot::text`] is what is served).
    pub cose: Vec<u8>,
}

impl Slot {
    /// The pass as its holder gets it: `SP1:` and Base45.
    pub fn text(&self) -> String {
        sealpass_core::text::encode(&self.cose)
    }
}

/// The passes of one page, by slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassPage {
    slots: Vec<Option<Slot>>,
}

impl Default for PassPage {
    fn default() -> Self {
        PassPage {
            slots: vec![None; PAGE_SUBJECTS as usize],
        }
    }
}

impl PassPage {
    /// The pass of subject `id` (which must belong to this page).
    pub fn get(&self, id: i64) -> Option<&Slot> {
        self.slots[slot_of(id)].as_ref()
    }

    pub fn set(&mut self, id: i64, slot: Slot) {
        self.slots[slot_of(id)] = Some(slot);
    }

    /// The passes held, by slot number.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Slot)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
    }

    /// When subject `id`, at status `version`, must be (re)signed: at
    /// once (0) without a pass or with one signed from an older status,
    /// else at its pass's renewal.
    pub fn due_of(&self, id: i64, version: i64) -> i64 {
        due_of(self.get(id), version)
    }

    /// The page's due time given its subjects' current status versions
    /// (`versions[slot]`, `None` for an id no subject has): the earliest
    /// [`PassPage::due_of`] of its subjects; `i64::MAX` for a page without
    /// subjects.
    pub fn due_at(&self, versions: &[Option<i64>]) -> i64 {
        self.slots
            .iter()
            .zip(versions)
            .filter_map(|(slot, version)| version.map(|v| due_of(slot.as_ref(), v)))
            .min()
            .unwrap_or(i64::MAX)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.iter().map(|(_, s)| 64 + s.cose.len()).sum());
        for (i, slot) in self.iter() {
            out.push(i as u8);
            for n in [
                slot.version,
                slot.issued_at,
                slot.expires_at,
                slot.revocation_index,
                slot.due_at,
            ] {
                out.extend_from_slice(&n.to_le_bytes());
            }
            match slot.prev {
                Some((index, expires)) => {
                    out.push(1);
                    out.extend_from_slice(&index.to_le_bytes());
                    out.extend_from_slice(&expires.to_le_bytes());
                }
                None => out.push(0),
            }
            out.push(slot.kid.len() as u8);
            out.extend_from_slice(slot.kid.as_bytes());
            out.extend_from_slice(&(slot.cose.len() as u16).to_le_bytes());
            out.extend_from_slice(&slot.cose);
        }
        out
    }

    /// Read a page as [`PassPage::encode`] wrote it. Anything else is
    /// [`StoreError::Inconsistent`], never a panic.
    pub fn decode(bytes: &[u8]) -> Result<PassPage, StoreError> {
        let mut page = PassPage::default();
        let mut input = Reader(bytes);
        while !input.0.is_empty() {
            let i = usize::from(input.u8()?);
            if i >= page.slots.len() || page.slots[i].is_some() {
                return Err(bad(format!("slot {i} out of range or twice")));
            }
            let [version, issued_at, expires_at, revocation_index, due_at] = [
                input.i64()?,
                input.i64()?,
                input.i64()?,
                input.i64()?,
                input.i64()?,
            ];
            let prev = match input.u8()? {
                0 => None,
                1 => Some((input.i64()?, input.i64()?)),
                flag => return Err(bad(format!("flag {flag}"))),
            };
            let kid_len = usize::from(input.u8()?);
            let kid = input.ascii(kid_len)?;
            let cose_len = usize::from(u16::from_le_bytes(input.take()?));
            let cose = input.bytes(cose_len)?.to_vec();
            page.slots[i] = Some(Slot {
                version,
                issued_at,
                expires_at,
                revocation_index,
                due_at,
                prev,
                kid,
                cose,
            });
        }
        Ok(page)
    }
}

fn due_of(pass: Option<&Slot>, version: i64) -> i64 {
    match pass {
        Some(pass) if pass.version == version => pass.due_at,
        _ => 0,
    }
}

fn bad(what: String) -> StoreError {
    StoreError::Inconsistent(format!("a pass page: {what}"))
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or_else(|| bad("cut short".into()))?;
        self.0 = rest;
        Ok(*head)
    }

    fn u8(&mut self) -> Result<u8, StoreError> {
        Ok(self.take::<1>()?[0])
    }

    fn i64(&mut self) -> Result<i64, StoreError> {
        Ok(i64::from_le_bytes(self.take()?))
    }

    fn bytes(&mut self, len: usize) -> Result<&[u8], StoreError> {
        if self.0.len() < len {
            return Err(bad("cut short".into()));
        }
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(head)
    }

    fn ascii(&mut self, len: usize) -> Result<String, StoreError> {
        let head = self.bytes(len)?;
        if !head.is_ascii() {
            return Err(bad("text not ASCII".into()));
        }
        String::from_utf8(head.to_vec()).map_err(|_| bad("text not ASCII".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(n: i64) -> Slot {
        Slot {
            version: n,
            issued_at: 1_795_218_000 + n,
            expires_at: 1_795_300_000 + n,
            revocation_index: 4 * n,
            due_at: 1_795_270_000 + n,
            prev: (n % 2 == 0).then_some((n + 9, 1_795_200_000 - n)),
            kid: "1f51fa5b853a9f0d".into(),
            cose: vec![n as u8; n as usize % 200],
        }
    }

    #[test]
    fn a_page_reads_back_as_written() {
        let mut page = PassPage::default();
        assert_eq!(PassPage::decode(&page.encode()).unwrap(), page);
        for id in [128, 130, 131, 191, 150] {
            page.set(id, slot(id));
        }
        let bytes = page.encode();
        let back = PassPage::decode(&bytes).unwrap();
        assert_eq!(back, page);
        assert_eq!(back.get(131), Some(&slot(131)));
        assert_eq!(back.get(129), None);
        assert_eq!(
            back.iter().map(|(i, _)| i).collect::<Vec<_>>(),
            [0, 2, 3, 22, 63]
        );
    }

    #[test]
    fn subjects_map_to_pages_and_slots() {
        assert_eq!((page_of(1), slot_of(1)), (0, 1));
        assert_eq!((page_of(64), slot_of(64)), (1, 0));
        assert_eq!((page_of(191), slot_of(191)), (2, 63));
        assert!(ids_of(2).contains(&191) && !ids_of(2).contains(&192));
    }

    #[test]
    fn a_page_is_due_at_once_for_a_new_or_changed_subject_else_at_its_first_renewal() {
        let mut page = PassPage::default();
        page.set(64, slot(3));
        page.set(65, slot(5));
        let mut versions = vec![None; PAGE_SUBJECTS as usize];
        assert_eq!(page.due_at(&versions), i64::MAX, "no subjects");
        versions[0] = Some(3);
        versions[1] = Some(5);
        assert_eq!(page.due_at(&versions), slot(3).due_at);
        versions[1] = Some(6);
        assert_eq!(page.due_at(&versions), 0, "status changed");
        versions[1] = Some(5);
        versions[7] = Some(1);
        assert_eq!(page.due_at(&versions), 0, "enrolled, no pass yet");
    }

    /// The decoder's input comes from the store, but a damaged or foreign
    /// value must be an error, never a panic: every prefix of a valid page,
    /// and many corruptions of it.
    #[test]
    fn damaged_pages_are_errors_not_panics() {
        let mut page = PassPage::default();
        for id in 0..PAGE_SUBJECTS {
            page.set(id, slot(id));
        }
        let bytes = page.encode();
        let mut errors = 0;
        for end in 0..bytes.len() {
            errors += usize::from(PassPage::decode(&bytes[..end]).is_err());
        }
        assert!(errors > bytes.len() / 2);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut damaged = bytes.clone();
            let at = state as usize % damaged.len();
            damaged[at] = (state >> 32) as u8;
            let cut = (state >> 40) as usize % (damaged.len() + 1);
            let _ = PassPage::decode(&damaged[..cut]);
        }
        assert!(PassPage::decode(&[64]).is_err(), "slot out of range");
        assert!(PassPage::decode(&[0; 2]).is_err(), "cut short");
    }
}
