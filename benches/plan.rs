//! Phases of planning, measured on a users file: reading, deciding,
//! explaining, writing. `bench/run` runs it on the generated 1,000,000-user
//! file beside the end-to-end measurement of the binary and the Python loop.
//!
//! cargo bench --bench plan -- USERS.json [POLICY]

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark fails loudly"
)]

use dormant::check::{check, Options};
use dormant::connector::file;
use dormant::journal::Notices;
use dormant::parse::parse;
use dormant::plan::{self, Tally};
use dormant::program::Program;
use dormant::render::{EntryCache, Format, Renderer};
use dormant::source::Source;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let users_path = args.first().map(String::as_str).unwrap_or("bench/data/users-1m.json");
    let policy_path = args
        .get(1)
        .map(String::as_str)
        .unwrap_or("../shared/bench/bench.policy");
    let as_of = dormant::time::parse_time("2026-11-23T00:00:00Z").unwrap();

    let text = std::fs::read_to_string(policy_path).expect("the benchmark policy");
    let source = Source::new(policy_path, text);
    let parsed = parse(&source).unwrap();
    assert!(!check(&parsed.policy, &Options { as_of }).has_errors());
    let program = Program::compile(&parsed.policy, &source, as_of).unwrap();
    let notices = Notices::new();
    let header = plan::Header {
        as_of,
        policy: plan::PolicyRef {
            path: policy_path.to_string(),
            sha256: String::new(),
        },
        users: plan::UsersRef {
            source: String::new(),
            count: 0,
            sha256: String::new(),
        },
        revoke: false,
        generated_by: plan::GeneratedBy::THIS,
        generated_at: as_of,
        connector: None,
        journal: None,
        warnings: Vec::new(),
    };

    // Reading as `plan` does: batches handed on and dropped, nothing kept.
    let t = Instant::now();
    let input = std::fs::File::open(users_path).expect("the users file");
    let mut streamed = 0;
    file::read(users_path, input, &mut |batch| streamed += batch.len()).unwrap_or_else(|e| panic!("{e}"));
    let read = t.elapsed();
    if std::env::var_os("BENCH_READ_ONLY").is_some() {
        println!("read {:.3}s", read.as_secs_f64());
        return;
    }
    let users = file::load(std::path::Path::new(users_path))
        .unwrap_or_else(|e| panic!("{e}"))
        .users;
    assert_eq!(streamed, users.len());
    let n = users.len() as f64;

    let best = |f: &dyn Fn() -> usize| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                black_box(f());
                t.elapsed().as_secs_f64() * 1e9 / n
            })
            .fold(f64::INFINITY, f64::min)
    };
    let decide = best(&|| {
        users
            .iter()
            .filter(|u| dormant::eval::decide(&program, u, &notices).action as u8 > 0)
            .count()
    });
    if std::env::var_os("BENCH_DECIDE_ONLY").is_some() {
        for _ in 0..20 {
            black_box(
                users
                    .iter()
                    .filter(|u| dormant::eval::decide(&program, u, &notices).action as u8 > 0)
                    .count(),
            );
        }
        println!("decide {decide:.1} ns/user");
        return;
    }
    let explain = best(&|| {
        users
            .iter()
            .map(|u| {
                let d = dormant::eval::decide(&program, u, &notices);
                dormant::eval::explain(&program, u, &d).passed.len()
            })
            .sum()
    });
    let write = best(&|| {
        let mut r = Renderer::new(Format::Json, std::io::sink());
        r.begin(&header, &program).unwrap();
        let mut tally = Tally::default();
        let mut shapes = EntryCache::default();
        for u in &users {
            let d = dormant::eval::decide(&program, u, &notices);
            tally.add_decision(plan::rule_label(&program, &d), &d);
            r.json_entry(|buf| shapes.write(buf, &program, u, &d)).unwrap();
        }
        tally.count
    });
    println!(
        "{{\"users\": {}, \"read_ns_per_user\": {:.0}, \"decide_ns_per_user\": {:.1}, \"decide_explain_ns_per_user\": {:.1}, \"decide_explain_json_ns_per_user\": {:.1}}}",
        users.len(),
        read.as_secs_f64() * 1e9 / n,
        decide,
        explain,
        write
    );
}
