//! Placeholders in a request body that streams through an intercepted connection: each
//! chunk is searched (with the end of the previous one, so a placeholder split across
//! chunks is found) and one that may not go to this host stops the body, which aborts
//! the request upstream.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use mandate_secrets::{FoundPlaceholder, find_placeholders};
use mandate_types::Reason;

use crate::body::{Body, BoxError};

/// Longest placeholder: prefix, a 64-character name, `_`, 40 hex digits.
const KEEP: usize = "mandate_ph_".len() + 64 + 1 + 40;

/// The body was stopped: it carried a placeholder that may not go where it was going.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.message)]
pub struct BodyRefused(pub Reason);

/// Judges placeholders found in a body; a refusal is reported once.
pub type Check = Arc<dyn Fn(&[FoundPlaceholder]) -> Result<(), Reason> + Send + Sync>;

/// A request body searched for placeholders as it streams.
pub struct ScannedBody {
    inner: Body,
    tail: Vec<u8>,
    check: Check,
    on_refusal: Option<Box<dyn FnOnce(Reason) + Send + Sync>>,
    stopped: bool,
}

impl ScannedBody {
    pub fn new(
        inner: Body,
        check: Check,
        on_refusal: Box<dyn FnOnce(Reason) + Send + Sync>,
    ) -> Self {
        Self {
            inner,
            tail: Vec::new(),
            check,
            on_refusal: Some(on_refusal),
            stopped: false,
        }
    }

    /// Searches `data` (after the kept tail); placeholders that end inside the tail were
    /// judged with the previous chunk.
    fn judge(&mut self, data: &[u8]) -> Result<(), Reason> {
        let mut window = std::mem::take(&mut self.tail);
        let kept = window.len();
        window.extend_from_slice(data);
        // Byte for byte: placeholders are ASCII, anything else cannot be part of one.
        let text: String = window
            .iter()
            .map(|&b| if b.is_ascii() { char::from(b) } else { '?' })
            .collect();
        let found: Vec<FoundPlaceholder> = find_placeholders(&text)
            .into_iter()
            .filter(|f| f.range.end > kept)
            .collect();
        let start = window.len().saturating_sub(KEEP);
        self.tail = window.split_off(start);
        if found.is_empty() {
            Ok(())
        } else {
            (self.check)(&found)
        }
    }
}

impl HttpBody for ScannedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.stopped {
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
            && let Err(reason) = self.judge(&data.clone())
        {
            self.stopped = true;
            if let Some(report) = self.on_refusal.take() {
                report(reason.clone());
            }
            return Poll::Ready(Some(Err(Box::new(BodyRefused(reason)))));
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.stopped || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    struct Chunks(std::collections::VecDeque<Bytes>);

    impl HttpBody for Chunks {
        type Data = Bytes;
        type Error = BoxError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
        }
    }

    fn body_of(chunks: Vec<&'static [u8]>) -> Body {
        BodyExt::boxed(Chunks(chunks.into_iter().map(Bytes::from_static).collect()))
    }

    fn scan(chunks: Vec<&'static [u8]>) -> (Result<Bytes, String>, Vec<String>) {
        let refused = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = refused.clone();
        let check: Check = Arc::new(|found: &[FoundPlaceholder]| {
            match found.iter().find(|f| f.name.as_str() == "OTHER") {
                Some(_) => Err(Reason::new(
                    "secret.placeholder-elsewhere",
                    "OTHER goes elsewhere",
                )),
                None => Ok(()),
            }
        });
        let body = ScannedBody::new(
            body_of(chunks),
            check,
            Box::new(move |r| seen.lock().unwrap().push(r.policy)),
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(async { body.collect().await.map(|c| c.to_bytes()) });
        let refused = refused.lock().unwrap().clone();
        (out.map_err(|e| e.to_string()), refused)
    }

    const MAC: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn a_placeholder_split_across_chunks_is_found() {
        let whole = format!("{{\"k\": \"mandate_ph_OTHER_{MAC}\"}}");
        let s: &'static str = Box::leak(whole.into_boxed_str());
        let (a, b) = s.split_at(20);
        let (out, refused) = scan(vec![a.as_bytes(), b.as_bytes()]);
        assert!(out.is_err());
        assert_eq!(refused, ["secret.placeholder-elsewhere"]);
    }

    #[test]
    fn bodies_without_foreign_placeholders_pass_unchanged() {
        let ok = format!("token=mandate_ph_MINE_{MAC}&x=\u{e9}t\u{e9}");
        let s: &'static str = Box::leak(ok.into_boxed_str());
        let (out, refused) = scan(vec![b"plain ", s.as_bytes()]);
        assert_eq!(out.unwrap(), Bytes::from(format!("plain {s}")));
        assert!(refused.is_empty());
    }
}
