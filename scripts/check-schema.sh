#!/usr/bin/env bash
# The schema contract: compares schema.graphqls with the last released
# schema, schema.baseline.graphqls, and fails naming each change that can
# break a client in the field (a removed field, a result made nullable, a new
# required argument, ...); lists the other changes as information; and lints
# the schema (a description on everything, naming). Rules: docs/schema.md.
#
#   bash scripts/check-schema.sh                              the check CI runs
#   bash scripts/check-schema.sh -allow-removing-deprecated   also accept removing what the baseline deprecated
#
# On release, make the released schema the new baseline, deliberately, in
# its own commit:
#
#   cp schema.graphqls schema.baseline.graphqls
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./cmd/schemacheck "$@" -baseline schema.baseline.graphqls schema.graphqls
