//! `mandate serve`: run the broker until SIGINT, SIGTERM or SIGHUP.

use std::path::{Path, PathBuf};

use mandate_broker::config::Overrides;

use crate::exit::{CliError, CliResult, Exit};
use crate::paths::absolute;
use crate::signals::Signals;

/// Serves on the Unix socket and `listen` until a signal; signs a final checkpoint.
pub fn serve(
    dir: &Path,
    listen: Option<String>,
    policy_dir: Option<PathBuf>,
    proxy_listen: Option<String>,
) -> CliResult {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MANDATE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal, not for log files and journald.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let o = Overrides {
        listen,
        policy_dir: policy_dir.map(|p| absolute(&p)),
        proxy_listen,
    };
    let settings = super::settings(dir, &o)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::io("starting the async runtime"))?;
    rt.block_on(async move {
        let mut signals = Signals::new();
        let running = mandate_server::launch(settings.clone()).await?;
        out!(
            "mandate: listening on http://{} and unix:{} (data dir {}, policy {})",
            running.addr(),
            settings.socket_path().display(),
            settings.data_dir.display(),
            &running.broker().engine().policy().hash()[..12]
        );
        if let Some(p) = running.proxy() {
            out!("mandate: egress proxy on http://{} (CA {})", p.listen, p.ca_cert);
        }
        tracing::info!(addr = %running.addr(), socket = %settings.socket_path().display(), "broker ready");
        signals.next().await;
        running.stop().await;
        tracing::info!("broker stopped");
        Ok(Exit::Success)
    })
}
