//! Where the phone's passes come from; the verdict and its JSON (with
//! exactly the field names, order and codes of `sealpass-verifier --json`,
//! docs/verifier.md) are `sealpass_checkpoint::Verdict`'s.

use sealpass_checkpoint::Source;

/// Where a pass came from: the camera (and which code in the frame, from
/// 0), or typed into the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Camera { symbol: usize },
    Typed,
}

impl Origin {
    /// As the verdict's JSON names it: `"camera"` with its `symbol`, or
    /// `"typed"`.
    pub fn source(self) -> Source<'static> {
        match self {
            Origin::Camera { symbol } => Source {
                name: "camera",
                line: None,
                symbol: Some(Some(symbol)),
            },
            Origin::Typed => Source {
                name: "typed",
                line: None,
                symbol: None,
            },
        }
    }
}
