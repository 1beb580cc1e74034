#!/usr/bin/env bash
# Review a policy change in a pull request: check the policy (warnings
# fail too), check its layout, run its tests, and write to stdout the diff
# of the base branch's version against it, over a committed users snapshot,
# in Markdown for a comment. examples/github-actions.yml runs it, and
# tests/review.rs runs it in a sample repository.
#
#   BASE=main POLICY=policies/portal.policy USERS=users/snapshot.json \
#     examples/review.sh > diff.md
#
# BASE: the branch merged into, as fetched (origin/BASE). DORMANT: the
# binary (default: dormant on the PATH). AS_OF: the instant to judge at
# (default: now). A policy that the base branch does not have yet is
# compared with an empty policy, under which everyone is kept.
set -euo pipefail
: "${BASE:?the base branch, e.g. main}"
: "${POLICY:?the policy under review, e.g. policies/portal.policy}"
: "${USERS:?the committed users snapshot, e.g. users/snapshot.json}"
dormant=${DORMANT:-dormant}
as_of=()
if [ -n "${AS_OF:-}" ]; then
    as_of=(--as-of "$AS_OF")
fi

# Their output goes to stderr: stdout is the comment.
"$dormant" check --deny-warnings "${as_of[@]}" "$POLICY" >&2
"$dormant" fmt --check "$POLICY" >&2
"$dormant" test "$POLICY" >&2

# The diff names this file as the old policy.
trap 'rm -f base.policy' EXIT
if git cat-file -e "origin/$BASE:$POLICY" 2>/dev/null; then
    git show "origin/$BASE:$POLICY" > base.policy
else
    : > base.policy
fi
"$dormant" diff base.policy "$POLICY" --users "$USERS" "${as_of[@]}" --format markdown
