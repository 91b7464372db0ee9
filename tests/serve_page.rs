//! The page at `/` in a real browser: headless Chromium (Debian's `chromium`) loads it
//! from `partrec serve`, the shipped German example is chosen in its file input, its
//! columns are chosen in its form, and the answer it shows (classes of named tokens,
//! pinned and free tokens) is read from its DOM and compared with the command line's.
//!
//! Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
//! JSON messages ending in a NUL byte, read from its fd 3 and written to its fd 4), so no
//! WebSocket client is needed. Without Chromium the test records itself as skipped.

mod common;

use common::server::Server;
use common::{root, run, scratch, skip};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// The longest wait for one DevTools answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Chromium on the PATH: `chromium`, else `chromium-headless-shell`.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-headless-shell"]
        .iter()
        .find_map(|name| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
}

/// A headless Chromium and the DevTools session of one page; killed when dropped.
struct Browser {
    child: Child,
    /// Chromium's fd 3: commands.
    commands: ChildStdin,
    /// What Chromium writes on its fd 4: answers and events, one JSON value each.
    messages: Receiver<Value>,
    next_id: u64,
    /// The page's session, once attached (browser-level commands go without one).
    session: Option<String>,
}

impl Browser {
    /// Starts `binary` headless with a fresh profile in `profile`.
    fn launch(binary: &Path, profile: &Path) -> Browser {
        let log = std::fs::File::create(profile.join("chromium.log")).unwrap();
        let mut child = Command::new("sh")
            .arg("-c")
            // Standard input becomes fd 3 and standard output fd 4, as the pipe mode wants.
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>&2"#)
            .arg(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-pipe",
            ])
            .arg(format!(
                "--user-data-dir={}",
                profile.join("profile").display()
            ))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("chromium starts");
        let commands = child.stdin.take().unwrap();
        let output = child.stdout.take().unwrap();
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(output);
            let mut message = Vec::new();
            while reader.read_until(0, &mut message).is_ok_and(|n| n > 0) {
                if message.last() == Some(&0) {
                    message.pop();
                }
                if let Ok(value) = serde_json::from_slice(&message) {
                    if sender.send(value).is_err() {
                        break;
                    }
                }
                message.clear();
            }
        });
        Browser {
            child,
            commands,
            messages,
            next_id: 0,
            session: None,
        }
    }

    /// Sends `method` with `params` and waits (at most [`CALL_TIMEOUT`]) for its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = &self.session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.commands.write_all(&bytes).unwrap();
        self.commands.flush().unwrap();
        let end = Instant::now() + CALL_TIMEOUT;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let reply = self.messages.recv_timeout(left).unwrap_or_else(|e| {
                panic!("{method}: no answer within {CALL_TIMEOUT:?} ({e}); see chromium.log")
            });
            if reply["id"] == id {
                if let Some(error) = reply.get("error") {
                    panic!("{method}: {error}");
                }
                return reply["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page (promises awaited).
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression}: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Evaluates `expression` every 50 ms until it is truthy, for at most `within`;
    /// returns its value.
    fn wait_for(&mut self, what: &str, expression: &str, within: Duration) -> Value {
        let start = Instant::now();
        loop {
            let value = self.eval(expression);
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            if start.elapsed() > within {
                let status = self.eval("document.getElementById('status')?.textContent");
                panic!("{what}: not within {within:?}; the page's status line: {status}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Browser {
    /// Chooses `file` in the page's file input, as a person would.
    fn choose_file(&mut self, file: &Path) {
        let document = self.call("DOM.getDocument", json!({}));
        let input = self.call(
            "DOM.querySelector",
            json!({ "nodeId": document["root"]["nodeId"], "selector": "#file" }),
        );
        self.call(
            "DOM.setFileInputFiles",
            json!({ "files": [file], "nodeId": input["nodeId"] }),
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET /` over a plain connection: the status line and headers, and the body.
fn get_page(server: &Server) -> (String, String) {
    let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.to_ascii_lowercase(), body.to_string())
}

/// The nouns of the German table in first-seen order: token `t` of group 0 is the
/// `t`-th (the importer numbers a column's cells so).
fn nouns_in_order() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("instances/german/gender.csv")).unwrap();
    let mut nouns: Vec<String> = Vec::new();
    for line in text.lines().skip(1) {
        let noun = line.split(',').next().unwrap().to_string();
        if !nouns.contains(&noun) {
            nouns.push(noun);
        }
    }
    nouns
}

/// Per group, each class the page lists as the names of its tokens.
const SHOWN_CLASSES: &str = r#"(() => {
  const out = [];
  for (const item of document.querySelectorAll('#partition li[data-class]')) {
    const g = Number(item.dataset.group);
    (out[g] = out[g] || []).push([...item.querySelectorAll('.token')].map((t) => t.textContent));
  }
  return out;
})()"#;

#[test]
fn the_page_solves_the_german_example_in_a_browser() {
    let Some(binary) = chromium() else {
        skip(
            "chromium",
            "neither chromium nor chromium-headless-shell is on the PATH (Debian package chromium)",
        );
        return;
    };
    let server = Server::start("page", &["-q"]);
    let (head, page) = get_page(&server);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert!(
        head.contains("content-security-policy: default-src 'none'"),
        "{head}"
    );
    // Everything inline: nothing to fetch from anywhere but this server.
    for external in ["http://", "https://", "src=", "<link"] {
        assert!(!page.contains(external), "the page names {external}");
    }

    let profile = scratch("page-chromium");
    let mut browser = Browser::launch(&binary, &profile);
    let target = browser.call("Target.createTarget", json!({ "url": server.url("/") }));
    let attached = browser.call(
        "Target.attachToTarget",
        json!({ "targetId": target["targetId"], "flatten": true }),
    );
    browser.session = Some(attached["sessionId"].as_str().unwrap().to_string());
    let ready = "document.readyState === 'complete' && !!document.getElementById('file')";
    browser.wait_for("the page to load", ready, Duration::from_secs(20));

    browser.choose_file(&root().join("instances/german/gender.csv"));
    let columns = "document.getElementById('value').options.length === 3";
    browser.wait_for("the header's columns", columns, Duration::from_secs(10));
    assert_eq!(
        browser.eval("[...document.getElementById('value').options].map((o) => o.value)"),
        json!(["noun", "context", "article"])
    );
    assert_eq!(
        browser.eval("document.getElementById('format').value"),
        "csv"
    );
    assert_eq!(
        browser.eval("document.getElementById('table-fields').hidden"),
        false
    );

    // Without a group column, the server's refusal is shown in words.
    browser.eval(
        "document.querySelectorAll('#groups button').forEach((b) => b.click());
         document.getElementById('run').click(); true",
    );
    let refused = "document.getElementById('status').classList.contains('error')
                   && document.getElementById('status').textContent";
    let refusal = browser.wait_for("the refusal", refused, Duration::from_secs(30));
    let refusal = refusal.as_str().unwrap();
    assert!(
        refusal.contains("HTTP 400") && refusal.contains("query.group"),
        "{refusal}"
    );

    // The columns chosen in the form, identify, and run.
    browser.eval(
        "const pick = (id, value) => {
           const select = document.getElementById(id);
           select.value = value;
           select.dispatchEvent(new Event('change', { bubbles: true }));
         };
         document.getElementById('add-group').click();
         document.getElementById('add-group').click();
         pick('group-1', 'noun');
         pick('group-2', 'context');
         pick('value', 'article');
         document.getElementById('classes').value = '3,7';
         document.getElementById('mode-identify').click();
         document.getElementById('run').click();
         true",
    );
    let shown = "!document.getElementById('result').hidden";
    browser.wait_for("the answer", shown, Duration::from_secs(60));

    let cli = common::german_on_the_command_line("gender.csv", &["--identify"], "page-german");
    let status = browser.eval("document.getElementById('status').textContent");
    assert!(status.as_str().unwrap().contains("sat"), "{status}");
    // The classes, with the tokens' names, exactly as the answer has them.
    let classes = browser.eval(SHOWN_CLASSES);
    assert_eq!(classes, cli["names"]);
    let class_of = |name: &str| {
        classes[0]
            .as_array()
            .unwrap()
            .iter()
            .position(|c| c.as_array().unwrap().iter().any(|n| n == name))
    };
    assert_eq!(class_of("Tisch"), class_of("Stuhl"));
    assert_ne!(class_of("Tisch"), class_of("Tasse"));
    let headings =
        browser.eval("[...document.querySelectorAll('#partition h4')].map((h) => h.textContent)");
    assert_eq!(headings, json!(["Group 1: noun", "Group 2: context"]));
    // Pinned and free tokens, from identify's answer.
    let counts = browser.eval("document.querySelector('#identify .counts').textContent");
    let expected = &cli["pinned_counts"][0];
    assert!(
        counts.as_str().unwrap().starts_with(&format!(
            "{} pinned, {} free",
            expected["pinned"], expected["free"]
        )),
        "{counts}"
    );
    let free = browser.eval(
        "[...document.querySelectorAll('#identify .free[data-group=\"0\"] .token')].map((t) => t.textContent)",
    );
    let nouns = nouns_in_order();
    let expected_free: Vec<&str> = cli["pinned"][0]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, pinned)| pinned == &&json!(false))
        .map(|(t, _)| nouns[t].as_str())
        .collect();
    assert_eq!(expected_free.len(), 10);
    assert_eq!(free, json!(expected_free));
    let blocks = browser.eval(
        "[...document.querySelectorAll('#identify li[data-group=\"0\"]')].map((b) => [...b.querySelectorAll('.token')].map((t) => t.textContent))",
    );
    assert_eq!(blocks, cli["frame_names"][0]);
    // The answer to download, as a Blob URL.
    let link = browser.eval(
        "[document.getElementById('download').href, document.getElementById('download').download]",
    );
    assert!(link[0].as_str().unwrap().starts_with("blob:"), "{link}");
    assert_eq!(link[1], "gender-answer.json");

    // A JSON instance and the same as .npz: its options go in the JSON body, or in the
    // query; the classes list token ids (the instance names none).
    let planted = root().join("instances/planted-small.json");
    let npz = scratch("page-npz").join("planted-small.npz");
    let converted = run(&[
        "convert",
        planted.to_str().unwrap(),
        npz.to_str().unwrap(),
        "-q",
    ]);
    assert!(converted.status.success(), "{converted:?}");
    let cli: Value = serde_json::from_slice(
        &run(&["solve", planted.to_str().unwrap(), "--unique", "-q"]).stdout,
    )
    .unwrap();
    let by_class: Vec<Vec<Vec<String>>> = cli["partition"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let row: Vec<u64> = serde_json::from_value(row.clone()).unwrap();
            let classes = row.iter().max().map_or(0, |&c| c + 1);
            (0..classes)
                .map(|c| {
                    (0..row.len())
                        .filter(|&t| row[t] == c)
                        .map(|t| t.to_string())
                        .collect()
                })
                .collect()
        })
        .collect();
    for (file, format) in [(&planted, "json"), (&npz, "npz")] {
        browser.choose_file(file);
        let name = file.file_name().unwrap().to_str().unwrap();
        browser.eval(
            "document.getElementById('mode-solve').click();
             document.getElementById('unique').checked = true;
             document.getElementById('run').click();
             true",
        );
        let done = format!(
            "!document.getElementById('result').hidden
             && document.getElementById('status').textContent.includes('{name}')"
        );
        browser.wait_for(name, &done, Duration::from_secs(60));
        assert_eq!(
            browser.eval("document.getElementById('format').value"),
            format
        );
        assert_eq!(
            browser.eval("document.getElementById('table-fields').hidden"),
            true
        );
        assert_eq!(browser.eval(SHOWN_CLASSES), json!(by_class), "{name}");
        let summary = browser.eval("document.getElementById('summary').textContent");
        assert!(summary.as_str().unwrap().contains("only one"), "{summary}");
    }
    browser.session = None;
    browser.call("Browser.close", json!({}));
}
