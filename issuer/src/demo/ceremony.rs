//! The demo's **development** key ceremony, through the keys crate's
//! library (the same code as `sealpass-keys`): three development
//! custodians, any two of whom sign; one issuer key in a sealed file; the
//! first trust list, and a next one whenever the held list nears expiry.
//! Every secret is sealed under [`DEV_PASSPHRASE`], which is published
//! right here: these keys protect nothing, and their names say so.

use super::DemoDir;
use crate::store::Store;
use crate::write::key::open_issuer_key;
use crate::write::signer::IssuerKey;
use sealpass_core::{Kid, RootSet, Seconds, SignedTrustList, Timestamp, TrustedList};
use sealpass_keys::card::{CustodianCard, ISSUER_FORMAT, IssuerCard, KeyStorage};
use sealpass_keys::ceremony::{Basis, finalize, sign_draft};
use sealpass_keys::drafting::{Edits, first_list, next_list};
use sealpass_keys::files::{Mode, write_new};
use sealpass_keys::keyfile::{KeyRole, SealedKey, generate};
use sealpass_keys::passphrase::Passphrase;
use std::path::{Path, PathBuf};

/// The passphrase of every demo key file. Public: development keys only.
pub const DEV_PASSPHRASE: &str =
    "sealpass DEVELOPMENT key - not secret - never use for real passes";
/// The demo city's issuer id.
pub const DEV_ISSUER: &str = "DEV-610100";
/// scrypt cost of the demo's key files (real ones use 2^18): a demo starts
/// in a blink, and the files say what they are anyway.
const DEV_LOG_N: u8 = 10;
const CUSTODIANS: usize = 3;
const THRESHOLD: u32 = 2;
/// Lifetime of each demo trust list; a new one is made when less than
/// [`RENEW_BEFORE`] is left.
const LIST_LIFETIME: Seconds = Seconds::days(30);
/// The longest a demo pass may live: its 24 h validity, with room to spare.
const MAX_PASS_LIFETIME: Seconds = Seconds::days(2);
const RENEW_BEFORE: Seconds = Seconds::days(7);

/// What the demo's ceremony left: the issuer key, opened, and the public
/// files verifiers need.
pub struct DevCeremony {
    pub issuer: String,
    pub key: IssuerKey,
    pub roots: RootSet,
    pub roots_cbor: Vec<u8>,
    pub roots_path: PathBuf,
    pub trust_list_sequence: u64,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CeremonyError {
    #[error("demo key ceremony: {0}")]
    Failed(String),
}

fn fail(e: impl std::fmt::Display) -> CeremonyError {
    CeremonyError::Failed(e.to_string())
}

fn passphrase() -> Passphrase {
    Passphrase::new(DEV_PASSPHRASE.into())
}

fn custodian_name(i: usize) -> String {
    format!("DEVELOPMENT custodian {i}")
}

/// Make the keys and the first list if `dir` has none; renew the list if
/// it is near expiry; publish the current list to `store`.
pub async fn ensure(
    dir: &DemoDir,
    store: &Store,
    now: Timestamp,
) -> Result<DevCeremony, CeremonyError> {
    let cdir = dir.ceremony_dir();
    let roots_path = cdir.join("roots.cbor");
    if !roots_path.exists() {
        create(&cdir, now)?;
    }
    let roots_cbor = std::fs::read(&roots_path).map_err(fail)?;
    let roots = RootSet::from_cbor(&roots_cbor).map_err(fail)?;
    let (_, key) = open_issuer_key(&cdir.join("issuer.pub"), &passphrase()).map_err(fail)?;

    let mut current = latest_list(&cdir)?;
    let renew = match &current {
        Some((_, bytes)) => {
            let held = TrustedList::from_stored(bytes).map_err(fail)?;
            held.list().expires_at.0 < now.plus(RENEW_BEFORE).0
        }
        None => true,
    };
    if renew {
        current = Some(next(
            &cdir,
            &roots,
            current.as_ref().map(|(_, b)| b.as_slice()),
            now,
        )?);
    }
    let (sequence, bytes) = current.expect("a list exists now");
    store
        .publish_trust_list(sequence, &bytes, now)
        .await
        .map_err(fail)?;
    Ok(DevCeremony {
        issuer: DEV_ISSUER.into(),
        key,
        roots,
        roots_cbor,
        roots_path,
        trust_list_sequence: sequence,
    })
}

fn create(cdir: &Path, now: Timestamp) -> Result<(), CeremonyError> {
    std::fs::create_dir_all(cdir).map_err(fail)?;
    let phrase = passphrase();
    let mut cards = Vec::new();
    for i in 1..=CUSTODIANS {
        let name = custodian_name(i);
        let key = generate().map_err(fail)?;
        let sealed =
            SealedKey::seal(&key, KeyRole::Custodian, &name, &phrase, DEV_LOG_N).map_err(fail)?;
        write_new(
            &cdir.join(format!("custodian-{i}.key")),
            &sealed.to_json(),
            Mode::OwnerOnly,
        )
        .map_err(fail)?;
        let card = CustodianCard::new(&name, &key.verifying_key().to_bytes());
        write_new(
            &cdir.join(format!("custodian-{i}.pub")),
            &card.to_json(),
            Mode::Public,
        )
        .map_err(fail)?;
        cards.push(card);
    }
    let issuer_key = generate().map_err(fail)?;
    let label = format!("{DEV_ISSUER} DEVELOPMENT issuer key");
    let sealed =
        SealedKey::seal(&issuer_key, KeyRole::Issuer, &label, &phrase, DEV_LOG_N).map_err(fail)?;
    write_new(&cdir.join("issuer.key"), &sealed.to_json(), Mode::OwnerOnly).map_err(fail)?;
    let public_key = issuer_key.verifying_key().to_bytes();
    let card = IssuerCard {
        format: ISSUER_FORMAT.into(),
        issuer: DEV_ISSUER.into(),
        public_key: hex::encode(public_key),
        kid: Kid::of(&public_key).to_hex(),
        not_before: now.minus(Seconds::days(1)).0,
        not_after: now.plus(Seconds::days(3 * 365)).0,
        status_list_url: None,
        storage: KeyStorage::File {
            path: "issuer.key".into(),
        },
    };
    write_new(&cdir.join("issuer.pub"), &card.to_json(), Mode::Public).map_err(fail)?;
    let roots = RootSet {
        threshold: THRESHOLD,
        keys: cards.iter().map(CustodianCard::root_key).collect(),
    };
    write_new(&cdir.join("roots.cbor"), &roots.to_cbor(), Mode::Public).map_err(fail)?;
    write_new(
        &cdir.join("README.txt"),
        format!(
            "DEVELOPMENT KEYS of `sealpass-issuer demo`. Never use them for real passes.\n\
             Every .key file here is sealed under the published passphrase:\n  {DEV_PASSPHRASE}\n\
             A real city makes its keys in a key ceremony: docs/key-ceremony.md.\n"
        )
        .as_bytes(),
        Mode::Public,
    )
    .map_err(fail)?;
    Ok(())
}

/// The trust list with the highest sequence in `cdir`.
fn latest_list(cdir: &Path) -> Result<Option<(u64, Vec<u8>)>, CeremonyError> {
    let mut best: Option<(u64, PathBuf)> = None;
    for entry in std::fs::read_dir(cdir).map_err(fail)? {
        let name = entry
            .map_err(fail)?
            .file_name()
            .to_string_lossy()
            .into_owned();
        let sequence = name
            .strip_prefix("trust-list-")
            .and_then(|rest| rest.strip_suffix(".cose"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(sequence) = sequence
            && best.as_ref().is_none_or(|(s, _)| sequence > *s)
        {
            best = Some((sequence, cdir.join(name)));
        }
    }
    best.map(|(sequence, path)| Ok((sequence, std::fs::read(path).map_err(fail)?)))
        .transpose()
}

/// Draft, sign (custodians 1 and 2) and finalize the next list.
fn next(
    cdir: &Path,
    roots: &RootSet,
    current: Option<&[u8]>,
    now: Timestamp,
) -> Result<(u64, Vec<u8>), CeremonyError> {
    let expires = now.plus(LIST_LIFETIME);
    let (list, basis) = match current {
        None => {
            let card =
                IssuerCard::from_json(&std::fs::read(cdir.join("issuer.pub")).map_err(fail)?)
                    .map_err(fail)?;
            let edits = Edits {
                add_issuer_keys: vec![card.trust_entry()],
                max_pass_lifetime: Some(MAX_PASS_LIFETIME),
                ..Edits::default()
            };
            (
                first_list(roots.clone(), &edits, now, expires).map_err(fail)?,
                Basis::Pinned(roots.clone()),
            )
        }
        Some(bytes) => {
            let held = SignedTrustList::from_bytes(bytes).map_err(fail)?;
            // Also brings a demo list from before format version 2 up to it.
            let edits = Edits {
                max_pass_lifetime: Some(MAX_PASS_LIFETIME),
                ..Edits::default()
            };
            let list = next_list(held.list(), &edits, now, expires).map_err(fail)?;
            (list, Basis::current(bytes).map_err(fail)?)
        }
    };
    let mut draft = SignedTrustList::draft(list).to_bytes();
    for i in 1..=THRESHOLD as usize {
        let sealed = SealedKey::from_json(
            &std::fs::read(cdir.join(format!("custodian-{i}.key"))).map_err(fail)?,
        )
        .map_err(fail)?;
        let key = sealed
            .open(&passphrase(), KeyRole::Custodian)
            .map_err(fail)?;
        draft = sign_draft(&draft, None, &key, &custodian_name(i)).map_err(fail)?;
    }
    let finalized = finalize(&draft, &basis, now).map_err(fail)?;
    let sequence = finalized.accepted.list().sequence;
    write_new(
        &cdir.join(format!("trust-list-{sequence}.cose")),
        &finalized.bytes,
        Mode::Public,
    )
    .map_err(fail)?;
    Ok((sequence, finalized.bytes))
}
