/**
 * The store's statements are written once with `?` placeholders, as SQLite
 * takes them; PostgreSQL numbers its parameters ($1, $2, …). This renders
 * the one as the other.
 *
 * A `?` is left alone inside a string literal ('…' with '' for a quote,
 * E'…' with backslash escapes too, $$…$$ or $tag$…$tag$), a quoted
 * identifier ("…") and a comment (-- … and nested /* … *\/). Not supported:
 * PostgreSQL's jsonb operators ?, ?| and ?&, which would be read as
 * placeholders (jsonb_exists and friends say the same).
 */

const IDENTIFIER_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/** Statements are few and fixed, so each is rendered once; the bound only guards against a caller that builds SQL from data. */
const rendered = new Map<string, string>();
const MAX_RENDERED = 1000;

export function numberedPlaceholders(sql: string): string {
  let out = rendered.get(sql);
  if (out === undefined) {
    out = render(sql);
    if (rendered.size >= MAX_RENDERED) rendered.clear();
    rendered.set(sql, out);
  }
  return out;
}

function render(sql: string): string {
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const end = skipQuoted(sql, i);
    if (end > i) {
      out += sql.slice(i, end);
      i = end;
    } else if (sql[i] === '?') {
      out += `$${++n}`;
      i++;
    } else {
      out += sql[i];
      i++;
    }
  }
  return out;
}

/** Where the literal, quoted identifier or comment starting at `i` ends (its end, or the end of the text); `i` itself when none starts there. */
function skipQuoted(sql: string, i: number): number {
  const c = sql[i];
  const next = sql[i + 1];
  if (c === "'") return closeQuote(sql, i + 1, "'", isEString(sql, i));
  if (c === '"') return closeQuote(sql, i + 1, '"', false);
  if (c === '-' && next === '-') {
    const eol = sql.indexOf('\n', i);
    return eol < 0 ? sql.length : eol + 1;
  }
  if (c === '/' && next === '*') return closeComment(sql, i + 2);
  if (c === '$' && !IDENTIFIER_CHAR.test(sql[i - 1] ?? ' ')) {
    DOLLAR_TAG.lastIndex = i;
    const tag = DOLLAR_TAG.exec(sql)?.[0];
    if (tag) {
      const close = sql.indexOf(tag, i + tag.length);
      return close < 0 ? sql.length : close + tag.length;
    }
  }
  return i;
}

/** The end of a '…' or "…" body starting at `i`: a doubled quote stands for itself; in E'…' so does a backslash and what follows it. */
function closeQuote(sql: string, i: number, quote: string, backslashes: boolean): number {
  for (let j = i; j < sql.length; j++) {
    if (backslashes && sql[j] === '\\') j++;
    else if (sql[j] === quote) {
      if (sql[j + 1] !== quote) return j + 1;
      j++;
    }
  }
  return sql.length;
}

/** The end of a /* comment whose body starts at `i`; PostgreSQL's comments nest. */
function closeComment(sql: string, i: number): number {
  let depth = 1;
  for (let j = i; j < sql.length - 1; j++) {
    if (sql[j] === '/' && sql[j + 1] === '*') {
      depth++;
      j++;
    } else if (sql[j] === '*' && sql[j + 1] === '/') {
      j++;
      if (--depth === 0) return j + 1;
    }
  }
  return sql.length;
}

/** An escape string: E'…' (or e'…') where the E is a token of its own, not the end of a name. */
function isEString(sql: string, quote: number): boolean {
  const e = sql[quote - 1];
  return (e === 'E' || e === 'e') && !IDENTIFIER_CHAR.test(sql[quote - 2] ?? ' ');
}
