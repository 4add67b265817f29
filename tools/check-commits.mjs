#!/usr/bin/env node
// Conventional Commits for the changelogs: every commit after BASE (the last commit made before
// the project adopted them) must have a subject `type(scope)!: text` of at most 72 characters.
// `node tools/check-commits.mjs` checks BASE..HEAD (CI); `--message FILE` checks one message
// (the commit-msg hook in .githooks/, which `npm ci` / `npm install` enable). Merge commits follow
// the same form (`chore: merge branch 'x' (issue N)`); git's own "Merge branch …" subjects are
// accepted only in the history up to MERGES_FIXED, which landed before this rule.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const BASE = '9d8af28';
const MERGES_FIXED = '4d67e2d';
const TYPES = ['feat', 'fix', 'perf', 'refactor', 'docs', 'test', 'build', 'ci', 'chore', 'style', 'revert'];
const SUBJECT = new RegExp(`^(${TYPES.join('|')})(\\([a-z0-9@/._,-]+\\))?!?: \\S.*$`);
const MAX = 72;

/** What is wrong with a subject line, or null. */
function problem(subject, grandfathered = false) {
  if (grandfathered && subject.startsWith('Merge ')) return null;
  if (!SUBJECT.test(subject)) return `not "type(scope): text" with type one of ${TYPES.join(', ')}`;
  if (subject.length > MAX) return `${subject.length} characters, at most ${MAX} (measurements go in the body)`;
  return null;
}

const i = process.argv.indexOf('--message');
if (i >= 0) {
  const subject =
    readFileSync(process.argv[i + 1], 'utf8')
      .split('\n')
      .find((l) => l.trim() && !l.startsWith('#')) ?? '';
  const p = problem(subject.trim());
  if (p) {
    console.error(`commit message: ${p}\n  ${subject}\nSee CONTRIBUTING.md, "Commits".`);
    process.exit(1);
  }
  process.exit(0);
}

let log;
let old;
try {
  log = execFileSync('git', ['log', '--format=%h%x09%s', `${BASE}..HEAD`], { encoding: 'utf8' });
  old = new Set(
    execFileSync('git', ['log', '--format=%h', `${BASE}..${MERGES_FIXED}`], { encoding: 'utf8' }).split('\n'),
  );
} catch (e) {
  console.error(`check-commits: cannot read the history after ${BASE}: ${e.message}`);
  process.exit(2);
}
const bad = log
  .split('\n')
  .filter(Boolean)
  .map((line) => line.split('\t'))
  .map(([hash, subject]) => ({ hash, subject, why: problem(subject, old.has(hash)) }))
  .filter((c) => c.why);
for (const c of bad) console.error(`${c.hash} ${c.subject}\n  ${c.why}`);
if (bad.length) {
  console.error(
    `check-commits: ${bad.length} commit subject(s) do not follow Conventional Commits (CONTRIBUTING.md, "Commits")`,
  );
  process.exit(1);
}
console.log(`check-commits: every subject after ${BASE} is a Conventional Commit of at most ${MAX} characters`);
