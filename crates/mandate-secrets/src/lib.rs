//! Secrets the agent never holds.
//!
//! A secret is stored encrypted at rest ([`SecretStore`]: ChaCha20-Poly1305, one random
//! nonce per value, the secret's name and binding as associated data, so a value cannot be
//! moved to another name or host without the key) and bound to the destinations where it
//! may be used and the header or query parameter it goes in ([`Binding`]). A task that
//! holds a secret gets a [`placeholder`](Placeholders::placeholder) in its place: random to
//! anyone without the key, bound to the task and the secret, and swapped for the value
//! only by Mandate's egress proxy, only towards a bound host.

#![forbid(unsafe_code)]

mod binding;
mod error;
mod placeholder;
mod store;

pub use binding::{Binding, Destination, Location, Mint, SecretName};
pub use error::SecretError;
pub use placeholder::{FoundPlaceholder, Placeholders, find_placeholders};
pub use store::{MAX_VALUE, SecretStore, SecretValue};
