import assert from 'node:assert/strict';
import { test } from 'node:test';
import { numberedPlaceholders } from '../../src/store/placeholders.js';

test('placeholders: each ? becomes $1, $2, … in order, casts and operators around them untouched', () => {
  assert.equal(numberedPlaceholders('SELECT * FROM t WHERE a = ? AND b > ? LIMIT ?'), 'SELECT * FROM t WHERE a = $1 AND b > $2 LIMIT $3');
  assert.equal(numberedPlaceholders('WHERE h = ANY(?::text[]) AND x = (?)'), 'WHERE h = ANY($1::text[]) AND x = ($2)');
  assert.equal(numberedPlaceholders('VALUES (?,?,?)'), 'VALUES ($1,$2,$3)');
  assert.equal(numberedPlaceholders('SELECT 1'), 'SELECT 1');
});

test('placeholders: a ? inside a string literal is text, with quotes doubled or (E strings) escaped by backslash', () => {
  assert.equal(numberedPlaceholders("SELECT '?' AS q, ?"), "SELECT '?' AS q, $1");
  assert.equal(numberedPlaceholders("SELECT 'it''s ? here', ?"), "SELECT 'it''s ? here', $1");
  assert.equal(numberedPlaceholders("SELECT '', ?, ''''"), "SELECT '', $1, ''''");
  assert.equal(numberedPlaceholders("SELECT E'a\\' ?', ?"), "SELECT E'a\\' ?', $1");
  assert.equal(numberedPlaceholders("SELECT e'\\\\', ?"), "SELECT e'\\\\', $1", 'an escaped backslash does not escape the closing quote');
  // Not an E string: the E ends a name, and backslashes are plain characters in standard strings.
  assert.equal(numberedPlaceholders("SELECT name'\\', ?"), "SELECT name'\\', $1");
});

test('placeholders: dollar-quoted strings, quoted identifiers and comments keep their ?', () => {
  assert.equal(numberedPlaceholders('SELECT $$ ? $$, ?'), 'SELECT $$ ? $$, $1');
  assert.equal(numberedPlaceholders('SELECT $fn$ ? $$ ? $fn$, ?'), 'SELECT $fn$ ? $$ ? $fn$, $1');
  assert.equal(numberedPlaceholders('SELECT a$b, ?'), 'SELECT a$b, $1', 'a $ inside a name opens nothing');
  assert.equal(numberedPlaceholders('SELECT "odd?name", ?'), 'SELECT "odd?name", $1');
  assert.equal(numberedPlaceholders('SELECT "a""?", ?'), 'SELECT "a""?", $1');
  assert.equal(numberedPlaceholders('SELECT ? -- why?\n, ?'), 'SELECT $1 -- why?\n, $2');
  assert.equal(numberedPlaceholders('SELECT ? /* a ? /* nested ? */ still ? */ , ?'), 'SELECT $1 /* a ? /* nested ? */ still ? */ , $2');
});

test('placeholders: an unterminated literal or comment runs to the end (the server reports it)', () => {
  assert.equal(numberedPlaceholders("SELECT ?, 'open ?"), "SELECT $1, 'open ?");
  assert.equal(numberedPlaceholders('SELECT ? /* open ?'), 'SELECT $1 /* open ?');
  assert.equal(numberedPlaceholders('SELECT ? -- ?'), 'SELECT $1 -- ?');
});

test('placeholders: rendering the same statement twice gives the same text', () => {
  const sql = `INSERT INTO t (a, b) SELECT ?, u.x FROM unnest(?::text[]) AS u(x) WHERE u.x <> '?'`;
  assert.equal(numberedPlaceholders(sql), numberedPlaceholders(sql));
  assert.equal(numberedPlaceholders(sql), `INSERT INTO t (a, b) SELECT $1, u.x FROM unnest($2::text[]) AS u(x) WHERE u.x <> '?'`);
});
