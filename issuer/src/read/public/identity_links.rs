//! Which subject a login is (issue 17; docs/public-api.md, "Identity
//! providers"). A health authority may link a login, the provider's `iss`
//! and the token's `sub`, to a subject (`identity_links` in the store,
//! written by the admin API); a link wins over the provider's
//! `subject_template`. A login the template maps to one enrolled subject
//! and a link to another is refused ([`Resolution::Conflict`]): neither
//! may be guessed right, and a wrong guess shows one person another's pass.
//!
//! **Resolved once per token, not per request.** A pass download is
//! answered from memory at tens of thousands a second (docs/performance.md);
//! a store read per request would be most of its cost. So a login is
//! resolved (one point read, two when it is linked) when its token is
//! first verified, and the [`Resolution`] is remembered with the token
//! (`verified_tokens.rs`). A link or unlink reaches it through the pass
//! book's change feed, which already reads the store every `recheck`
//! (2 s): each poll also reads the links' changes after the last it saw
//! (numbered in commit order, so none is missed), and the remembered
//! tokens of the logins they name forget their resolution, resolved again
//! on their next request. The same feed's events name the subjects just
//! enrolled: a linked login whose template's subject was not enrolled
//! when it was resolved is resolved again once it is.
//!
//! *Why forget resolutions rather than keep a links cache:* the links table
//! may hold many rows, and "no link" must be known too: a cache of links
//! alone would still need a read per unknown login, and a cache of every
//! login's answer is the remembered-token table already. Forgetting passes
//! over every remembered token, shard by shard, once per feed poll that
//! read a link change (links change rarely; not measured yet); the
//! request path adds nothing.
//! Until the feed has made its first read, and with `recheck = 0s`, no
//! resolution is remembered: every request resolves from the store.

use super::auth::Citizen;
use crate::store::StoreError;
use crate::store::reads::StoreReader;

/// Which subject a login is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// No link: the template's subject ([`Citizen::subject`]).
    Template,
    /// Linked to this subject (the template's was not enrolled, or is this
    /// one).
    Linked(String),
    /// Linked to one subject while the template maps to another that is
    /// enrolled: refused until a health authority corrects it.
    Conflict,
}

impl Resolution {
    /// The subject whose pass the login gets; `None` for a conflict.
    pub fn subject<'a>(&'a self, citizen: &'a Citizen) -> Option<&'a str> {
        match self {
            Resolution::Template => Some(&citizen.subject),
            Resolution::Linked(subject) => Some(subject),
            Resolution::Conflict => None,
        }
    }

    /// Whether the template's subject, not enrolled when this was
    /// resolved, would turn it into a conflict once enrolled.
    pub(super) fn waits_on_template(&self, citizen: &Citizen) -> bool {
        matches!(self, Resolution::Linked(subject) if *subject != citizen.subject)
    }
}

/// Resolve `citizen`'s login from the store: its link, if any, and then
/// whether the template's subject is enrolled.
pub async fn resolve(store: &StoreReader, citizen: &Citizen) -> Result<Resolution, StoreError> {
    let Some(linked) = store.linked_subject(&citizen.issuer, &citizen.sub).await? else {
        return Ok(Resolution::Template);
    };
    if linked == citizen.subject || !store.subject_exists(&citizen.subject).await? {
        Ok(Resolution::Linked(linked))
    } else {
        Ok(Resolution::Conflict)
    }
}
