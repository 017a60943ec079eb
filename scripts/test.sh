#!/usr/bin/env bash
# The whole test suite: type check, unit tests (files in parallel), the
# package test (npm pack, install from the registry in an empty folder, use it
# as an outside project would), then the live tests one file at a time (they
# share this machine's namespaces, bridge and addresses). Ends with one plain
# line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
npx tsc --noEmit -p . || { echo "typecheck: failed"; status=1; }
npx vitest run --exclude 'test/live/**' --reporter=default --reporter=json --outputFile="$out/unit.json" || status=1
CONMIG_PACKAGE_TEST=1 npx vitest run test/package --reporter=default --reporter=json --outputFile="$out/package.json" || status=1
npx vitest run test/live --no-file-parallelism --reporter=default --reporter=json --outputFile="$out/live.json" || status=1
node -e '
  const fs = require("fs");
  let p = 0, f = 0, s = 0;
  for (const name of ["unit.json", "package.json", "live.json"]) {
    const file = process.argv[1] + "/" + name;
    if (!fs.existsSync(file)) { f++; console.error(`no results from ${name}`); continue; }
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    // A file whose setup (beforeAll) failed has its tests skipped, not failed: count the file.
    const brokenFiles = (r.testResults || []).filter((t) => t.status === "failed" && (t.assertionResults || []).every((a) => a.status !== "failed")).length;
    p += r.numPassedTests; f += r.numFailedTests + brokenFiles; s += r.numPendingTests + (r.numTodoTests || 0);
    if (brokenFiles > 0) console.error(`${name}: ${brokenFiles} test file(s) failed outside their tests (setup, hooks or import)`);
  }
  console.log(`\nTests: ${p} passed, ${f} failed, ${s} skipped`);
' "$out"
exit $status
