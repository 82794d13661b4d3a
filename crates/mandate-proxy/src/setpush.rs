//! RFC 8935 push delivery of the broker's Security Event Tokens: every SET the broker
//! issues (a task revoked by the deviation monitor, as CAEP `session-revoked`) is POSTed
//! to each configured receiver as `application/secevent+jwt`; a receiver acknowledges
//! with `202 Accepted`. A receiver that cannot be reached is tried again (three times,
//! backing off); one that answers `400` refused the SET (its `err` is logged). The SETs
//! stay available to pull at `GET /v1/events` either way.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use mandate_broker::Broker;
use mandate_types::Url;

use crate::client::HttpClient;

/// Tries per receiver and SET.
const ATTEMPTS: u32 = 3;
/// How long one delivery may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Pushes every SET the broker issues from now on to `receivers`, until the broker is
/// dropped or the task is aborted.
pub async fn transmit(broker: Arc<Broker>, receivers: Vec<Url>) {
    let tls = match crate::tls::upstream_config(broker.settings().proxy_upstream_ca.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "SET push disabled: no TLS configuration");
            return;
        }
    };
    let client = HttpClient::new(tls, broker.settings().resolve.clone(), DELIVERY_TIMEOUT);
    let mut after = 0;
    loop {
        for (n, set) in broker.events(after, Duration::from_secs(30)).await {
            after = after.max(n);
            for r in &receivers {
                let (client, url, set) = (client.clone(), r.as_str().to_owned(), set.clone());
                tokio::spawn(async move { deliver(&client, &url, set).await });
            }
        }
    }
}

async fn deliver(client: &HttpClient, url: &str, set: String) {
    let headers = [
        ("content-type", "application/secevent+jwt".to_owned()),
        ("accept", "application/json".to_owned()),
    ];
    let body = Bytes::from(set);
    for attempt in 0..ATTEMPTS {
        match client
            .request(hyper::Method::POST, url, &headers, body.clone())
            .await
        {
            Ok((202, _)) => {
                metrics::counter!("mandate_set_push_total", "outcome" => "accepted").increment(1);
                return;
            }
            Ok((400, answer)) => {
                let answer = String::from_utf8_lossy(&answer).into_owned();
                tracing::warn!(receiver = url, %answer, "a SET receiver refused the SET");
                metrics::counter!("mandate_set_push_total", "outcome" => "refused").increment(1);
                return;
            }
            Ok((status, _)) => {
                tracing::warn!(receiver = url, status, attempt, "SET push failed");
            }
            Err(e) => tracing::warn!(error = %e, attempt, "SET push failed"),
        }
        tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
    }
    metrics::counter!("mandate_set_push_total", "outcome" => "failed").increment(1);
}
