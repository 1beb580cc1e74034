//! What a plan decides for one user: the action, who decided, and the
//! account state that makes an action already done. Below both the
//! evaluator that makes decisions and the plans and connectors that carry
//! them out, so that neither reaches up to the other.

use crate::ast::Action;
use crate::time::Time;
use crate::user::Status;
use serde::Serialize;

/// What a plan does with a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanAction {
    Keep,
    Review,
    Notify,
    Wait,
    Deactivate,
    Delete,
}

impl PlanAction {
    pub const ALL: [PlanAction; 6] = [
        PlanAction::Keep,
        PlanAction::Review,
        PlanAction::Notify,
        PlanAction::Wait,
        PlanAction::Deactivate,
        PlanAction::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlanAction::Keep => "keep",
            PlanAction::Review => "review",
            PlanAction::Notify => "notify",
            PlanAction::Wait => "wait",
            PlanAction::Deactivate => "deactivate",
            PlanAction::Delete => "delete",
        }
    }

    /// The word people read for this action: on a platform where
    /// deactivating is a revoke of permissions and groups (Huwise), a
    /// plan says "revoke". Machines read `as_str`.
    pub fn word(self, revoke: bool) -> &'static str {
        match self {
            PlanAction::Deactivate if revoke => "revoke",
            other => other.as_str(),
        }
    }

    pub fn parse(text: &str) -> Option<PlanAction> {
        PlanAction::ALL.into_iter().find(|a| a.as_str() == text)
    }

    /// The rule action this plan action carries out, if any (for limits).
    pub fn limited_as(self) -> Option<Action> {
        match self {
            PlanAction::Notify => Some(Action::Notify),
            PlanAction::Deactivate => Some(Action::Deactivate),
            PlanAction::Delete => Some(Action::Delete),
            _ => None,
        }
    }

    pub(crate) fn from_rule(action: Action) -> PlanAction {
        match action {
            Action::Keep => PlanAction::Keep,
            Action::Notify => PlanAction::Notify,
            Action::Deactivate => PlanAction::Deactivate,
            Action::Delete => PlanAction::Delete,
        }
    }
}

/// Who decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decider {
    /// The rule at this index of `Program::rules`.
    Rule(usize),
    /// The exemption at this index of `Program::exempts`.
    Exempt(usize),
    /// No rule matched.
    Nobody,
}

/// The decision for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub action: PlanAction,
    pub decider: Decider,
    /// `notify` under `after notice`: when the rule's action becomes due if
    /// notified now. `wait`: when the notice period ends.
    pub due: Option<Time>,
    /// The notice this decision counts from, for `wait` and an acted-on notice.
    pub notified: Option<Time>,
    /// The account is already in the state this action would put it in
    /// (`disabled` for a deactivate, `pending_delete` for a delete or a
    /// deactivate), or, for a notify, in a state where it cannot read a
    /// notice: nothing is sent, and limits do not count it.
    pub already: Option<Status>,
    /// A `review` because the rule needs a notice first and the account,
    /// in this state, cannot be sent one: a person decides, since the
    /// policy's notice is never silently waived.
    pub cannot_notify: Option<Status>,
}

impl Decision {
    pub(crate) fn by(decider: Decider, action: PlanAction) -> Decision {
        Decision {
            action,
            decider,
            due: None,
            notified: None,
            already: None,
            cannot_notify: None,
        }
    }

    /// Whether apply sends anything for this decision.
    pub fn sends(&self) -> bool {
        self.already.is_none() && self.action.limited_as().is_some()
    }
}

/// The account state that makes `action` already done (or, for a notice,
/// pointless and impossible): a disabled or pending-deletion account is
/// never sent a notice, nor deactivated again; one pending deletion is
/// not deleted again. A disabled account can still be deleted, and, where
/// deactivating is a revoke (`revoke`), still revoked: being unable to
/// sign in is not having no permissions. An unknown status is not taken
/// for either: the action stays as the rule says.
pub fn already(action: PlanAction, status: Option<Status>, revoke: bool) -> Option<Status> {
    let status = status?;
    let done = match action {
        PlanAction::Notify => matches!(status, Status::Disabled | Status::PendingDelete),
        PlanAction::Deactivate => status == Status::PendingDelete || (status == Status::Disabled && !revoke),
        PlanAction::Delete => status == Status::PendingDelete,
        _ => false,
    };
    done.then_some(status)
}
