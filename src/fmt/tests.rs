use super::*;
use crate::parse::parse;
use crate::source::Source;

fn fmt(text: &str) -> String {
    match parse(&Source::new("t.policy", text)) {
        Ok(parsed) => format(text, &parsed),
        Err(d) => unreachable!("{d:?}"),
    }
}

#[test]
fn aligns_rule_names_in_a_block_and_normalises_spacing() {
    let text = "staff:group   in [admins,publishers]or is_admin->keep\nstale_invites : status==invited and joined>90d -> delete\n";
    insta::assert_snapshot!(fmt(text), @r"
    staff:         group in [admins, publishers] or is_admin -> keep
    stale_invites: status == invited and joined > 90d -> delete
    ");
}

#[test]
fn keeps_comments_and_one_blank_line() {
    let text = "# header\n\n\n\nlimit delete 50 # cap\n# about r\nr: a -> keep\n\n# end\n";
    insta::assert_snapshot!(fmt(text), @r"
    # header

    limit delete 50  # cap
    # about r
    r: a -> keep

    # end
    ");
}

#[test]
fn wraps_long_conditions_at_the_top_level_operator() {
    let text = "let staff = group in [admins, publishers, data-stewards] or permission in [edit_domain, manage_users, manage_domain] or is_admin or is_service\n";
    insta::assert_snapshot!(fmt(text), @r"
    let staff = group in [admins, publishers, data-stewards]
             or permission in [edit_domain, manage_users, manage_domain]
             or is_admin
             or is_service
    ");
}

#[test]
fn a_comment_inside_a_condition_stays_on_its_operand_line() {
    let text = "r: a # first\n  or b # second\n  -> keep\n";
    let once = fmt(text);
    insta::assert_snapshot!(once, @r"
    r: a  # first
    or b -> keep  # second
    ");
    assert_eq!(fmt(&once), once);
}

#[test]
fn literals_print_back_as_written() {
    let text = "r: joined < 2024-01-31 and last_login > 2024-01-31T10:00:00+02:00 and x == \"a \\\"q\\\"\" and n >= 2.5 -> delete after notice 30d\nexempt \"ana\" until 2027-01-01 \"leave\"\nlimit notify 5%\n";
    insta::assert_snapshot!(fmt(text), @r#"
    r:  joined < 2024-01-31
    and last_login > 2024-01-31T08:00:00Z
    and x == "a \"q\""
    and n >= 2.5 -> delete after notice 30d
    exempt "ana" until 2027-01-01 "leave"
    limit notify 5%
    "#);
}

#[test]
fn regressions_found_by_fuzzing() {
    let inputs = [
        // A comment right after the action, with a blank after it.
        // A comment between `->` and the action, on a wrapped condition.
        "sle: status ==0invited and eiojnd > 90; ->#delete\ndete\n",
        "adadmin -> keep\nold: inactive > 12\0\0\0\0mo -> delete after notice 30mins: is_admin -> keep\nold: i       or permismo -> de#le ",
    ];
    for input in inputs {
        let once = fmt(input);
        assert_eq!(fmt(&once), once, "{input:?}");
    }
}
