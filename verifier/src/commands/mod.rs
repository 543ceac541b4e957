//! One module per subcommand, sharing the global options in [`Context`].

pub mod listen;
pub mod scan;
pub mod status;
pub mod sync;
pub mod verify;

use crate::checkpoint::Checkpoint;
use crate::clock::Clock;
use crate::output::{self, Style};
use crate::state::{SetupError, StateDir};
use crate::verdict::Origin;
use crate::zone::Zone;
use sealpass_checkpoint::{Outcome, Verdict};
use sealpass_core::{CheckpointPolicy, Seconds, Timestamp};
use std::io::Write;

pub struct Context {
    pub state: StateDir,
    pub policy: CheckpointPolicy,
    pub clock: Clock,
    pub clock_skew: Seconds,
    pub json: bool,
    pub style: Style,
}

impl Context {
    pub fn new(
        state: StateDir,
        policy: CheckpointPolicy,
        clock_skew: Seconds,
        json: bool,
        utc: bool,
    ) -> anyhow::Result<Context> {
        let clock = Clock::from_env()?;
        if let Some(warning) = clock.pinned_warning() {
            output::warn(&warning);
        }
        Ok(Context {
            state,
            policy,
            clock,
            clock_skew,
            json,
            style: Style::detect(if utc || json { Zone::Utc } else { Zone::Local }),
        })
    }

    /// The stored lists, ready to decide at `now`, or why nothing can be
    /// decided: the clock is checked first, then the lists are loaded.
    pub fn checkpoint(&self, now: Timestamp) -> Result<Checkpoint, SetupError> {
        self.check_clock(now)?;
        self.load_checkpoint(now)
    }

    /// Refuse a clock set back, loudly (see [`StateDir::check_clock`]).
    pub fn check_clock(&self, now: Timestamp) -> Result<(), SetupError> {
        let checked = self.state.check_clock(now, self.clock_skew);
        if let Err(e) = &checked {
            output::warn(&e.to_string());
        }
        checked
    }

    /// Load the stored lists; warnings about stale lists go to standard error.
    pub fn load_checkpoint(&self, now: Timestamp) -> Result<Checkpoint, SetupError> {
        let loaded = Checkpoint::load(
            &self.state,
            self.policy.clone(),
            self.clock_skew,
            now,
            self.style.zone,
        );
        if let Ok(checkpoint) = &loaded {
            checkpoint.warnings.iter().for_each(|w| output::warn(w));
        }
        loaded
    }

    /// Print one verdict, for people or as one JSON line, and return its outcome.
    pub fn emit(&self, verdict: &Verdict, origin: &Origin) -> Outcome {
        let mut stdout = std::io::stdout().lock();
        let text = if self.json {
            verdict.to_json(origin.source(), &self.policy.name) + "\n"
        } else {
            output::render(verdict, origin, self.style)
        };
        // A closed pipe must not turn into a panic; the exit code still tells.
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
        verdict.outcome
    }
}
