import assert from 'node:assert/strict';
import { test } from 'node:test';
import { numberedPlaceholders } from '../../src/store/placeholders.js';

/** [as written, as PostgreSQL gets it, why (when the case is not plain)] */
type Case = [string, string, string?];

function check(cases: Case[]): void {
  for (const [written, rendered, why] of cases) assert.equal(numberedPlaceholders(written), rendered, why);
}

test('placeholders: each ? becomes $1, $2, … in order, casts and operators around them untouched', () => {
  check([
    ['SELECT * FROM t WHERE a = ? AND b > ? LIMIT ?', 'SELECT * FROM t WHERE a = $1 AND b > $2 LIMIT $3'],
    ['WHERE h = ANY(?::text[]) AND x = (?)', 'WHERE h = ANY($1::text[]) AND x = ($2)'],
    ['VALUES (?,?,?)', 'VALUES ($1,$2,$3)'],
    ['SELECT 1', 'SELECT 1'],
  ]);
});

test('placeholders: a ? inside a string literal is text, with quotes doubled or (E strings) escaped by backslash', () => {
  check([
    ["SELECT '?' AS q, ?", "SELECT '?' AS q, $1"],
    ["SELECT 'it''s ? here', ?", "SELECT 'it''s ? here', $1"],
    ["SELECT '', ?, ''''", "SELECT '', $1, ''''"],
    ["SELECT E'a\\' ?', ?", "SELECT E'a\\' ?', $1"],
    ["SELECT e'\\\\', ?", "SELECT e'\\\\', $1", 'an escaped backslash does not escape the closing quote'],
    ["SELECT name'\\', ?", "SELECT name'\\', $1", 'not an E string: the E ends a name, and a backslash is a plain character'],
  ]);
});

test('placeholders: dollar-quoted strings, quoted identifiers and comments keep their ?', () => {
  check([
    ['SELECT $$ ? $$, ?', 'SELECT $$ ? $$, $1'],
    ['SELECT $fn$ ? $$ ? $fn$, ?', 'SELECT $fn$ ? $$ ? $fn$, $1'],
    ['SELECT a$b, ?', 'SELECT a$b, $1', 'a $ inside a name opens nothing'],
    ['SELECT "odd?name", ?', 'SELECT "odd?name", $1'],
    ['SELECT "a""?", ?', 'SELECT "a""?", $1'],
    ['SELECT ? -- why?\n, ?', 'SELECT $1 -- why?\n, $2'],
    ['SELECT ? /* a ? /* nested ? */ still ? */ , ?', 'SELECT $1 /* a ? /* nested ? */ still ? */ , $2'],
  ]);
});

test('placeholders: an unterminated literal or comment runs to the end (the server reports it)', () => {
  check([
    ["SELECT ?, 'open ?", "SELECT $1, 'open ?"],
    ['SELECT ? /* open ?', 'SELECT $1 /* open ?'],
    ['SELECT ? -- ?', 'SELECT $1 -- ?'],
  ]);
});

test('placeholders: rendering the same statement twice gives the same text', () => {
  const sql = `INSERT INTO t (a, b) SELECT ?, u.x FROM unnest(?::text[]) AS u(x) WHERE u.x <> '?'`;
  assert.equal(numberedPlaceholders(sql), `INSERT INTO t (a, b) SELECT $1, u.x FROM unnest($2::text[]) AS u(x) WHERE u.x <> '?'`);
  assert.equal(numberedPlaceholders(sql), numberedPlaceholders(sql));
});
