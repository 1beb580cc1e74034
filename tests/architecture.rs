//! The layering of `src/`: the top-level modules never import each other
//! in a cycle. A module's imports are the `crate::NAME` paths its files
//! write outside their test modules (`#[cfg(test)]`), comments left out;
//! `super::` stays inside a module and does not count.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module → the modules it imports, each with a file that does.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

#[test]
fn the_top_level_modules_import_each_other_in_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph_of(&src);
    assert!(graph.len() > 20, "too few modules read: {graph:?}");
    let cycles = cycles(&graph);
    assert!(
        cycles.is_empty(),
        "modules that import each other in a cycle (move what both need below both):\n{}",
        describe(&graph, &cycles)
    );
}

/// The check itself finds a cycle planted in a copy of `src/`'s graph,
/// and names the files that close it.
#[test]
fn a_cycle_planted_on_purpose_is_found() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = graph_of(&src);
    // `eval` uses `program`; make `program` use `eval` too.
    assert!(graph["eval"].contains_key("program"));
    graph
        .get_mut("program")
        .unwrap()
        .insert("eval".into(), "program.rs".into());
    let cycles = cycles(&graph);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(cycles[0].contains("eval") && cycles[0].contains("program"));
    assert!(describe(&graph, &cycles).contains("program -> eval (program.rs)"));
    // And in source text, as the reader sees it: a test module and a
    // comment do not count, a `use` does.
    let text =
        "use crate::eval::Decision;\n// crate::apply in a comment\n#[cfg(test)]\nmod tests { use crate::cmd; }\n";
    assert_eq!(imports(text), BTreeSet::from(["eval".to_string()]));
}

/// `cmd/` only reads the inputs, runs the stages and prints: no function
/// there is longer than 60 lines (the work belongs in the stage modules).
#[test]
fn no_function_in_cmd_is_longer_than_sixty_lines() {
    let cmd = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cmd");
    let mut long = Vec::new();
    for file in rust_files(&cmd) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (name, lines) in functions(text.split("#[cfg(test)]").next().unwrap_or("")) {
            if lines > 60 {
                long.push(format!("{}: fn {name}: {lines} lines", file.display()));
            }
        }
    }
    assert!(long.is_empty(), "split these:\n{}", long.join("\n"));
    // The count itself: a function's lines from `fn` to its closing brace.
    let body = "    x();\n".repeat(61);
    assert_eq!(
        functions(&format!("pub fn f() {{\n{body}}}\n")),
        vec![("f".to_string(), 63)]
    );
}

/// Each function of a file written in the project's layout (`rustfmt`:
/// the closing brace at the indent of `fn`), with its length in lines.
fn functions(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let Some(rest) = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "async fn ",
            "pub async fn ",
        ]
        .iter()
        .find_map(|p| body.strip_prefix(p)) else {
            continue;
        };
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        // A one-line function, or a declaration without a body.
        if body.ends_with('}') || body.ends_with(';') {
            out.push((name, 1));
            continue;
        }
        let close = format!("{indent}}}");
        if let Some(end) = lines[i..].iter().position(|l| *l == close) {
            out.push((name, end + 1));
        }
    }
    out
}

/// Every top-level module of `src` (a `NAME.rs`, a `NAME/` folder, or both)
/// and what it imports.
fn graph_of(src: &Path) -> Graph {
    let mut graph = Graph::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if name == "main" || name == "lib" {
            continue;
        }
        let edges = graph.entry(name.clone()).or_default();
        for file in rust_files(&path) {
            let text = std::fs::read_to_string(&file).unwrap();
            let shown = file.strip_prefix(src).unwrap().display().to_string();
            for used in imports(&text) {
                if used != name {
                    edges.entry(used).or_insert_with(|| shown.clone());
                }
            }
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for edges in graph.values_mut() {
        edges.retain(|m, _| modules.contains(m));
    }
    graph
}

fn rust_files(path: &Path) -> Vec<std::path::PathBuf> {
    if path.is_dir() {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(path).unwrap() {
            all.extend(rust_files(&entry.unwrap().path()));
        }
        all
    } else if path.extension().is_some_and(|e| e == "rs") && path.file_name().is_some_and(|n| n != "tests.rs") {
        vec![path.to_path_buf()]
    } else {
        Vec::new()
    }
}

/// The modules a file names as `crate::NAME`, before its first test module
/// (they come last, by the project's habit) and outside comments.
fn imports(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = BTreeSet::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// The strongly connected groups of more than one module (Tarjan's
/// algorithm, iterative over a few dozen modules).
fn cycles(graph: &Graph) -> Vec<BTreeSet<String>> {
    let names: Vec<&String> = graph.keys().collect();
    let index_of = |n: &str| names.iter().position(|m| *m == n);
    let edges: Vec<Vec<usize>> = names
        .iter()
        .map(|n| graph[*n].keys().filter_map(|m| index_of(m)).collect())
        .collect();
    let n = names.len();
    let (mut index, mut low, mut on) = (vec![usize::MAX; n], vec![0; n], vec![false; n]);
    let (mut stack, mut next, mut out) = (Vec::new(), 0, Vec::new());
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        // (node, next edge to follow)
        let mut work = vec![(start, 0)];
        while let Some(&mut (v, ref mut e)) = work.last_mut() {
            if *e == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on[v] = true;
            }
            if let Some(&w) = edges[v].get(*e) {
                *e += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut group = BTreeSet::new();
                while let Some(w) = stack.pop() {
                    on[w] = false;
                    group.insert(names[w].clone());
                    if w == v {
                        break;
                    }
                }
                if group.len() > 1 {
                    out.push(group);
                }
            }
        }
    }
    out
}

/// Each cycle's modules and the imports between them, with a file each.
fn describe(graph: &Graph, cycles: &[BTreeSet<String>]) -> String {
    let mut s = String::new();
    for group in cycles {
        s.push_str(&format!(
            "cycle: {}\n",
            group.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
        for m in group {
            for (used, file) in &graph[m] {
                if group.contains(used) {
                    s.push_str(&format!("  {m} -> {used} ({file})\n"));
                }
            }
        }
    }
    s
}
