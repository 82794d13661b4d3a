//! The one body type the proxy passes on, in requests and answers.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};

/// The error of a body the proxy passes on.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body type of every request and answer the proxy passes on.
pub type Body = BoxBody<Bytes, BoxError>;

/// A body from bytes.
pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into())
        .map_err(|never| -> BoxError { match never {} })
        .boxed()
}
