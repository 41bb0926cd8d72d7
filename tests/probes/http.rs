//! A one-thread HTTP server with a fixed answer, for the HTTP probe forms.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub enum Reply {
    Status(u16),
    /// Redirects to a login page that answers 200, as an app whose
    /// authentication guards its health endpoint does.
    RedirectToLogin,
    /// Reads the request and never answers: longer than any probe timeout.
    Silence,
}

pub struct HttpServer {
    port: u16,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Bounds how long a silent connection is held if the client never leaves.
const MAX_SILENCE: Duration = Duration::from_secs(60);
const READ_POLL: Duration = Duration::from_millis(100);
const LOGIN: &str = "/login";

impl HttpServer {
    pub fn start(reply: Reply) -> HttpServer {
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("cannot bind a loopback port");
        let port = listener.local_addr().expect("no local address").port();
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = thread::spawn({
            let stopping = Arc::clone(&stopping);
            move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        // A client that hangs up early is its own problem.
                        let _ = serve(stream, reply, &stopping);
                    }
                }
            }
        });
        HttpServer {
            port,
            stopping,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: TcpStream, reply: Reply, stopping: &AtomicBool) -> std::io::Result<()> {
    stream.set_read_timeout(Some(READ_POLL))?;
    let request = read_head(&mut stream, stopping)?;
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    match reply {
        Reply::Status(code) => answer(&mut stream, &request, code, ""),
        Reply::RedirectToLogin if path == LOGIN => answer(&mut stream, &request, 200, ""),
        Reply::RedirectToLogin => answer(
            &mut stream,
            &request,
            302,
            &format!("Location: {LOGIN}\r\n"),
        ),
        Reply::Silence => {
            let since = Instant::now();
            let mut buffer = [0; 512];
            while since.elapsed() < MAX_SILENCE && !stopping.load(Ordering::SeqCst) {
                match stream.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
    }
}

fn answer(stream: &mut TcpStream, request: &str, code: u16, headers: &str) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        302 => "Found",
        500 => "Internal Server Error",
        _ => "Other",
    };
    let body = if request.starts_with("HEAD ") {
        ""
    } else {
        "ok\n"
    };
    write!(
        stream,
        "HTTP/1.1 {code} {reason}\r\n{headers}Content-Type: text/plain\r\n\
         Content-Length: 3\r\nConnection: close\r\n\r\n{body}"
    )
}

/// Reads up to the blank line that ends a request's head.
fn read_head(stream: &mut TcpStream, stopping: &AtomicBool) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut buffer = [0; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !stopping.load(Ordering::SeqCst) {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}
