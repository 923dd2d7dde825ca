//! Consent rules, as pure functions and types: how long a granted consent may be valid,
//! how long a recipient has to answer a request, what state a book entry stands for at an
//! instant, and the closed sets of names that travel through rows and handlers (request
//! and mail statuses, staff roles, purpose keys) as types rather than strings. Every adapter (the API, the staff pages, CSV) checks input with these, and the
//! ledger decides reveals with [`ConsentState::of_book`], so the rules exist once.

use crate::event::ConsentState;
use crate::proof::Decision;
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
    /// A purpose key that breaks [`Purpose`]'s rule.
    #[error("purpose must be 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit")]
    Purpose,
    /// A date of consent after the recording.
    #[error("given_at is in the future")]
    GivenAtFuture,
    /// A date of consent older than [`GIVEN_AT_MAX_AGE_DAYS`].
    #[error("given_at is more than 10 years old")]
    GivenAtTooOld,
}

/// How far back a stated date of consent (`given_at`) may go, in days: ten years, the
/// longest validity a consent may have ([`VALID_DAYS`]), so that no consent is recorded
/// that could no longer be valid at any validity, and a typo in the year (1926) is caught.
pub const GIVEN_AT_MAX_AGE_DAYS: u32 = 3650;

/// `given` (Unix ms) if it is an acceptable date of consent for a decision recorded at
/// `recorded` (Unix ms): not after it, and not more than [`GIVEN_AT_MAX_AGE_DAYS`] before.
pub fn given_at(given: i64, recorded: i64) -> Result<i64, RuleError> {
    if given > recorded {
        Err(RuleError::GivenAtFuture)
    } else if given < recorded.saturating_sub(i64::from(GIVEN_AT_MAX_AGE_DAYS) * DAY_MS) {
        Err(RuleError::GivenAtTooOld)
    } else {
        Ok(given)
    }
}

/// The instant a validity counts from: the date the consent was given if stated, else
/// the recording.
pub fn validity_start(given_at: Option<i64>, recorded: i64) -> i64 {
    given_at.unwrap_or(recorded)
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
    /// The state a book entry (`stored`, with the `valid_until` of a grant) stands for at
    /// `now`: what the contact view shows and what a reveal is decided on. A grant whose
    /// validity has run out is expired.
    pub fn of_book(stored: ConsentState, valid_until: Option<i64>, now: i64) -> ConsentState {
        match stored {
            ConsentState::Granted if valid_until.is_some_and(|v| v <= now) => ConsentState::Expired,
            other => other,
        }
    }
}

/// Defines a closed set of names as an enum with its wire spelling both ways.
macro_rules! spelled {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stored and wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// Parses the spelling; nothing else.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

spelled! {
    /// Where a delegated consent request stands.
    RequestStatus {
        /// Sent, waiting for the recipient's answer.
        Pending = "pending",
        /// Answered: accepted.
        Granted = "granted",
        /// Answered: refused.
        Refused = "refused",
        /// Not answered within its window.
        Expired = "expired",
        /// Withdrawn by the sender, or cancelled by the recipient's erasure.
        Cancelled = "cancelled",
    }
}

impl RequestStatus {
    /// The status a request answered with `decision` takes (`None` for a revocation: a
    /// request is answered by accepting or refusing).
    pub fn answered_with(decision: Decision) -> Option<RequestStatus> {
        match decision {
            Decision::Granted => Some(RequestStatus::Granted),
            Decision::Refused => Some(RequestStatus::Refused),
            Decision::Revoked => None,
        }
    }

    /// Whether the request was answered (it then names its proof).
    pub fn answered(self) -> bool {
        matches!(self, RequestStatus::Granted | RequestStatus::Refused)
    }
}

spelled! {
    /// Where a request's e-mail stands.
    MailStatus {
        /// Waiting to be sent (or to be retried).
        Queued = "queued",
        /// Accepted by the mail server.
        Sent = "sent",
        /// Given up on, or not sent because the request was cancelled first.
        Failed = "failed",
    }
}

spelled! {
    /// What a sender's staff member may do in the web application.
    Role {
        /// Everything, including purposes, notices and users.
        Admin = "admin",
        /// The address book: contacts, imports, consents, requests.
        Operator = "operator",
        /// Reads and downloads only.
        Auditor = "auditor",
    }
}

impl Role {
    /// Whether the role changes the address book.
    pub fn can_write(self) -> bool {
        matches!(self, Role::Admin | Role::Operator)
    }
}

/// A purpose key, as a sender names a use of personal data (`newsletter`,
/// `lre.notifications`): 1 to 64 of `a-z 0-9 . _ -`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Purpose(String);

impl Purpose {
    /// Checks `s` against the rule.
    pub fn parse(s: &str) -> Result<Purpose, RuleError> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok {
            Ok(Purpose(s.to_owned()))
        } else {
            Err(RuleError::Purpose)
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Purpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_nothing_else_parses() {
        for s in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(*s));
        }
        for s in MailStatus::ALL {
            assert_eq!(MailStatus::parse(s.as_str()), Some(*s));
        }
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        assert_eq!(RequestStatus::parse("Pending"), None);
        assert_eq!(Role::parse("root"), None);
        assert!(Role::Operator.can_write() && !Role::Auditor.can_write());
        assert!(RequestStatus::Granted.answered() && !RequestStatus::Cancelled.answered());
    }

    #[test]
    fn purposes_follow_the_rule() {
        for ok in [
            "newsletter",
            "lre.notifications",
            "0day",
            "a_b-c.d",
            &"a".repeat(64),
        ] {
            assert_eq!(
                Purpose::parse(ok).map(|p| p.into_string()),
                Ok(ok.to_owned())
            );
        }
        for bad in ["", "-x", ".x", "News", "a b", "é", &"a".repeat(65)] {
            assert_eq!(Purpose::parse(bad), Err(RuleError::Purpose), "{bad:?}");
        }
    }

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
    fn a_date_of_consent_is_never_after_the_recording_nor_older_than_ten_years() {
        let now = 1_800_000_000_000;
        assert_eq!(given_at(now, now), Ok(now));
        assert_eq!(given_at(now - 5 * DAY_MS, now), Ok(now - 5 * DAY_MS));
        assert_eq!(given_at(now + 1, now), Err(RuleError::GivenAtFuture));
        let oldest = now - 3650 * DAY_MS;
        assert_eq!(given_at(oldest, now), Ok(oldest));
        assert_eq!(given_at(oldest - 1, now), Err(RuleError::GivenAtTooOld));
        // The validity counts from the date given, else from the recording.
        let given = now - 30 * DAY_MS;
        assert_eq!(
            lapses_at(validity_start(Some(given), now), 365),
            now + 335 * DAY_MS
        );
        assert_eq!(
            lapses_at(validity_start(None, now), 365),
            now + 365 * DAY_MS
        );
    }

    #[test]
    fn a_grant_lapses_at_its_end_and_unknown_states_allow_nothing() {
        let s = |st: &str, until| {
            ConsentState::parse(st).map(|st| ConsentState::of_book(st, until, 100))
        };
        assert_eq!(s("granted", None), Some(ConsentState::Granted));
        assert_eq!(s("granted", Some(101)), Some(ConsentState::Granted));
        assert_eq!(s("granted", Some(100)), Some(ConsentState::Expired));
        assert_eq!(s("refused", Some(100)), Some(ConsentState::Refused));
        assert_eq!(s("revoked", None), Some(ConsentState::Revoked));
        assert_eq!(s("pending", None), Some(ConsentState::Pending));
        assert_eq!(s("expired", None), Some(ConsentState::Expired));
        // Only the wire spellings parse: a stored state this build does not know is an
        // error where it is read, never a state that might allow a reveal.
        assert_eq!(s("GRANTED", None), None);
        assert_eq!(s("", None), None);
    }
}
