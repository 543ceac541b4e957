//! Where the command line's passes come from, as shown beside their
//! verdicts; the verdict itself is `sealpass_checkpoint::Verdict`.

use crate::state::SetupError;
use sealpass_checkpoint::{Source, Verdict};

/// Where a pass came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Argument,
    /// The n-th line read from standard input, from 1.
    Line(u64),
    /// An image, and which code in it (from 0), if one was found.
    Image {
        path: String,
        symbol: Option<usize>,
    },
}

impl Origin {
    /// As the `--json` line names it.
    pub fn source(&self) -> Source<'_> {
        let (name, line, symbol) = match self {
            Origin::Argument => ("argument", None, None),
            Origin::Line(n) => ("stdin", Some(*n), None),
            Origin::Image { path, symbol } => (path.as_str(), None, Some(*symbol)),
        };
        Source { name, line, symbol }
    }
}

/// This verifier cannot decide anything right now.
pub fn setup(error: &SetupError) -> Verdict {
    Verdict::setup(error.code(), error.to_string())
}
