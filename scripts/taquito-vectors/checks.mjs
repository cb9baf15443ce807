// The checks every generator makes before it prints anything: each failed
// check is reported on stderr, and `printIfAllPassed` prints the vectors
// only when none failed (exiting non-zero otherwise).

let failures = 0;

export function check(ok, what) {
  if (!ok) {
    failures += 1;
    console.error(`CHECK FAILED: ${what}`);
  }
}

export function printIfAllPassed(value) {
  if (failures > 0) {
    console.error(`${failures} check(s) failed; no vectors written`);
    process.exit(1);
  }
  console.log(JSON.stringify(value, null, 2));
}
