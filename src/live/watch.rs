//! What `up` and `status` learn of each service while it comes up: the engine's verdicts, and
//! the evidence of each new failed probe, read as it comes. A service whose evidence proves a
//! cause waiting cannot cure is failed at once; one whose evidence only suggests a cause is
//! shown with it and waited for.

use super::board::{Board, State, Verdict};
use super::diagnose::{self, Diagnosis};
use super::evidence::Look;
use super::plan::Plan;
use std::collections::HashMap;

/// What `up` has learnt of each service while it waits: the diagnoses it has printed, the
/// suspicions it shows, and the probe it last looked at, so that each new probe is read once.
pub(crate) struct Watch {
    /// Only the engine's verdict fails a service (`--wait-all`).
    wait_all: bool,
    /// The services whose diagnosis was printed, with it.
    pub(crate) told: HashMap<String, Diagnosis>,
    /// The newest probe (its start) each failing service was looked at for.
    looked: HashMap<String, String>,
    suspects: HashMap<String, String>,
}

impl Watch {
    pub(crate) fn new(wait_all: bool) -> Watch {
        Watch {
            wait_all,
            told: HashMap::new(),
            looked: HashMap::new(),
            suspects: HashMap::new(),
        }
    }

    /// Reads the board's news: a service the engine failed is diagnosed; a starting service
    /// with a new failed probe is looked at, and failed when the evidence proves a cause time
    /// cannot cure, else shown with what it suggests. Returns the diagnoses to print now.
    pub(crate) fn look(
        &mut self,
        plan: &Plan,
        board: &mut Board,
        look: &dyn Look,
    ) -> Vec<Diagnosis> {
        let mut news = Vec::new();
        for i in 0..board.services.len() {
            let r = &board.services[i];
            let Some(s) = plan.service(&r.service) else {
                continue;
            };
            if self.told.contains_key(&r.service) {
                continue;
            }
            if r.verdict == Verdict::Failed {
                news.push(diagnose::one(plan, board, look, s, r, None));
                continue;
            }
            let failing = r.failing_streak + r.start_failures;
            let newest = r
                .container
                .as_ref()
                .and_then(|c| c.state.health.as_ref())
                .and_then(|h| h.log.last())
                .map(|p| p.start.clone())
                .unwrap_or_default();
            if r.state != State::Starting
                || failing == 0
                || self.looked.get(&r.service) == Some(&newest)
            {
                continue;
            }
            self.looked.insert(r.service.clone(), newest);
            let d = diagnose::one(plan, board, look, s, r, None);
            if d.conclusive() && !self.wait_all {
                news.push(d);
            } else {
                self.suspects.insert(r.service.clone(), d.gist);
            }
        }
        for d in news.iter() {
            self.suspects.remove(&d.service);
            self.told.insert(d.service.clone(), d.clone());
        }
        for (service, d) in &self.told {
            board.fail(plan, service, &d.gist);
        }
        for (service, gist) in &self.suspects {
            board.suspect(service, gist);
        }
        news
    }
}
