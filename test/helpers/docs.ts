/**
 * What the documentation tests read: the Markdown files, their links and headings, and the
 * configuration table as `src/config.ts` renders it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { ENV } from '../../src/config.js';

/** README.md and every Markdown file under docs/, relative to the repository root. */
export function markdownFiles(root = '.'): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
    );
  return ['README.md', ...walk('docs')];
}

/** Markdown without its fenced code blocks (links and headings inside them are not links and headings). */
export function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** The targets of inline links and images: `[text](target)`. */
export function linkTargets(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!
      .replace(/`/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

const MIB = 1024 ** 2;

function shownDefault(value: unknown): string {
  if (value === undefined) return 'unset';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'number' && value >= MIB && value % MIB === 0) return value % (1024 * MIB) === 0 ? `${value / 1024 / MIB}gb` : `${value / MIB}mb`;
  return String(value);
}

/** The README's configuration table, rendered from `ENV`: one row per variable, its default and its description. */
export function configTable(): string {
  const rows = Object.entries(ENV).map(([name, entry]) => {
    const shown = 'shown' in entry ? entry.shown : shownDefault((entry.schema as z.ZodType).parse(undefined));
    return `| \`${name}\` | ${shown} | ${entry.doc.replace(/\|/g, '\\|')} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

export const read = (path: string) => readFileSync(path, 'utf8');
