//! The proxy's own answers: refusals that say why and what to do.

use hyper::{Response, StatusCode, header};
use mandate_types::{Decision, Verdict};

use crate::body::Body;

/// A plain-text answer.
pub fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(crate::body::full(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// 407: the request names no task, or a task that is not live.
pub fn need_task(why: &str) -> Response<Body> {
    let mut r = text(
        StatusCode::PROXY_AUTHENTICATION_REQUIRED,
        format!(
            "Mandate's egress proxy needs a live task's credential: {why}\n\
             Run the program under `mandate run`, which sets HTTP_PROXY and HTTPS_PROXY with the task's token.\n"
        ),
    );
    r.headers_mut().insert(
        header::PROXY_AUTHENTICATE,
        header::HeaderValue::from_static("Basic realm=\"mandate\""),
    );
    r
}

/// 403 for a decision that is not an allow, with its reasons and how to allow it.
pub fn refused(target: &str, d: &Decision) -> Response<Body> {
    let mut body = format!("Mandate refused {target}:\n");
    for r in &d.reasons {
        body.push_str(&format!("  - {} ({})\n", r.message, r.policy));
    }
    if d.decision == Verdict::Ask {
        body.push_str(
            "This needs a person's approval, and the proxy cannot ask one. \
             If it is intended, start the task with --allow-host for the host.\n",
        );
    }
    body.push_str(&format!("decision {}\n", d.decision_id));
    let mut r = text(StatusCode::FORBIDDEN, body);
    if let Ok(v) = header::HeaderValue::from_str(d.decision_id.as_str()) {
        r.headers_mut().insert("x-mandate-decision", v);
    }
    r
}
