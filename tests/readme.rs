//! Every shell example of README.md and of the manual (`docs/*.md`) runs as printed.
//!
//! The convention (also stated in `docs/index.md`): code blocks tagged `sh` or `bash`
//! are run line by line (a line ending in `\`, `|` or `&&` continues on the next);
//! blocks tagged `console` command by command (the `$ ` lines), and the output lines
//! under a command must appear in what it printed (`...` stands for anything; timings
//! such as `0.000 s` may differ). A command must exit 0 unless its `# ...` comment says
//! `exit N`. A block right after a `<!-- readme-test: skip (reason) -->` line is not
//! run. Each page's blocks run in page order in a scratch folder of its own holding a
//! copy of `instances/` and `docs/`, with the built `partrec` first on the `PATH`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The longest a single README command may take.
const COMMAND_LIMIT: Duration = Duration::from_secs(30);

/// One command of a block, with what it must exit with and print.
#[derive(Debug)]
struct Example {
    /// The README line where its block starts (for messages).
    line: usize,
    /// The shell text.
    command: String,
    /// The exit code its comment promises (0 when it says none).
    exit: i32,
    /// Output lines it must print (`console` blocks only).
    output: Vec<String>,
}

/// A block left out, and why.
#[derive(Debug)]
struct Skipped {
    line: usize,
    reason: String,
}

/// The exit code a command's trailing `# ...` comment promises: its last `exit N`.
fn promised_exit(command: &str) -> i32 {
    let Some(comment) = command.rfind(" # ").map(|i| &command[i..]) else {
        return 0;
    };
    comment
        .match_indices("exit ")
        .filter_map(|(i, w)| {
            let digits: String = comment[i + w.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .last()
        .unwrap_or(0)
}

/// Joins continued lines (`\`, `|`, `&&` at the end) into commands.
fn commands(lines: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for line in lines {
        if open {
            let last = out.last_mut().expect("a command is open");
            last.push('\n');
            last.push_str(line);
        } else {
            out.push(line.to_string());
        }
        let t = line.trim_end();
        open = t.ends_with('\\') || t.ends_with('|') || t.ends_with("&&");
    }
    out
}

/// Every runnable command of the README, in order, and the blocks skipped.
fn examples(readme: &str) -> (Vec<Example>, Vec<Skipped>) {
    let lines: Vec<&str> = readme.lines().collect();
    let (mut runs, mut skipped) = (Vec::new(), Vec::new());
    let mut skip: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        if let Some(rest) = line.strip_prefix("<!-- readme-test: skip (") {
            let reason = rest
                .strip_suffix(") -->")
                .expect("a skip marker ends in `) -->`");
            skip = Some(reason.to_string());
            i += 1;
            continue;
        }
        let Some(tag) = line.strip_prefix("```") else {
            if !line.is_empty() {
                skip = None;
            }
            i += 1;
            continue;
        };
        let start = i + 1;
        let end = start
            + lines[start..]
                .iter()
                .position(|l| l.trim_end() == "```")
                .unwrap_or_else(|| panic!("README line {start}: unclosed block"));
        let body = &lines[start..end];
        i = end + 1;
        if !matches!(tag, "sh" | "bash" | "console") {
            continue;
        }
        if let Some(reason) = skip.take() {
            skipped.push(Skipped {
                line: start,
                reason,
            });
            continue;
        }
        if tag == "console" {
            let mut current: Option<Example> = None;
            for l in body {
                if let Some(cmd) = l.strip_prefix("$ ") {
                    runs.extend(current.take());
                    if !cmd.starts_with('#') {
                        current = Some(Example {
                            line: start,
                            command: cmd.to_string(),
                            exit: promised_exit(cmd),
                            output: Vec::new(),
                        });
                    }
                } else if let Some(example) = current.as_mut() {
                    example.output.push(l.to_string());
                }
            }
            runs.extend(current);
        } else {
            let code: Vec<&str> = body
                .iter()
                .copied()
                .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .collect();
            runs.extend(commands(&code).into_iter().map(|command| Example {
                line: start,
                exit: promised_exit(&command),
                command,
                output: Vec::new(),
            }));
        }
    }
    (runs, skipped)
}

/// Replaces every timing (`0.015 s`, `12.5 s`) with `# s`.
fn without_timings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let digits = |from: usize| {
            chars[from..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count()
        };
        let whole = digits(i);
        let starts_number = whole > 0 && (i == 0 || !chars[i - 1].is_ascii_alphanumeric());
        if starts_number && chars.get(i + whole) == Some(&'.') {
            let frac = digits(i + whole + 1);
            let after = i + whole + 1 + frac;
            if frac > 0 && chars.get(after) == Some(&' ') && chars.get(after + 1) == Some(&'s') {
                out.push_str("# s");
                i = after + 2;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Whether the pieces of `expected` between `...` appear, in order, in `actual`.
fn shows(actual: &str, expected: &str) -> bool {
    let actual = without_timings(actual);
    let expected = without_timings(expected);
    let mut from = 0;
    for piece in expected
        .split("...")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match actual[from..].find(piece) {
            Some(at) => from += at + piece.len(),
            None => return false,
        }
    }
    true
}

/// Copies a folder tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs `command` with bash in `dir`, killed after [`COMMAND_LIMIT`]:
/// its exit code and everything it printed.
fn run(command: &str, dir: &Path, path: &str) -> (Option<i32>, String) {
    let mut child = Command::new("bash")
        .args(["-c", command])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > COMMAND_LIMIT {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), printed)
}

/// The README and every page of the manual, in a stable order.
fn pages(root: &Path) -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    let mut all = vec![root.join("README.md")];
    all.extend(docs);
    all
}

/// Runs every example of the page `file` in a fresh scratch folder: the failures.
fn run_page(root: &Path, file: &Path, path: &str) -> (usize, Vec<String>) {
    let name = file.strip_prefix(root).unwrap().display().to_string();
    let text = std::fs::read_to_string(file).unwrap();
    let (runs, skipped) = examples(&text);
    for s in &skipped {
        eprintln!("{name} line {}: not run ({})", s.line, s.reason);
    }
    let dir = std::env::temp_dir().join(format!(
        "partrec-readme-{}-{}",
        std::process::id(),
        name.replace(['/', '.'], "-")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    copy_tree(&root.join("instances"), &dir.join("instances"));
    copy_tree(&root.join("docs"), &dir.join("docs"));
    let mut failures = Vec::new();
    for example in &runs {
        let (code, printed) = run(&example.command, &dir, path);
        if code != Some(example.exit) {
            failures.push(format!(
                "{name} line {}: `{}` exited {code:?}, expected {}:\n{printed}",
                example.line, example.command, example.exit
            ));
        }
        for expected in &example.output {
            if !shows(&printed, expected) {
                failures.push(format!(
                    "{name} line {}: `{}` did not print\n  {expected}\nbut:\n{printed}",
                    example.line, example.command
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    (runs.len(), failures)
}

#[test]
fn every_shell_example_of_the_readme_and_the_manual_runs_as_printed() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bin = Path::new(env!("CARGO_BIN_EXE_partrec")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (mut total, mut failures) = (0, Vec::new());
    let mut readme_runs = 0;
    for page in pages(&root) {
        let (runs, failed) = run_page(&root, &page, &path);
        if page.ends_with("README.md") {
            readme_runs = runs;
        }
        total += runs;
        failures.extend(failed);
    }
    assert!(readme_runs >= 4, "only {readme_runs} README commands found");
    assert!(
        total >= 40,
        "only {total} commands found in the README and the manual"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The README stays a front door: at most 12 KB, every manual page it names exists,
/// and neither it nor the manual speaks of how the project was made.
#[test]
fn the_readme_is_short_and_the_docs_speak_to_users() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.len() <= 12 * 1024,
        "README.md is {} bytes",
        readme.len()
    );
    for page in pages(&root) {
        let name = page.strip_prefix(&root).unwrap().display().to_string();
        let text = std::fs::read_to_string(&page).unwrap();
        for word in [
            "../shared",
            "the lab",
            "issue #",
            "this machine",
            "development build",
        ] {
            // As a word: "the label" is fine.
            let whole = text.match_indices(word).any(|(i, _)| {
                !text[i + word.len()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric)
            });
            assert!(!whole, "{name} mentions `{word}`");
        }
        // Local links: `](docs/x.md)` from the README, `](x.md#anchor)` in the manual.
        for link in text.split("](").skip(1) {
            let target = link.split(')').next().unwrap();
            let file = target.split('#').next().unwrap();
            if file.is_empty() || file.contains("://") {
                continue;
            }
            let base = page.parent().unwrap();
            assert!(base.join(file).exists(), "{name} links to missing {file}");
        }
    }
}

#[test]
fn the_conventions_parse_as_documented() {
    assert_eq!(promised_exit("partrec solve x.json  # exit 10"), 10);
    assert_eq!(
        promised_exit("partrec color g --colors 4  # {...}, exit 20"),
        20
    );
    assert_eq!(promised_exit("partrec check a b; echo \"exit $?\""), 0);
    assert_eq!(
        commands(&["a \\", "  b", "c |", "d", "e"]),
        vec!["a \\\n  b", "c |\nd", "e"]
    );
    assert!(shows("took 0.015 s here", "took 0.000 s here"));
    assert!(shows("[[0,1,2,2],[0,1]]", "[[0,1,...],[0,...]]"));
    assert!(!shows("1028 clauses", "928 clauses"));
    let (runs, skipped) =
        examples("<!-- readme-test: skip (slow) -->\n```sh\nslow\n```\n```console\n$ fast  # exit 3\nout\n```\n```\nnot run\n```\n");
    assert_eq!((runs.len(), skipped.len()), (1, 1));
    assert_eq!(
        (runs[0].exit, runs[0].output.clone()),
        (3, vec!["out".to_string()])
    );
}
