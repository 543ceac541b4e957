//! Where passphrases and PINs come from: a file descriptor, the environment
//! (scripted tests), or the terminal without echo. Never a command-line
//! argument, which every user of the machine can read in the process list.

use anyhow::{Context as _, Result, bail};
use sealpass_keys::passphrase::Passphrase;
use std::fs::OpenOptions;
use zeroize::Zeroizing;

const PASSPHRASE_ENV: &str = "SEALPASS_PASSPHRASE";
const PIN_ENV: &str = "SEALPASS_PKCS11_PIN";

pub struct Sources {
    pub passphrase_fd: Option<u32>,
    pub pin_fd: Option<u32>,
}

impl Sources {
    /// A passphrase for a new key: asked twice on a terminal, and refused
    /// if weak.
    pub fn new_passphrase(&self, what: &str) -> Result<Passphrase> {
        let passphrase = match self.given(self.passphrase_fd, PASSPHRASE_ENV)? {
            Some(given) => given,
            None => {
                let first = ask(
                    &format!("New passphrase for {what}: "),
                    "--passphrase-fd",
                    PASSPHRASE_ENV,
                )?;
                first.check_strength()?;
                let second = ask(
                    "The same passphrase again: ",
                    "--passphrase-fd",
                    PASSPHRASE_ENV,
                )?;
                if first.expose() != second.expose() {
                    bail!("the two passphrases differ; nothing was written. Run the command again");
                }
                first
            }
        };
        passphrase.check_strength()?;
        Ok(passphrase)
    }

    /// The passphrase of an existing key file.
    pub fn passphrase(&self, what: &str) -> Result<Passphrase> {
        match self.given(self.passphrase_fd, PASSPHRASE_ENV)? {
            Some(given) => Ok(given),
            None => ask(
                &format!("Passphrase for {what}: "),
                "--passphrase-fd",
                PASSPHRASE_ENV,
            ),
        }
    }

    /// The user PIN of a PKCS#11 token.
    pub fn pin(&self, token: &str) -> Result<Passphrase> {
        match self.given(self.pin_fd, PIN_ENV)? {
            Some(given) => Ok(given),
            None => ask(
                &format!("User PIN of token {token:?}: "),
                "--pin-fd",
                PIN_ENV,
            ),
        }
    }

    fn given(&self, fd: Option<u32>, env: &str) -> Result<Option<Passphrase>> {
        if let Some(fd) = fd {
            let content = Zeroizing::new(
                std::fs::read_to_string(format!("/dev/fd/{fd}"))
                    .with_context(|| format!("cannot read the secret from file descriptor {fd}"))?,
            );
            let line = content.split('\n').next().unwrap_or_default();
            return Ok(Some(Passphrase::from_line(line.to_owned())));
        }
        Ok(std::env::var(env).ok().map(Passphrase::from_line))
    }
}

fn ask(prompt: &str, fd_flag: &str, env: &str) -> Result<Passphrase> {
    if OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_err()
    {
        bail!(
            "a secret is needed but there is no terminal to ask on: give {fd_flag} N or set {env}"
        );
    }
    let text = rpassword::prompt_password(prompt).context("cannot read from the terminal")?;
    Ok(Passphrase::new(text))
}
