//! The code's layering, checked from its `use` lines: inside every crate of the
//! workspace, no module (one source file) imports, directly or through others, from
//! itself. Cargo already refuses cycles between crates; this test refuses them between
//! the files of one crate, so that each crate reads as a pipeline, bottom to top.
//!
//! A file imports a module when it names a path into it: a `use` tree, or a path
//! written inline (`crate::a::b`, `super::c`, `self::d`, or one that starts with a
//! child module's name). A path to an item of a module's own file counts as an
//! import of that file; a path through a crate root's re-export counts as an import
//! of the root, so code inside a crate names items by the module that defines them.
//! Declaring a child module (`mod x;`) is not an import. Code under `#[cfg(test)]`
//! is left out, as cargo leaves dev-dependencies out of the crate graph.
//!
//! Run `cargo test --release --test layers -- --nocapture` to also print each
//! crate's modules in layer order (each layer imports only from those before it).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// One module file of a crate.
struct Module {
    /// Its path inside the crate: empty for the root.
    path: Vec<String>,
    /// Its child modules, by name, as indices.
    children: BTreeMap<String, usize>,
    /// Its source with comments, strings and test code removed.
    code: String,
}

/// Comments, string and character literals blanked out (newlines kept), so that
/// neither a doc comment nor a message is read as a path.
fn strip(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if b[i] == b'\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == b'r'
            && matches!(b.get(i + 1), Some(b'#') | Some(b'"'))
            && !ident_before(b, i)
        {
            // A raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push('r');
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == b'"'
                    && b[j + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|&&h| h == b'#')
                        .count()
                        == hashes
                {
                    j += 1 + hashes;
                    break;
                }
                if b[j] == b'\n' {
                    out.push('\n');
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                if i < b.len() && b[i] == b'\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == b'\'' {
            // A character literal ('x', '\n', '\'' ...) or a lifetime ('a).
            if b.get(i + 1) == Some(&b'\\') {
                let end = b[i + 2..]
                    .iter()
                    .position(|&x| x == b'\'')
                    .map(|p| i + 2 + p + 1);
                i = end.unwrap_or(b.len());
                out.push_str("' '");
            } else if b.get(i + 2) == Some(&b'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push('\'');
                i += 1;
            }
        } else {
            // Multi-byte characters are copied whole.
            let len = utf8_len(c);
            out.push_str(&src[i..i + len]);
            i += len;
        }
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

fn ident_before(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

/// `code` without the items marked `#[cfg(test)]` (a module's braces, or an item up
/// to its `;`).
fn without_tests(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let b = after.as_bytes();
        let semi = after.find(';').unwrap_or(after.len());
        let brace = after.find('{').unwrap_or(after.len());
        let end = if semi < brace {
            semi + 1
        } else {
            let mut depth = 0;
            let mut j = brace;
            while j < b.len() {
                match b[j] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            (j + 1).min(after.len())
        };
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The names declared as file modules (`mod x;`, with any visibility) in `code`.
fn declared_modules(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in code.lines() {
        let t = line.trim();
        let t = t
            .strip_prefix("pub(crate) ")
            .or_else(|| t.strip_prefix("pub "))
            .unwrap_or(t);
        if let Some(rest) = t.strip_prefix("mod ") {
            if let Some(name) = rest.trim().strip_suffix(';') {
                names.push(name.trim().to_string());
            }
        }
    }
    names
}

/// Reads the crate whose root file is `root`, every file module it declares.
fn read_crate(root: &Path) -> Vec<Module> {
    let mut modules = Vec::new();
    let mut queue = vec![(Vec::new(), root.to_path_buf(), None::<usize>)];
    while let Some((path, file, parent)) = queue.pop() {
        let src = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let code = without_tests(&strip(&src));
        let index = modules.len();
        if let Some(p) = parent {
            let name: &String = path.last().unwrap();
            let parent_module: &mut Module = &mut modules[p];
            parent_module.children.insert(name.clone(), index);
        }
        let dir = {
            let stem = file.file_stem().unwrap().to_str().unwrap();
            let here = file.parent().unwrap();
            if path.is_empty() || stem == "mod" {
                here.to_path_buf()
            } else {
                here.join(stem)
            }
        };
        for name in declared_modules(&code) {
            let flat = dir.join(format!("{name}.rs"));
            let nested = dir.join(&name).join("mod.rs");
            let child = if flat.exists() { flat } else { nested };
            let mut child_path = path.clone();
            child_path.push(name);
            queue.push((child_path, child, Some(index)));
        }
        modules.push(Module {
            path,
            children: BTreeMap::new(),
            code,
        });
    }
    modules
}

/// The paths written in `code`: every `use` tree expanded to its leaves, and every
/// path written inline, each as its segments.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    // `use` trees.
    let mut rest = code;
    while let Some(at) = find_word(rest, "use") {
        let tail = &rest[at + 3..];
        let end = tail.find(';').unwrap_or(tail.len());
        expand_tree(&tail[..end], &mut Vec::new(), &mut found);
        rest = &tail[end..];
    }
    // Inline paths: identifiers joined by `::`.
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if is_ident(chars[i]) && (i == 0 || !(is_ident(chars[i - 1]) || chars[i - 1] == ':')) {
            let mut segs = Vec::new();
            let mut j = i;
            loop {
                let start = j;
                while j < chars.len() && is_ident(chars[j]) {
                    j += 1;
                }
                segs.push(chars[start..j].iter().collect::<String>());
                if j + 2 < chars.len()
                    && chars[j] == ':'
                    && chars[j + 1] == ':'
                    && is_ident(chars[j + 2])
                {
                    j += 2;
                } else {
                    break;
                }
            }
            if segs.len() > 1 {
                found.push(segs);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    found
}

fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = text[from..].find(word) {
        let at = from + p;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if !before.is_some_and(is_ident) && after.is_some_and(char::is_whitespace) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// Expands one `use` tree (`a::b::{c, d::{e, f}}`) below `prefix` into its leaves.
fn expand_tree(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let depth = prefix.len();
        prefix.extend(head);
        for part in split_top(inner) {
            expand_tree(part, prefix, out);
        }
        prefix.truncate(depth);
    } else {
        let path = tree.split(" as ").next().unwrap_or("");
        let mut leaf = prefix.clone();
        leaf.extend(
            path.split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from),
        );
        if leaf.last().is_some_and(|l| l == "self") {
            leaf.pop();
        }
        if !leaf.is_empty() {
            out.push(leaf);
        }
    }
}

/// `a, b::{c, d}, e` split at its top-level commas.
fn split_top(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The module a path written in module `from` leads into, if it is one of this
/// crate's: the deepest module its segments walk through.
fn resolve(
    modules: &[Module],
    parents: &[Option<usize>],
    from: usize,
    segs: &[String],
) -> Option<usize> {
    let (mut at, rest) = match segs[0].as_str() {
        "crate" => (0, &segs[1..]),
        "self" => (from, &segs[1..]),
        "super" => {
            let mut at = from;
            let mut k = 0;
            while segs.get(k).is_some_and(|s| s == "super") {
                at = parents[at]?;
                k += 1;
            }
            (at, &segs[k..])
        }
        first if modules[from].children.contains_key(first) => (from, segs),
        _ => return None,
    };
    for seg in rest {
        match modules[at].children.get(seg) {
            Some(&child) => at = child,
            None => break,
        }
    }
    Some(at)
}

/// The import edges between a crate's files.
fn edges(modules: &[Module]) -> Vec<BTreeSet<usize>> {
    let mut parents = vec![None; modules.len()];
    for (i, m) in modules.iter().enumerate() {
        for &c in m.children.values() {
            parents[c] = Some(i);
        }
    }
    modules
        .iter()
        .enumerate()
        .map(|(i, m)| {
            paths(&m.code)
                .iter()
                .filter_map(|p| resolve(modules, &parents, i, p))
                .filter(|&to| to != i)
                .collect()
        })
        .collect()
}

/// The crate's modules in layers (each importing only from earlier ones), or `None`
/// when some are in a cycle ([`cycles_of`] says which).
fn layers(edges: &[BTreeSet<usize>]) -> Option<Vec<Vec<usize>>> {
    let mut placed = vec![false; edges.len()];
    let mut out = Vec::new();
    loop {
        let layer: Vec<usize> = (0..edges.len())
            .filter(|&i| !placed[i] && edges[i].iter().all(|&j| placed[j]))
            .collect();
        if layer.is_empty() {
            return placed.iter().all(|&p| p).then_some(out);
        }
        for &i in &layer {
            placed[i] = true;
        }
        out.push(layer);
    }
}

/// The strongly connected components of more than one module: each is a set of
/// modules that import each other, directly or through the others.
fn cycles_of(edges: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let reach = |from: usize| {
        let mut seen = vec![false; n];
        let mut stack = vec![from];
        while let Some(v) = stack.pop() {
            for &w in &edges[v] {
                if !seen[w] {
                    seen[w] = true;
                    stack.push(w);
                }
            }
        }
        seen
    };
    let reachable: Vec<Vec<bool>> = (0..n).map(reach).collect();
    let mut placed = vec![false; n];
    let mut out = Vec::new();
    for v in 0..n {
        if placed[v] || !reachable[v][v] {
            continue;
        }
        let component: Vec<usize> = (0..n)
            .filter(|&w| reachable[v][w] && reachable[w][v])
            .collect();
        for &w in &component {
            placed[w] = true;
        }
        out.push(component);
    }
    out
}

/// Every crate root of the workspace: the top-level package's library and binary,
/// each member under `crates/`, and the Python binding.
fn crate_roots() -> Vec<PathBuf> {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut roots = vec![
        top.join("src/lib.rs"),
        top.join("src/main.rs"),
        top.join("python/src/lib.rs"),
    ];
    if let Ok(dir) = fs::read_dir(top.join("crates")) {
        let mut members: Vec<PathBuf> =
            dir.flatten().map(|e| e.path().join("src/lib.rs")).collect();
        members.sort();
        roots.extend(members);
    }
    roots.retain(|r| r.exists());
    roots
}

fn name(m: &Module) -> String {
    if m.path.is_empty() {
        "(root)".into()
    } else {
        m.path.join("::")
    }
}

#[test]
fn no_module_imports_from_itself_through_others() {
    let mut report = String::new();
    let mut cycles = String::new();
    for root in crate_roots() {
        let modules = read_crate(&root);
        let edges = edges(&modules);
        report.push_str(&format!("{}\n", root.display()));
        match layers(&edges) {
            Some(layers) => {
                for (k, layer) in layers.iter().enumerate() {
                    let names: Vec<String> = layer.iter().map(|&i| name(&modules[i])).collect();
                    report.push_str(&format!("  {k}: {}\n", names.join(", ")));
                }
            }
            None => {
                cycles.push_str(&format!("{}: import cycles:\n", root.display()));
                for cycle in cycles_of(&edges) {
                    let names: Vec<String> = cycle.iter().map(|&i| name(&modules[i])).collect();
                    cycles.push_str(&format!("  {}\n", names.join(" <-> ")));
                }
            }
        }
    }
    println!("{report}");
    assert!(cycles.is_empty(), "{cycles}");
}

#[test]
fn the_reader_sees_imports_and_not_comments_or_strings() {
    let code = strip("use crate::a::{b, c::{d, e as f}};\n// use crate::x;\nlet s = \"crate::y::z\"; super::g::h(); r#\"crate::q\"#;");
    let mut found = paths(&code);
    found.sort();
    let want: Vec<Vec<String>> = [
        "crate::a::b",
        "crate::a::c::d",
        "crate::a::c::e",
        "super::g::h",
    ]
    .iter()
    .map(|p| p.split("::").map(String::from).collect())
    .collect();
    for w in &want {
        assert!(found.contains(w), "{w:?} not in {found:?}");
    }
    assert!(!found.iter().any(|p| p.contains(&"x".to_string())
        || p.contains(&"y".to_string())
        || p.contains(&"q".to_string())));
    let tests_gone = without_tests(
        "fn a() {}\n#[cfg(test)]\nmod tests { use crate::z; fn b() { {} } }\nfn c() {}",
    );
    assert!(
        tests_gone.contains("fn a")
            && tests_gone.contains("fn c")
            && !tests_gone.contains("crate::z")
    );
}

#[test]
fn a_cycle_between_two_files_is_found() {
    let dir = std::env::temp_dir().join(format!("partrec-layers-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    fs::write(dir.join("a.rs"), "use crate::b::B;\npub struct A;\n").unwrap();
    fs::write(dir.join("b.rs"), "pub struct B;\nfn f() { super::a::A; }\n").unwrap();
    let modules = read_crate(&dir.join("lib.rs"));
    assert!(layers(&edges(&modules)).is_none());
    fs::write(dir.join("b.rs"), "pub struct B;\n").unwrap();
    let modules = read_crate(&dir.join("lib.rs"));
    assert_eq!(layers(&edges(&modules)).map(|l| l.len()), Some(2));
    fs::remove_dir_all(&dir).unwrap();
}
