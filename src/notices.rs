//! What decisions read from dormant's own past: the notices sent, and when
//! dormant deactivated each user. An input to the evaluator like the users
//! (which keeps it pure), filled from the journal (`journal::Notices::read`)
//! and below both, so that neither reaches up to the other.

use crate::time::Time;
use crate::user::{Deactivated, Origin, Status, User};
use std::collections::HashMap;

/// What plans read from the journal: the latest notice sent to each user
/// under each rule, and when each user was last deactivated.
#[derive(Debug, Clone, Default)]
pub struct Notices {
    /// user id → rule → when.
    latest: HashMap<String, HashMap<String, Time>>,
    /// user id → the last confirmed deactivation not undone since.
    deactivated: HashMap<String, Time>,
}

impl Notices {
    pub fn new() -> Self {
        Notices::default()
    }

    /// Records a notice (keeping the latest per user and rule).
    pub fn add(&mut self, user: &str, rule: &str, at: Time) {
        let slot = self
            .latest
            .entry(user.to_string())
            .or_default()
            .entry(rule.to_string())
            .or_insert(at);
        if at > *slot {
            *slot = at;
        }
    }

    pub fn latest(&self, user: &str, rule: &str) -> Option<Time> {
        self.latest.get(user)?.get(rule).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.latest.is_empty() && self.deactivated.is_empty()
    }

    /// When dormant last deactivated this user, if it did and nothing
    /// undid it since.
    pub fn deactivated(&self, user: &str) -> Option<Time> {
        self.deactivated.get(user).copied()
    }

    /// Gives `deactivated` from the journal to the users the platform shows
    /// disabled (SPEC section 2: the platform where it says, else the
    /// journal). A user who is not disabled keeps it unknown: the journal's
    /// deactivation was undone outside dormant, or the status cannot be
    /// told, and a time would make an old deactivation look like the
    /// current one. Where both say, the later time wins: a platform's date
    /// can be left from an earlier disabling (DocSpace keeps `terminated`
    /// when a status change alone re-enables and disables again), and
    /// counting from the later one never deletes anyone sooner.
    pub fn fill_deactivated(&self, users: &mut [User]) {
        if self.deactivated.is_empty() {
            return;
        }
        for u in users {
            if u.status != Some(Status::Disabled) {
                continue;
            }
            let Some(at) = self.deactivated(&u.id) else { continue };
            if u.deactivated.is_none_or(|d| d.at < at) {
                u.deactivated = Some(Deactivated {
                    at,
                    from: Origin::Journal,
                });
            }
        }
    }

    /// Records that dormant deactivated this user at `at`.
    pub(crate) fn set_deactivated(&mut self, user: &str, at: Time) {
        self.deactivated.insert(user.to_string(), at);
    }

    /// Records that dormant reactivated this user.
    pub(crate) fn clear_deactivated(&mut self, user: &str) {
        self.deactivated.remove(user);
    }
}
