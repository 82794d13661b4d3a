//! One broker's life, shared by `mandate serve` and the broker `mandate run` embeds:
//! validate the configuration, open the store, bind, serve; on stop, drain the listeners,
//! sign the final audit checkpoint and close the store.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mandate_broker::config::{self, ConfigError, Settings};
use mandate_broker::{Broker, BrokerError};
use mandate_store::{SqliteStore, StoreError};
use mandate_types::api::ProxyInfo;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{ServeError, bind, serve};

/// Why a broker did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// The configuration, the policies or the key were refused (before any port was bound).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The broker could not load its state from the store.
    #[error(transparent)]
    Broker(#[from] BrokerError),
    /// A listener could not be bound.
    #[error(transparent)]
    Bind(#[from] ServeError),
    /// The egress proxy could not start.
    #[error(transparent)]
    Proxy(#[from] mandate_proxy::ProxyError),
}

/// A broker serving on its socket and TCP address. Must be stopped with
/// [`Running::stop`] so the final checkpoint is signed.
#[derive(Debug)]
pub struct Running {
    broker: Arc<Broker>,
    store: SqliteStore,
    addr: SocketAddr,
    proxy: Option<ProxyInfo>,
    stop: oneshot::Sender<()>,
    served: JoinHandle<()>,
    proxy_stop: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
    pushing: Option<JoinHandle<()>>,
}

/// Starts a broker over `settings`. Everything is validated before a port is bound.
pub async fn launch(settings: Settings) -> Result<Running, LaunchError> {
    let (engine, key) = config::prepare(&settings)?;
    let store = SqliteStore::open(&settings.db_path()).await?;
    let broker = Broker::open(settings.clone(), engine, Arc::new(store.clone()), key).await?;
    // The socket first: a second broker on the same data directory stops here.
    let bound = bind(settings.listen, &settings.socket_path()).await?;
    let (proxy, proxy_stop) = match settings.proxy_listen {
        Some(listen) => {
            let proxy = Arc::new(mandate_proxy::Proxy::new(broker.clone())?);
            let listener = mandate_proxy::bind(listen).await?;
            let info = ProxyInfo {
                listen: listener
                    .local_addr()
                    .map_or_else(|_| listen.to_string(), |a| a.to_string()),
                ca_cert: proxy.ca_path().display().to_string(),
            };
            let (stop, stopped) = oneshot::channel::<()>();
            let served = tokio::spawn(mandate_proxy::serve(listener, proxy, async move {
                let _ = stopped.await;
            }));
            (Some(info), Some((stop, served)))
        }
        None => (None, None),
    };
    // Security Event Tokens pushed to their receivers (RFC 8935), for as long as the
    // broker serves.
    let pushing = (!settings.set_receivers.is_empty()).then(|| {
        tokio::spawn(mandate_proxy::setpush::transmit(
            broker.clone(),
            settings.set_receivers.clone(),
        ))
    });
    let addr = bound.addr;
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(serve(broker.clone(), bound, proxy.clone(), async move {
        let _ = stopped.await;
    }));
    Ok(Running {
        broker,
        store,
        addr,
        proxy,
        stop,
        served,
        proxy_stop,
        pushing,
    })
}

impl Running {
    /// The TCP address bound (port 0 resolved).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn broker(&self) -> &Arc<Broker> {
        &self.broker
    }

    /// The egress proxy's address and CA, when it runs.
    pub fn proxy(&self) -> Option<&ProxyInfo> {
        self.proxy.as_ref()
    }

    /// Stops accepting, lets requests in flight finish (at most 5 s), signs the final
    /// checkpoint and closes the store.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Some(pushing) = self.pushing {
            pushing.abort();
        }
        if let Some((stop, served)) = self.proxy_stop {
            let _ = stop.send(());
            let _ = served.await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.served).await;
        self.broker.shutdown().await;
        let _ = self.store.checkpoint_wal().await;
        self.store.close().await;
    }
}
