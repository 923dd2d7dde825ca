//! Consent rules, as pure functions: how long a granted consent may be valid, how long a
//! recipient has to answer a request, and what state a book entry stands for at an
//! instant. Every adapter (the API, the staff pages, CSV) checks input with these, and the
//! ledger decides reveals with [`ConsentState::of_book`], so the rules exist once.

use crate::event::ConsentState;
use std::ops::RangeInclusive;

/// The validity a granted consent may be given, in days: a day to ten years.
pub const VALID_DAYS: RangeInclusive<u32> = 1..=3650;

/// The time a recipient is given to answer a delegated request, in days.
pub const RESPONSE_DAYS: RangeInclusive<u32> = 3..=30;

const DAY_MS: i64 = 86_400_000;

/// A rule an input breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// A validity outside [`VALID_DAYS`].
    #[error("valid_days must be between 1 and 3650")]
    ValidDays,
    /// A response window outside [`RESPONSE_DAYS`].
    #[error("response_days must be between 3 and 30")]
    ResponseDays,
}

/// `days` if it is an allowed validity of a granted consent.
pub fn valid_days(days: u32) -> Result<u32, RuleError> {
    if VALID_DAYS.contains(&days) {
        Ok(days)
    } else {
        Err(RuleError::ValidDays)
    }
}

/// `days` if it is an allowed response window of a delegated request.
pub fn response_days(days: u32) -> Result<u32, RuleError> {
    if RESPONSE_DAYS.contains(&days) {
        Ok(days)
    } else {
        Err(RuleError::ResponseDays)
    }
}

/// When a consent granted at `from` (Unix ms) for `days` lapses, in Unix ms.
pub fn lapses_at(from: i64, days: u32) -> i64 {
    from.saturating_add(i64::from(days).saturating_mul(DAY_MS))
}

impl ConsentState {
    /// The state a book entry (`status` as stored, with the `valid_until` of a grant)
    /// stands for at `now`: what the contact view shows and what a reveal is decided on.
    /// A grant whose validity has run out is expired; a stored state this build does not
    /// know is [`ConsentState::None`], which never allows a reveal.
    pub fn of_book(status: &str, valid_until: Option<i64>, now: i64) -> ConsentState {
        match status {
            "granted" if valid_until.is_some_and(|v| v <= now) => ConsentState::Expired,
            "granted" => ConsentState::Granted,
            "refused" => ConsentState::Refused,
            "revoked" => ConsentState::Revoked,
            "pending" => ConsentState::Pending,
            "expired" => ConsentState::Expired,
            _ => ConsentState::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_have_their_bounds_and_nothing_beyond() {
        assert_eq!(valid_days(0), Err(RuleError::ValidDays));
        assert_eq!(valid_days(1), Ok(1));
        assert_eq!(valid_days(3650), Ok(3650));
        assert_eq!(valid_days(3651), Err(RuleError::ValidDays));
        assert_eq!(response_days(2), Err(RuleError::ResponseDays));
        assert_eq!(response_days(3), Ok(3));
        assert_eq!(response_days(30), Ok(30));
        assert_eq!(response_days(31), Err(RuleError::ResponseDays));
        assert_eq!(lapses_at(1_000, 2), 1_000 + 2 * 86_400_000);
        assert_eq!(lapses_at(i64::MAX - 1, 3650), i64::MAX);
    }

    #[test]
    fn a_grant_lapses_at_its_end_and_unknown_states_allow_nothing() {
        let s = |st, until| ConsentState::of_book(st, until, 100);
        assert_eq!(s("granted", None), ConsentState::Granted);
        assert_eq!(s("granted", Some(101)), ConsentState::Granted);
        assert_eq!(s("granted", Some(100)), ConsentState::Expired);
        assert_eq!(s("refused", None), ConsentState::Refused);
        assert_eq!(s("revoked", None), ConsentState::Revoked);
        assert_eq!(s("pending", None), ConsentState::Pending);
        assert_eq!(s("expired", None), ConsentState::Expired);
        assert_eq!(s("GRANTED", None), ConsentState::None);
        assert_eq!(s("", None), ConsentState::None);
    }
}
