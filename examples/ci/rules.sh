#!/bin/sh
# Checks or publishes a rules document through a deployed sipgate-router's
# admin API: curl and the worker, nothing else (no Rust, no wrangler login).
#
#   ROUTER_URL=https://router.example.com SIPGATE_ROUTER_TOKEN=… sh rules.sh check FILE
#   ROUTER_URL=… SIPGATE_ROUTER_TOKEN=… [EXPECTED_VERSION=7] sh rules.sh publish FILE
#
# check: every problem with its JSON path; exit 1 when the document has errors.
# publish: checked by the worker, then live; exit 1 when refused (errors, or
# EXPECTED_VERSION is not the live version any more). Exit 2: usage;
# 3: the worker did not answer.
set -eu

usage() {
  echo "usage: ROUTER_URL=… SIPGATE_ROUTER_TOKEN=… sh rules.sh check|publish FILE" >&2
  exit 2
}
[ $# -eq 2 ] || usage
command=$1
file=$2
[ -r "$file" ] || { echo "rules.sh: cannot read $file" >&2; exit 2; }
: "${ROUTER_URL:?set ROUTER_URL to the worker's address}"
: "${SIPGATE_ROUTER_TOKEN:?set SIPGATE_ROUTER_TOKEN to the worker's ADMIN_TOKEN}"
api="${ROUTER_URL%/}/admin/api"
answer=$(mktemp)
trap 'rm -f "$answer"' EXIT

# The token goes in a header read from stdin, never on the command line
# (where other users of the machine could see it in the process list).
call() {
  printf 'Authorization: Bearer %s\n' "$SIPGATE_ROUTER_TOKEN" |
    curl --silent --show-error --header @- --header "Content-Type: application/json" \
      --output "$answer" --write-out '%{http_code}' "$@" ||
    { echo "rules.sh: $ROUTER_URL did not answer" >&2; exit 3; }
}

case "$command" in
  check)
    status=$(call --data-binary "@$file" "$api/rules/check")
    cat "$answer"
    [ "$status" = 200 ] || { echo "rules.sh: the worker answered $status" >&2; exit 1; }
    # The answer lists the errors; none is `"errors": []`.
    grep -q '"errors": \[\]' "$answer" || { echo "rules.sh: $file has errors" >&2; exit 1; }
    echo "rules.sh: $file is valid" >&2
    ;;
  publish)
    set -- --request PUT --header "X-Rules-Source: $(basename "$file")"
    if [ -n "${EXPECTED_VERSION:-}" ]; then
      set -- "$@" --header "If-Match: \"$EXPECTED_VERSION\""
    fi
    status=$(call "$@" --data-binary "@$file" "$api/rules")
    cat "$answer"
    [ "$status" = 200 ] || { echo "rules.sh: not published: the worker answered $status" >&2; exit 1; }
    echo "rules.sh: $file is live" >&2
    ;;
  *) usage ;;
esac
