//! No crate has files that import each other in a circle (issue #11).
//!
//! A circle between two files means neither can be read, changed or moved without the other: it
//! is usually a type living in the wrong file (a grab-bag `types.rs`, an error enum inside
//! `run.rs`). This test reads every workspace member's `src/` tree (the root `Cargo.toml`'s
//! `members`; the folder of a member's `[lib] path` when it names one), builds the graph "file
//! A refers to module file B", and fails with every circle it finds, one line each:
//! `crate: a.rs -> b.rs -> a.rs`.
//!
//! What counts as "A refers to B":
//! - a path in code or in a `use` that starts with `crate::`, `super::` or `self::`, resolved
//!   from the module A's code is in (`super` inside an inline `mod` goes to that module's parent)
//!   and mapped to the longest prefix that is a module file: `a.rs`, `a/mod.rs`, `a/b.rs`; a path
//!   into an inline module lands on the file that holds it;
//! - a path in a `use` or in code whose first segment is a child module of A's module (`use
//!   b::X` or `b::f()` in `a.rs`, with `a/b.rs`);
//! - `use super::*` in ordinary code (a glob import of the parent is an import like any other).
//!
//! What does not count:
//! - anything in comments (doc comments included) and string or character literals;
//! - a reference from a file to itself: an inline `#[cfg(test)] mod tests { use super::*; }` is
//!   part of its file, so its `super` is the file. Its other imports do count: a test module is
//!   compiled with its file and moves with it;
//! - `mod x;` / `pub mod x;` declarations: declaring a child is structure, not an import; and
//!   so is a re-export of a child's items by its parent (`pub use postgres::PgJournal` in
//!   `journal/mod.rs`): the parent presenting its children as its own API, as the crate root
//!   does, while the children use what the parent defines (the trait they implement). A private
//!   `use child::X` or a call into a child from the parent's code does count;
//! - the crate root (`lib.rs`, `main.rs`, `bin/*.rs`). The root declares every module and
//!   re-exports the public API (`pub use x::Y` is an edge from the root), while modules name
//!   shared items as `crate::Y`; counted, that would put the root in a circle with nearly every
//!   file of every crate and hide the circles that matter. So the root is outside the graph, and a
//!   module's `crate::Y` that the root merely re-exports is followed through the re-export to the
//!   file that defines `Y` (`pub use x::Y`, `pub use x::{Y, ..}`, or `pub use x::*` when `x`'s file
//!   defines `Y` by a plain item) — re-exports do not hide a circle.
//!
//! The parser is a small tokenizer, not a Rust parser: macros that generate `use` items or
//! `#[path]` attributes would escape it; the workspace has neither.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

/// A `src/` tree: each file by its path relative to `src/` (with `/` separators), and its text.
type Tree = BTreeMap<String, String>;

/// Edges between non-root files of one tree, by relative path.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn no_crate_has_files_that_import_each_other_in_a_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf();
    let members = workspace_members(&root);
    assert!(
        members.len() >= 5,
        "read too few workspace members from Cargo.toml: {members:?}"
    );
    let mut circles = Vec::new();
    let mut files_seen = 0;
    for member in &members {
        let dir = root.join(member);
        let name = package_name(&dir);
        let tree = read_tree(&dir.join(source_dir(&dir)));
        files_seen += tree.len();
        for circle in circles_of(&graph_of(&tree)) {
            circles.push(format!("{name}: {}", circle.join(" -> ")));
        }
    }
    assert!(files_seen > 50, "read only {files_seen} source files");
    assert!(
        circles.is_empty(),
        "files that import each other in a circle ({}):\n{}\n",
        circles.len(),
        circles.join("\n")
    );
}

/// The `members = [...]` of the workspace's `Cargo.toml`.
fn workspace_members(root: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("root Cargo.toml");
    let start = manifest
        .lines()
        .position(|l| l.trim_start().starts_with("members"))
        .expect("a members list");
    let list: String = manifest
        .lines()
        .skip(start)
        .scan(false, |done, line| {
            if *done {
                return None;
            }
            *done = line.contains(']');
            Some(line.to_string())
        })
        .collect();
    let inner = &list[list.find('[').expect("[") + 1..list.find(']').expect("]")];
    inner
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_string())
        .filter(|m| !m.is_empty())
        .collect()
}

/// Where a member's Rust sources are: the folder of its `[lib] path` when it names one (the
/// web UI's crate keeps them in `serve/`, beside the TypeScript in `src/`), else `src`.
fn source_dir(dir: &Path) -> String {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("member Cargo.toml");
    let manifest: toml::Table = manifest.parse().expect("member Cargo.toml is TOML");
    manifest
        .get("lib")
        .and_then(|lib| lib.get("path"))
        .and_then(|path| path.as_str())
        .and_then(|path| path.rsplit_once('/'))
        .map_or_else(|| "src".to_owned(), |(folder, _)| folder.to_owned())
}

fn package_name(dir: &Path) -> String {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("member Cargo.toml");
    manifest
        .lines()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix("name")
                .and_then(|r| r.trim_start().strip_prefix('='))
                .map(|r| r.trim().trim_matches('"').to_string())
        })
        .expect("a package name")
}

fn read_tree(src: &Path) -> Tree {
    fn walk(dir: &Path, src: &Path, tree: &mut Tree) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, src, tree);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).expect("under src");
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let text = std::fs::read_to_string(&path).expect("source file");
                tree.insert(rel, text);
            }
        }
    }
    let mut tree = Tree::new();
    walk(src, src, &mut tree);
    tree
}

/// Whether `file` is a crate root: outside the graph (see the module doc).
fn is_root(file: &str) -> bool {
    file == "lib.rs" || file == "main.rs" || file.starts_with("bin/")
}

/// The module path of a file: `a/b.rs` and `a/b/mod.rs` are `[a, b]`, a root is `[]`.
fn module_of(file: &str) -> Vec<String> {
    if is_root(file) {
        return Vec::new();
    }
    let stem = file.strip_suffix(".rs").expect(".rs");
    let stem = stem.strip_suffix("/mod").unwrap_or(stem);
    stem.split('/').map(str::to_string).collect()
}

/// The file of a module path, if that module has a file of its own.
fn file_of(tree: &Tree, module: &[String]) -> Option<String> {
    if module.is_empty() {
        return None;
    }
    let base = module.join("/");
    [format!("{base}.rs"), format!("{base}/mod.rs")]
        .into_iter()
        .find(|f| tree.contains_key(f))
}

/// The text with comments, string and character literals blanked out (lengths kept).
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        let ident_before = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if b[i..].starts_with(b"//") {
            let end = b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let (mut depth, mut j) = (1, i + 2);
            while j < b.len() && depth > 0 {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if !ident_before && (b[i..].starts_with(b"r\"") || b[i..].starts_with(b"r#")) {
            let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
            if b.get(i + 1 + hashes) != Some(&b'"') {
                i += 1;
                continue;
            }
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let from = i + 2 + hashes;
            let end = b[from..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(b.len(), |p| from + p + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'\'' {
            // A character literal ('x', '\n', '\u{..}'), not a lifetime ('a, 'static).
            let end = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..]
                    .iter()
                    .position(|&c| c == b'\'')
                    .map(|p| i + 2 + p + 1)
            } else {
                let len = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + len) == Some(&b'\'')).then_some(i + 2 + len)
            };
            match end {
                Some(end) => {
                    blank(&mut out, i, end);
                    i = end;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Punct(char),
}

fn tokenize(code: &str) -> Vec<Token> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push(Token::PathSep);
            i += 2;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            // A lifetime: skip it with its name, so `'static` is not an identifier.
            i += 1;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    tokens
}

/// One path a file refers to: its segments as written, the module it is written in, whether it
/// came from a `use` item, and whether that item is a re-export (`pub use`, `pub(crate) use`).
#[derive(Debug)]
struct Reference {
    segments: Vec<String>,
    scope: Vec<String>,
    in_use: bool,
    reexport: bool,
}

/// Every path in `text` that may name a module of the crate, with the module it appears in.
fn references(tree: &Tree, file: &str, text: &str) -> Vec<Reference> {
    let tokens = tokenize(&strip(text));
    let mut refs = Vec::new();
    // Open inline modules: (brace depth at which they close, their name).
    let mut scope = module_of(file);
    let mut inline: Vec<(usize, String)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(d, _)| *d == depth) {
                    inline.pop();
                    scope.pop();
                }
            }
            Token::Ident(kw) if kw == "mod" => {
                if let (Some(Token::Ident(name)), Some(Token::Punct('{'))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    inline.push((depth, name.clone()));
                    scope.push(name.clone());
                    depth += 1;
                    i += 3;
                    continue;
                }
            }
            Token::Ident(kw) if kw == "use" => {
                let pub_before =
                    |k: usize| matches!(tokens.get(k), Some(Token::Ident(p)) if p == "pub");
                let reexport = i >= 1
                    && (pub_before(i - 1)
                        || (i >= 4
                            && tokens[i - 1] == Token::Punct(')')
                            && tokens[i - 3] == Token::Punct('(')
                            && pub_before(i - 4)));
                let end = tokens[i..]
                    .iter()
                    .position(|t| *t == Token::Punct(';'))
                    .map_or(tokens.len(), |p| i + p);
                let mut paths = Vec::new();
                use_tree(&tokens[i + 1..end], &[], &mut paths);
                for segments in paths {
                    refs.push(Reference {
                        segments,
                        scope: scope.clone(),
                        in_use: true,
                        reexport,
                    });
                }
                i = end + 1;
                continue;
            }
            Token::Ident(first)
                if tokens.get(i + 1) == Some(&Token::PathSep)
                    && !(i > 0 && tokens[i - 1] == Token::PathSep)
                    && (first == "crate"
                        || first == "super"
                        || first == "self"
                        || is_child(tree, &scope, first)) =>
            {
                let mut segments = vec![first.clone()];
                let mut j = i + 1;
                while tokens.get(j) == Some(&Token::PathSep) {
                    match tokens.get(j + 1) {
                        Some(Token::Ident(s)) => segments.push(s.clone()),
                        Some(Token::Punct('*')) => segments.push("*".into()),
                        _ => break,
                    }
                    j += 2;
                }
                refs.push(Reference {
                    segments,
                    scope: scope.clone(),
                    in_use: false,
                    reexport: false,
                });
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    refs
}

/// Expands a use tree (`a::{b, c::{self, D}}`) into its full paths.
fn use_tree(tokens: &[Token], prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    let mut i = 0;
    if tokens.first() == Some(&Token::PathSep) {
        i = 1;
    }
    while i < tokens.len() {
        match &tokens[i] {
            Token::Ident(s) if s == "as" => break,
            Token::Ident(s) if s == "self" && !path.is_empty() => {}
            Token::Ident(s) => path.push(s.clone()),
            Token::Punct('*') => path.push("*".into()),
            Token::Punct('{') => {
                let close = matching_brace(tokens, i);
                for part in split_top(&tokens[i + 1..close]) {
                    use_tree(part, &path, out);
                }
                return;
            }
            _ => {}
        }
        i += 1;
    }
    if !path.is_empty() {
        out.push(path);
    }
}

fn matching_brace(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0;
    for (k, t) in tokens.iter().enumerate().skip(open) {
        match t {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                depth -= 1;
                if depth == 0 {
                    return k;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

fn split_top(tokens: &[Token]) -> Vec<&[Token]> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (k, t) in tokens.iter().enumerate() {
        match t {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => depth -= 1,
            Token::Punct(',') if depth == 0 => {
                parts.push(&tokens[start..k]);
                start = k + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// Whether `name` is a child module of `scope` with a file of its own.
fn is_child(tree: &Tree, scope: &[String], name: &str) -> bool {
    let mut child = scope.to_vec();
    child.push(name.to_string());
    file_of(tree, &child).is_some()
}

/// The absolute module path (after `crate`) a reference names, or `None` when it leaves the
/// crate (another crate, std) or cannot name a module of it.
fn absolute(tree: &Tree, r: &Reference) -> Option<Vec<String>> {
    let mut module = r.scope.clone();
    let mut segments = r.segments.iter().peekable();
    match segments.peek().map(|s| s.as_str()) {
        Some("crate") => {
            module.clear();
            segments.next();
        }
        Some("super") | Some("self") => {
            while let Some(s) = segments.peek() {
                match s.as_str() {
                    "super" => {
                        module.pop()?;
                    }
                    "self" => {}
                    _ => break,
                }
                segments.next();
            }
        }
        // A child module by its bare name (edition 2018 paths).
        Some(first) if is_child(tree, &r.scope, first) => {}
        _ => return None,
    }
    module.extend(segments.cloned());
    Some(module)
}

/// The file a module path lands on: the longest prefix with a file, or through the root's
/// re-exports for items the root only re-exports.
fn target(
    tree: &Tree,
    reexports: &BTreeMap<String, Vec<Vec<String>>>,
    path: &[String],
) -> Option<String> {
    for len in (1..=path.len()).rev() {
        if let Some(file) = file_of(tree, &path[..len]) {
            return Some(file);
        }
    }
    let name = path.first()?;
    if let Some(sources) = reexports.get(name) {
        return sources.iter().find_map(|source| file_of(tree, source));
    }
    reexports.get("*")?.iter().find_map(|glob| {
        let file = file_of(tree, glob)?;
        defines(&strip(&tree[&file]), name).then_some(file)
    })
}

/// Whether `code` defines an item called `name` by a plain item (struct, enum, fn, ...).
fn defines(code: &str, name: &str) -> bool {
    let tokens = tokenize(code);
    tokens.windows(2).any(|w| {
        matches!((&w[0], &w[1]), (Token::Ident(kw), Token::Ident(n))
            if n == name && ["struct", "enum", "fn", "type", "trait", "const", "static", "union", "mod"].contains(&kw.as_str()))
    })
}

/// The crate root's `pub use` re-exports: item name to the module paths it comes from, and
/// under `*` the modules it glob-re-exports.
fn reexports_of(tree: &Tree) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut map: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for root in tree.keys().filter(|f| is_root(f)) {
        for r in references(tree, root, &tree[root])
            .into_iter()
            .filter(|r| r.in_use)
        {
            let Some(path) = absolute(tree, &r).or_else(|| {
                // `pub use x::Y` in the root names the child `x` bare.
                file_of(tree, &r.segments[..1]).map(|_| r.segments.clone())
            }) else {
                continue;
            };
            let Some((name, source)) = path.split_last() else {
                continue;
            };
            map.entry(name.clone()).or_default().push(source.to_vec());
        }
    }
    map
}

/// Whether module `inner` lies inside module `outer`.
fn is_below(inner: &[String], outer: &[String]) -> bool {
    inner.len() > outer.len() && inner.starts_with(outer)
}

/// "File A refers to module file B" for every non-root file A of the tree.
fn graph_of(tree: &Tree) -> Graph {
    let reexports = reexports_of(tree);
    let mut graph = Graph::new();
    for (file, text) in tree.iter().filter(|(f, _)| !is_root(f)) {
        let edges = graph.entry(file.clone()).or_default();
        for r in references(tree, file, text) {
            let Some(path) = absolute(tree, &r) else {
                continue;
            };
            if let Some(to) = target(tree, &reexports, &path)
                && to != *file
                && !is_root(&to)
                && !(r.reexport && is_below(&module_of(&to), &module_of(file)))
            {
                edges.insert(to);
            }
        }
    }
    graph
}

/// The circles of a graph: for every file in a strongly connected group, the shortest circle
/// through it, each circle once (rotations are the same circle).
fn circles_of(graph: &Graph) -> Vec<Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut circles = Vec::new();
    for start in graph.keys() {
        let Some(cycle) = shortest_cycle(graph, start) else {
            continue;
        };
        let mut key = cycle[..cycle.len() - 1].to_vec();
        let min = key
            .iter()
            .enumerate()
            .min_by_key(|(_, f)| *f)
            .map_or(0, |(k, _)| k);
        key.rotate_left(min);
        if seen.insert(key) {
            circles.push(cycle);
        }
    }
    circles
}

fn shortest_cycle(graph: &Graph, start: &str) -> Option<Vec<String>> {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                let mut back = Vec::new();
                let mut k = at;
                while k != start {
                    back.push(k.to_string());
                    k = parent[k];
                }
                let mut path = vec![start.to_string()];
                path.extend(back.into_iter().rev());
                path.push(start.to_string());
                return Some(path);
            }
            if !parent.contains_key(next.as_str()) {
                parent.insert(next, at);
                queue.push_back(next);
            }
        }
    }
    None
}

// The checker checks itself: each rule above on a small tree, so a change that makes it blind
// fails here rather than passing the workspace silently.

fn tree(files: &[(&str, &str)]) -> Tree {
    files
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect()
}

fn edges(t: &Tree) -> Vec<String> {
    graph_of(t)
        .into_iter()
        .flat_map(|(from, to)| to.into_iter().map(move |to| format!("{from} -> {to}")))
        .collect()
}

#[test]
fn finds_a_circle_through_use_and_code_paths() {
    let t = tree(&[
        ("lib.rs", "pub mod a; pub mod b; pub mod c;"),
        ("a.rs", "use crate::b::{self, Thing};"),
        ("b.rs", "fn f() { crate::c::g(); }"),
        ("c.rs", "use crate::{a::X as Y};"),
    ]);
    assert_eq!(
        circles_of(&graph_of(&t)),
        vec![vec!["a.rs", "b.rs", "c.rs", "a.rs"]]
    );
}

#[test]
fn test_modules_super_and_nested_modules_resolve_to_the_right_file() {
    let t = tree(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        (
            "a.rs",
            "mod inner { use super::*; fn f() { super::super::b::g(); } }\n#[cfg(test)]\nmod tests { use super::*; }",
        ),
        ("b.rs", "pub mod c; use c::D;"),
        ("b/c.rs", "use super::*; use super::super::a::X;"),
    ]);
    assert_eq!(
        edges(&t),
        vec![
            "a.rs -> b.rs",
            "b.rs -> b/c.rs",
            "b/c.rs -> a.rs",
            "b/c.rs -> b.rs"
        ]
    );
}

#[test]
fn comments_strings_and_declarations_are_not_imports() {
    let t = tree(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        (
            "a.rs",
            "/// See [`crate::b::X`].\n// crate::b::Y\n/* crate::b::Z */\nconst S: &str = \"crate::b::W\";\nconst R: &str = r#\"crate::b::V \"#;\nfn f<'a>(x: &'a str) -> char { 'c' }\npub mod sub;",
        ),
        ("a/sub.rs", "fn g() {}"),
        ("b.rs", "use crate::a::sub::G;"),
    ]);
    assert_eq!(edges(&t), vec!["b.rs -> a/sub.rs"]);
}

#[test]
fn the_root_is_outside_the_graph_but_its_reexports_are_followed() {
    let t = tree(&[
        (
            "lib.rs",
            "pub mod a; pub mod b; pub mod c;\npub use a::{Alpha, Aleph};\npub use b::*;\npub struct Root;",
        ),
        ("a.rs", "pub struct Alpha; use crate::Beta;"),
        ("b.rs", "pub enum Beta {} fn f() { let _ = crate::Alpha; }"),
        ("c.rs", "use crate::Root; use super::Aleph;"),
    ]);
    assert_eq!(
        edges(&t),
        vec!["a.rs -> b.rs", "b.rs -> a.rs", "c.rs -> a.rs"]
    );
    assert_eq!(
        circles_of(&graph_of(&t)),
        vec![vec!["a.rs", "b.rs", "a.rs"]]
    );
}

#[test]
fn workspace_members_are_read_from_the_root_manifest() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root");
    let members = workspace_members(root);
    assert!(members.contains(&"ledger/core".to_string()), "{members:?}");
    assert!(members.contains(&"tests".to_string()), "{members:?}");
}

#[test]
fn a_parent_reexporting_its_children_is_not_a_circle_but_calling_into_them_is() {
    let presents = tree(&[
        ("lib.rs", "pub mod j;"),
        ("j/mod.rs", "mod pg;\npub use pg::Pg;\npub trait Journal {}"),
        ("j/pg.rs", "use super::Journal; pub struct Pg;"),
    ]);
    assert_eq!(edges(&presents), vec!["j/pg.rs -> j/mod.rs"]);
    let calls = tree(&[
        ("lib.rs", "pub mod j;"),
        (
            "j/mod.rs",
            "mod pg;\npub use pg::Pg;\npub trait Journal {}\nfn open() { pg::connect(); }",
        ),
        ("j/pg.rs", "use super::Journal; pub struct Pg;"),
    ]);
    assert_eq!(
        circles_of(&graph_of(&calls)),
        vec![vec!["j/mod.rs", "j/pg.rs", "j/mod.rs"]]
    );
}
