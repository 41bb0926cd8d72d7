//! A real editor client. Starts `taplo lsp stdio`, the language server of the Even Better TOML
//! extension, opens a catalogue that names the committed schema on its `#:schema` line, and asks
//! what an editor asks while a user types: completion in a service table and in `kind = "`,
//! and hover on a key.

mod common;

use common::{repo_root, tool};
use serde_json::{Value, json};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// Generous: the server loads and compiles the schema on first use.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// A catalogue being written: `fraud` is complete, `web` an empty table so far.
const CATALOGUE: &str = r#"#:schema ./muster.schema.json

[services.fraud]
kind = "ai-model"
build = "../ai-services/fraud"
healthcheck = { start_period = "60s" }

[services.web]

"#;
const HEALTHCHECK_LINE: u32 = 5;
const EMPTY_LINE_IN_WEB: u32 = 8;
/// Where `kind = "` lands when typed at the end of [`CATALOGUE`]. Last, because Taplo's parser
/// reads the rest of a file after an unterminated string as broken, hover included.
const KIND_LINE: u32 = 9;

/// A language server speaking JSON-RPC with `Content-Length` framing over its stdio.
struct LanguageServer {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
    log: PathBuf,
}

impl LanguageServer {
    fn start(root: &Path) -> Self {
        let log = root.join("taplo.log");
        let mut child = tool("taplo")
            .args(["lsp", "stdio"])
            .current_dir(root)
            // Taplo fetches the SchemaStore catalogue when it opens a workspace; through this
            // proxy the attempt fails at once on the loopback interface instead of going out.
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).expect("a log file for taplo"))
            .spawn()
            .expect("taplo lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (sender, messages) = channel();
        // A reader thread, so that waiting for an answer can time out instead of hanging.
        std::thread::spawn(move || {
            let mut stdout = stdout;
            while let Some(message) = read_message(&mut stdout) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        LanguageServer {
            child,
            stdin,
            messages,
            next_id: 1,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len())
            .and_then(|()| self.stdin.flush())
            .expect("the language server reads its stdin");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its result.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = json!(self.next_id);
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let answer = self.wait_for(method, |m| m.get("method").is_none() && m["id"] == id);
        assert!(answer.get("error").is_none(), "{method} failed: {answer}");
        answer["result"].clone()
    }

    /// Waits for the diagnostics of `uri`, which the server publishes once it has read the
    /// document: requests sent before then could race the server's own handling of it.
    fn wait_for_diagnostics(&mut self, uri: &str) {
        self.wait_for("diagnostics", |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
    }

    /// The first message `wanted` accepts, answering the server's own requests meanwhile.
    fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            let message = match self
                .messages
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {what} in time; taplo's log:\n{}", self.log())
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "taplo lsp exited ({:?}) before {what}; its log:\n{}",
                    self.child.try_wait(),
                    self.log()
                ),
            };
            if wanted(&message) {
                return message;
            }
            match (message.get("id"), message.get("method")) {
                // An editor's settings, one per item asked for: no schema catalogues, so that
                // the `#:schema` line alone picks the schema.
                (Some(server_id), Some(request)) if request == "workspace/configuration" => {
                    let items = message["params"]["items"].as_array().map_or(0, Vec::len);
                    let settings = vec![json!({ "schema": { "catalogs": [] } }); items];
                    let answer = json!({ "jsonrpc": "2.0", "id": server_id, "result": settings });
                    self.send(&answer);
                }
                (Some(server_id), Some(_)) => {
                    let answer = json!({ "jsonrpc": "2.0", "id": server_id, "result": null });
                    self.send(&answer);
                }
                _ => {}
            }
        }
    }

    fn at(&mut self, method: &str, uri: &str, line: u32, character: u32) -> Value {
        self.request(
            method,
            json!({
                "textDocument": { "uri": uri },
                "position": { "line": line, "character": character },
            }),
        )
    }
}

impl Drop for LanguageServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One framed message, or `None` once the server closed its stdout.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length:") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// The labels of a completion answer, a list or a `CompletionList`.
fn labels(answer: &Value) -> Vec<String> {
    let items = answer
        .get("items")
        .unwrap_or(answer)
        .as_array()
        .unwrap_or_else(|| panic!("not a completion answer: {answer}"));
    items
        .iter()
        .map(|i| {
            i["label"]
                .as_str()
                .unwrap_or_default()
                .trim_matches('"')
                .to_owned()
        })
        .collect()
}

#[test]
fn taplo_completes_keys_and_kinds_and_shows_hover_docs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_root().join("muster.schema.json"),
        dir.path().join("muster.schema.json"),
    )
    .unwrap();
    let catalogue = dir.path().join("services.toml");
    std::fs::write(&catalogue, CATALOGUE).unwrap();
    let root_uri = format!("file://{}", dir.path().display());
    let uri = format!("file://{}", catalogue.display());

    let mut server = LanguageServer::start(dir.path());
    server.request(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": root_uri,
            "workspaceFolders": [{ "uri": root_uri, "name": "catalogue" }],
            "capabilities": {
                "textDocument": {
                    "completion": { "completionItem": { "documentationFormat": ["markdown"] } },
                    "hover": { "contentFormat": ["markdown", "plaintext"] },
                },
            },
        }),
    );
    server.notify("initialized", json!({}));
    server.notify(
        "textDocument/didOpen",
        json!({
            "textDocument": { "uri": uri, "languageId": "toml", "version": 1, "text": CATALOGUE },
        }),
    );
    server.wait_for_diagnostics(&uri);

    let start_period = CATALOGUE.lines().nth(HEALTHCHECK_LINE as usize).unwrap();
    let column = start_period.find("start_period").unwrap() as u32 + 3;
    let hover = server.at("textDocument/hover", &uri, HEALTHCHECK_LINE, column);
    assert!(
        hover["contents"]
            .to_string()
            .contains("Time the container gets to boot"),
        "hover on start_period: {hover}"
    );

    let keys = labels(&server.at("textDocument/completion", &uri, EMPTY_LINE_IN_WEB, 0));
    for key in [
        "kind",
        "image",
        "build",
        "port",
        "depends_on",
        "healthcheck",
        "profiles",
    ] {
        assert!(keys.iter().any(|k| k == key), "no `{key}` among {keys:?}");
    }

    let typing = format!("{CATALOGUE}kind = \"");
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": 2 },
            "contentChanges": [{ "text": typing }],
        }),
    );
    server.wait_for_diagnostics(&uri);
    let kinds = labels(&server.at("textDocument/completion", &uri, KIND_LINE, 8));
    for kind in ["db", "cache", "ai-model", "celery-worker", "job"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "no `{kind}` among {kinds:?}"
        );
    }

    // A layer's `reset` names keys: the editor offers them.
    let typing = format!("{CATALOGUE}kind = \"http\"\nreset = [\"");
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": 3 },
            "contentChanges": [{ "text": typing }],
        }),
    );
    server.wait_for_diagnostics(&uri);
    let keys = labels(&server.at("textDocument/completion", &uri, KIND_LINE + 1, 10));
    for key in ["gpus", "env", "depends_on", "compose"] {
        assert!(
            keys.iter().any(|k| k == key),
            "no `{key}` among {keys:?} for `reset`"
        );
    }
}
