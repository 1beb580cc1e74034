//! `dormant test POLICY...`: each policy's `NAME.tests.toml`.

use super::Failure;
use super::{compile, load_policy, read_text, Output};
use crate::cli::TestArgs;
use crate::decision::Decider;
use crate::journal::Notices;
use crate::plan;
use crate::program::Program;
use crate::testcase::{self, Case};
use crate::Exit;
use std::path::{Path, PathBuf};

pub fn run(args: &TestArgs, out: &Output) -> Result<Exit, Failure> {
    let (mut passed, mut failed, mut untested) = (0, 0, 0);
    for path in &args.policies {
        match one(path, out) {
            Ok((p, f)) => {
                passed += p;
                failed += f;
            }
            // One policy's broken tests do not stop the others'.
            Err(failure) => {
                out.fail(&failure);
                untested += 1;
            }
        }
    }
    match untested {
        0 => println!("{passed} passed, {failed} failed"),
        1 => println!("{passed} passed, {failed} failed; 1 policy not tested (see the errors)"),
        n => println!("{passed} passed, {failed} failed; {n} policies not tested (see the errors)"),
    }
    Ok(if failed > 0 || untested > 0 {
        Exit::Errors
    } else {
        Exit::Ok
    })
}

/// The tests file of a policy: `NAME.policy` → `NAME.tests.toml`.
pub fn tests_path(policy: &Path) -> PathBuf {
    let stem = policy
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    policy.with_file_name(format!("{stem}.tests.toml"))
}

fn one(path: &Path, out: &Output) -> Result<(usize, usize), Failure> {
    let tests = tests_path(path);
    let text = read_text(&tests).map_err(|source| Failure::NoTests { source })?;
    let testcase::Loaded {
        cases,
        rules,
        mut errors,
    } = testcase::load(&text);
    let check_as_of = cases.first().map_or_else(chrono::Utc::now, |c| c.as_of);
    let (source, policy) = load_policy(path, out, check_as_of)?;
    let mut programs: Vec<Program> = vec![compile(&source, &policy, check_as_of)?];
    if let Some(first) = programs.first() {
        testcase::check_rules(&rules, first.rules.iter().map(|r| r.name.as_str()), &mut errors);
    }
    // A file with problems runs no case: its results would mislead.
    if !errors.is_empty() {
        return Err(Failure::Tests {
            path: tests,
            source: Box::new(errors),
        });
    }
    let mut reached = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    println!("{}: {} cases", path.display(), cases.len());
    for case in &cases {
        if !programs.iter().any(|p| p.as_of == case.as_of) {
            programs.push(compile(&source, &policy, case.as_of)?);
        }
        let Some(program) = programs.iter().find(|p| p.as_of == case.as_of) else {
            continue;
        };
        let (ok, decider) = run_case(program, case);
        reached.push(decider);
        if ok {
            passed += 1;
            println!("  ok    {}", case.name);
        } else {
            failed += 1;
            report_failure(&tests, program, case);
        }
    }
    let unreached: Vec<&str> = programs
        .first()
        .map(|p| {
            p.rules
                .iter()
                .enumerate()
                .filter(|(i, _)| !reached.contains(&Decider::Rule(*i)))
                .map(|(_, r)| r.name.as_str())
                .collect()
        })
        .unwrap_or_default();
    if !unreached.is_empty() {
        println!("  coverage: no case reaches {}", unreached.join(", "));
    }
    Ok((passed, failed))
}

fn notices(case: &Case) -> Notices {
    let mut n = Notices::new();
    for (rule, at) in &case.notices {
        n.add(&case.user.id, rule, *at);
    }
    n
}

fn run_case(program: &Program, case: &Case) -> (bool, Decider) {
    let d = crate::eval::decide(program, &case.user, &notices(case));
    let rule = plan::rule_label(program, &d);
    let rule_ok = case.rule.as_ref().is_none_or(|want| want.as_deref() == rule);
    (d.action == case.expect && rule_ok, d.decider)
}

fn report_failure(tests: &Path, program: &Program, case: &Case) {
    let e = plan::entry(program, &case.user, &notices(case));
    let want = match &case.rule {
        Some(Some(r)) => format!("{} by {r}", case.expect.as_str()),
        Some(None) => format!("{} by no rule", case.expect.as_str()),
        None => case.expect.as_str().to_string(),
    };
    let got = format!("{} by {}", e.action.as_str(), e.rule.unwrap_or("no rule"));
    println!("  FAIL  {}", case.name);
    println!(
        "        {}:{}: case \"{}\": expected {want}, got {got}",
        tests.display(),
        case.line,
        case.name
    );
    for line in crate::render::explanation_text(&e, false).lines() {
        println!("        {line}");
    }
}
