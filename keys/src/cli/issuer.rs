//! `issuer new` and `issuer card`.

use super::{Context, parse_date, parse_duration, refuse_existing};
use anyhow::{Context as _, Result};
use clap::Subcommand;
use sealpass_core::{
    Colour, HealthStatus, PassClaims, Seconds, Signer, Timestamp, Vaccination, mask_id, mask_name,
    sign_pass,
};
use sealpass_keys::card::{ISSUER_FORMAT, IssuerCard, KeyStorage, fingerprint};
use sealpass_keys::files::{self, Mode, with_extension};
use sealpass_keys::keyfile::{self, KeyRole, SealedKey};
use sealpass_keys::pkcs11::{SOFTHSM2_MODULE, Token};
use sealpass_keys::transcript::{FileDigest, Step};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum Command {
    /// Make an issuer's pass-signing key, in an encrypted file or inside a
    /// PKCS#11 token.
    ///
    /// Writes PREFIX.pub, the issuer key card that `draft --add-issuer-key`
    /// reads. Without --pkcs11-token the secret goes to PREFIX.key, sealed
    /// under a passphrase (mode 0600); with it, the key pair is generated
    /// inside the token and its secret never leaves it. The key only signs
    /// passes verifiers accept once a trust list names it.
    New {
        /// The issuer id passes will carry, e.g. CN-610100.
        #[arg(long)]
        issuer: String,
        /// Where to write: PREFIX.pub (and PREFIX.key for a file key).
        #[arg(long, value_name = "PREFIX")]
        out: PathBuf,
        /// First day the key may sign (UTC, YYYY-MM-DD); default now.
        #[arg(long, value_parser = parse_date, value_name = "DATE")]
        not_before: Option<Timestamp>,
        /// How long the key may sign, e.g. 365d.
        #[arg(long, value_parser = parse_duration, default_value = "365d")]
        valid_for: Seconds,
        /// Where the issuer publishes its signed status list.
        #[arg(long, value_name = "URL")]
        status_list_url: Option<String>,
        /// Generate the key inside the PKCS#11 token with this label.
        #[arg(long, value_name = "LABEL")]
        pkcs11_token: Option<String>,
        /// The token's PKCS#11 module.
        #[arg(long, env = "SEALPASS_PKCS11_MODULE", default_value = SOFTHSM2_MODULE, value_name = "PATH")]
        pkcs11_module: PathBuf,
    },
    /// Sign a test pass with an issuer key, to prove the key (file or
    /// token) works before the list naming it is published.
    ///
    /// The pass is for a made-up person (测*人, id 0000**********0000),
    /// green, valid for one hour. The pass text is printed on a line of its
    /// own; check it with the verifier against the new trust list.
    TestPass {
        /// The issuer key's .pub card; a file key is looked for beside it.
        card: PathBuf,
    },
    /// Print an issuer key card from its .pub file.
    Card {
        /// An issuer key's .pub file.
        card: PathBuf,
    },
}

pub fn run(command: Command, context: &Context) -> Result<ExitCode> {
    match command {
        Command::New {
            issuer,
            out,
            not_before,
            valid_for,
            status_list_url,
            pkcs11_token,
            pkcs11_module,
        } => {
            let not_before = not_before.unwrap_or(context.now);
            let plan = Plan {
                issuer: issuer.trim().to_owned(),
                not_before,
                not_after: not_before.plus(valid_for),
                status_list_url,
            };
            anyhow::ensure!(
                !plan.issuer.is_empty() && plan.issuer.len() <= 64,
                "the issuer id must be 1 to 64 bytes, e.g. CN-610100"
            );
            match pkcs11_token {
                Some(token) => new_in_token(plan, &out, &pkcs11_module, &token, context),
                None => new_in_file(plan, &out, context),
            }
        }
        Command::TestPass { card } => test_pass(&card, context),
        Command::Card { card } => {
            let card = IssuerCard::from_json(&files::read(&card)?)
                .with_context(|| format!("{} is not an issuer key card", card.display()))?;
            print!("{}", card.render());
            Ok(ExitCode::SUCCESS)
        }
    }
}

struct Plan {
    issuer: String,
    not_before: Timestamp,
    not_after: Timestamp,
    status_list_url: Option<String>,
}

impl Plan {
    fn card(&self, public_key: &[u8; 32], storage: KeyStorage) -> IssuerCard {
        IssuerCard {
            format: ISSUER_FORMAT.into(),
            issuer: self.issuer.clone(),
            public_key: hex::encode(public_key),
            kid: sealpass_core::Kid::of(public_key).to_hex(),
            not_before: self.not_before.0,
            not_after: self.not_after.0,
            status_list_url: self.status_list_url.clone(),
            storage,
        }
    }
}

fn new_in_file(plan: Plan, out: &Path, context: &Context) -> Result<ExitCode> {
    let key_path = with_extension(out, "key");
    let card_path = with_extension(out, "pub");
    refuse_existing(&[&key_path, &card_path])?;
    let mut transcript = context.open_transcript()?;
    let passphrase = context
        .secrets
        .new_passphrase(&format!("the issuer key of {}", plan.issuer))?;
    context.warn_if_weak_kdf();
    let key = keyfile::generate()?;
    let public_key = key.verifying_key().to_bytes();
    let sealed = SealedKey::seal(
        &key,
        KeyRole::Issuer,
        &plan.issuer,
        &passphrase,
        context.kdf_log_n,
    )?
    .to_json();
    drop(key);
    let storage = KeyStorage::File {
        path: key_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let card = plan.card(&public_key, storage);
    files::write_new(&key_path, &sealed, Mode::OwnerOnly)?;
    files::write_new(&card_path, &card.to_json(), Mode::Public)?;
    print!("{}", card.render());
    println!(
        "wrote {} (secret, sealed) and {} (public issuer key card)",
        key_path.display(),
        card_path.display()
    );
    let outputs = vec![
        FileDigest::of(&key_path, &sealed),
        FileDigest::of(&card_path, &card.to_json()),
    ];
    record(
        context,
        &mut transcript,
        &card,
        "an encrypted key file",
        outputs,
    )
}

fn new_in_token(
    plan: Plan,
    out: &Path,
    module: &Path,
    token_label: &str,
    context: &Context,
) -> Result<ExitCode> {
    let card_path = with_extension(out, "pub");
    refuse_existing(&[&card_path])?;
    let mut transcript = context.open_transcript()?;
    let pin = context.secrets.pin(token_label)?;
    let token = Token::open(module, token_label, &pin)?;
    drop(pin);
    let signer = token.generate_issuer_key(&plan.issuer)?;
    let public_key = signer.public_key();
    let card = plan.card(
        &public_key,
        KeyStorage::Pkcs11 {
            module: module.display().to_string(),
            token: token_label.into(),
        },
    );
    files::write_new(&card_path, &card.to_json(), Mode::Public)?;
    print!("{}", card.render());
    println!(
        "generated inside token {token_label:?} (CKA_ID = key id {}); wrote {} (public issuer key card)",
        signer.kid(),
        card_path.display()
    );
    let outputs = vec![FileDigest::of(&card_path, &card.to_json())];
    record(
        context,
        &mut transcript,
        &card,
        &format!("PKCS#11 token {token_label:?}"),
        outputs,
    )
}

fn record(
    context: &Context,
    transcript: &mut sealpass_keys::transcript::Transcript,
    card: &IssuerCard,
    storage: &str,
    outputs: Vec<FileDigest>,
) -> Result<ExitCode> {
    let public_key = card.public_key();
    context.record(
        transcript,
        Step {
            action: "issuer new".into(),
            summary: format!(
                "made issuer key {} for {} in {storage}, to sign from {} to {}",
                card.kid,
                card.issuer,
                Timestamp(card.not_before),
                Timestamp(card.not_after)
            ),
            by: Some(format!(
                "issuer key, fingerprint {}",
                fingerprint(&public_key)
            )),
            public_keys: vec![card.public_key.clone()],
            inputs: vec![],
            outputs,
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

fn test_pass(card_path: &Path, context: &Context) -> Result<ExitCode> {
    let card_bytes = files::read(card_path)?;
    let card = IssuerCard::from_json(&card_bytes)
        .with_context(|| format!("{} is not an issuer key card", card_path.display()))?;
    let mut transcript = context.open_transcript()?;
    let mut inputs = vec![FileDigest::of(card_path, &card_bytes)];
    let signer: Box<dyn Signer> = match &card.storage {
        KeyStorage::File { path } => {
            let key_path = card_path.parent().unwrap_or(Path::new(".")).join(path);
            let key_bytes = files::read(&key_path)?;
            inputs.push(FileDigest::of(&key_path, &key_bytes));
            let sealed = SealedKey::from_json(&key_bytes)
                .with_context(|| format!("{} is not a key file", key_path.display()))?;
            let passphrase = context
                .secrets
                .passphrase(&format!("the issuer key of {}", sealed.label))?;
            let key = sealed
                .open(&passphrase, KeyRole::Issuer)
                .with_context(|| format!("cannot open {}", key_path.display()))?;
            Box::new(key)
        }
        KeyStorage::Pkcs11 { module, token } => {
            let pin = context.secrets.pin(token)?;
            let token_session = Token::open(Path::new(module), token, &pin)?;
            Box::new(token_session.issuer_key(sealpass_core::Kid::of(&card.public_key()))?)
        }
    };
    anyhow::ensure!(
        signer.public_key() == card.public_key(),
        "the key found does not match the card {}",
        card_path.display()
    );
    let now = context.now;
    let claims = PassClaims {
        issuer: card.issuer.clone(),
        issued_at: now,
        not_before: now,
        expires_at: now.plus(Seconds::hours(1)),
        revocation_index: 0,
        health: HealthStatus {
            colour: Colour::Green,
            masked_name: mask_name("测试人"),
            masked_id: mask_id("000000000000000000"),
            vaccination: Vaccination {
                doses: 0,
                last_dose: None,
            },
            last_test: None,
        },
        holder: None,
    };
    let text = sign_pass(&claims, signer.as_ref())?;
    println!(
        "test pass signed by issuer key {} of {}:",
        card.kid, card.issuer
    );
    println!("{text}");
    context.record(
        &mut transcript,
        Step {
            action: "issuer test-pass".into(),
            summary: format!(
                "signed a test pass (a made-up person) with issuer key {} of {}; SHA-256 of its text {}",
                card.kid,
                card.issuer,
                files::sha256_hex(text.as_bytes())
            ),
            by: Some(format!("issuer key, fingerprint {}", fingerprint(&card.public_key()))),
            public_keys: vec![card.public_key.clone()],
            inputs,
            outputs: vec![],
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
