//! One broker's life, shared by `mandate serve` and the broker `mandate run` embeds:
//! validate the configuration, open the store, bind, serve; on stop, drain the listeners,
//! sign the final audit checkpoint and close the store.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mandate_broker::config::{self, ConfigError, Settings};
use mandate_broker::{Broker, BrokerError};
use mandate_store::{SqliteStore, StoreError};
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
}

/// A broker serving on its socket and TCP address. Must be stopped with
/// [`Running::stop`] so the final checkpoint is signed.
#[derive(Debug)]
pub struct Running {
    broker: Arc<Broker>,
    store: SqliteStore,
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    served: JoinHandle<()>,
}

/// Starts a broker over `settings`. Everything is validated before a port is bound.
pub async fn launch(settings: Settings) -> Result<Running, LaunchError> {
    let (engine, key) = config::prepare(&settings)?;
    let store = SqliteStore::open(&settings.db_path()).await?;
    let broker = Broker::open(settings.clone(), engine, Arc::new(store.clone()), key).await?;
    let bound = bind(settings.listen, &settings.socket_path()).await?;
    let addr = bound.addr;
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(serve(broker.clone(), bound, async move {
        let _ = stopped.await;
    }));
    Ok(Running {
        broker,
        store,
        addr,
        stop,
        served,
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

    /// Stops accepting, lets requests in flight finish (at most 5 s), signs the final
    /// checkpoint and closes the store.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(5), self.served).await;
        self.broker.shutdown().await;
        let _ = self.store.checkpoint_wal().await;
        self.store.close().await;
    }
}
