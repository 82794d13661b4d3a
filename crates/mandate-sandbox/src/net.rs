//! The network's one way out: connections to a loopback port inside the namespace are
//! relayed to a Unix socket outside it, and from there to the egress proxy. The proxy
//! then decides each request as it would any other of the task's.

use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::thread;

/// Copies both ways until each side has finished, then closes both.
pub fn relay<A, B>(a: A, b: B)
where
    A: io::Read + io::Write + Duplex + Send + 'static,
    B: io::Read + io::Write + Duplex + Send + 'static,
{
    let (Ok(mut a2), Ok(mut b2)) = (a.duplicate(), b.duplicate()) else {
        return;
    };
    let (mut a, mut b) = (a, b);
    let up = thread::spawn(move || {
        let _ = io::copy(&mut a, &mut b2);
        b2.close_write();
    });
    let _ = io::copy(&mut b, &mut a2);
    a2.close_write();
    let _ = up.join();
}

/// A stream whose halves can be used from two threads.
pub trait Duplex: Sized {
    fn duplicate(&self) -> io::Result<Self>;
    fn close_write(&self);
}

impl Duplex for TcpStream {
    fn duplicate(&self) -> io::Result<Self> {
        self.try_clone()
    }
    fn close_write(&self) {
        let _ = self.shutdown(Shutdown::Write);
    }
}

impl Duplex for UnixStream {
    fn duplicate(&self) -> io::Result<Self> {
        self.try_clone()
    }
    fn close_write(&self) {
        let _ = self.shutdown(Shutdown::Write);
    }
}

/// Inside the namespace: accepts on `listener` and relays each connection to the Unix
/// socket `outside`. Runs until the listener fails.
pub fn serve_into_unix(listener: TcpListener, outside: PathBuf) {
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let outside = outside.clone();
        thread::spawn(move || {
            if let Ok(up) = UnixStream::connect(&outside) {
                let _ = conn.set_nodelay(true);
                relay(conn, up);
            }
        });
    }
}

/// Outside the namespace: listens on the Unix socket `path` and relays each connection
/// to `proxy` (the egress proxy's TCP address). The socket is made 0600. Runs on its
/// own thread until `path` is removed or the listener fails.
pub fn serve_unix_to_tcp(path: &Path, proxy: String) -> io::Result<thread::JoinHandle<()>> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let proxy = proxy.clone();
            thread::spawn(move || {
                if let Ok(up) = TcpStream::connect(&proxy) {
                    let _ = up.set_nodelay(true);
                    relay(conn, up);
                }
            });
        }
    }))
}
