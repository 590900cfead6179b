//! The privacy mailbox's ways in (seed 7, 8, 9): an IMAP reader ([`imap`]) for a mailbox
//! the operator already has, and an SMTP listener ([`smtp`]) for an address routed to
//! custos. Both hand each mail to [`custos_engine::inbox::Inbox`].

pub mod imap;
pub mod smtp;

pub use imap::{ImapError, ImapReader, ImapSettings};
pub use smtp::SmtpListener;
