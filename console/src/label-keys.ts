/**
 * The labelling page's keyboard: a key per label (1–9, then the letters a–z
 * other than those kept for skipping and undoing), and what any key press
 * means there. Pure: unit-tested under Node.
 */

/** Keys that skip the shown text. */
export const SKIP_KEYS: readonly string[] = ['s', ' '];
/** Keys that undo the last labelling. */
export const UNDO_KEYS: readonly string[] = ['u', 'Backspace'];
/** Confirms a multi-label choice. */
export const SUBMIT_KEY = 'Enter';

const DIGITS = '123456789'.split('');
const LETTERS = 'abcdefghijklmnopqrstuvwxyz'.split('').filter((k) => !SKIP_KEYS.includes(k) && !UNDO_KEYS.includes(k));

/** Every key a label can have, in the order given out: 33 of them; labels beyond take clicks only. */
export const LABEL_KEYS: readonly string[] = [...DIGITS, ...LETTERS];

/** Each label's key, in the order of `labels` (the page keeps that order stable so a person learns the keys). */
export function labelKeys(labels: readonly string[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [i, label] of labels.entries()) {
    const key = LABEL_KEYS[i];
    if (key === undefined) break;
    keys.set(label, key);
  }
  return keys;
}

export type KeyAction = { kind: 'label'; label: string } | { kind: 'skip' } | { kind: 'undo' } | { kind: 'submit' };

export interface KeyPress {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}

/** What a key press means on the page, or null for a key it leaves alone (with Ctrl, Alt or Meta: the browser's). */
export function keyAction(press: KeyPress, keys: ReadonlyMap<string, string>): KeyAction | null {
  if (press.ctrlKey || press.metaKey || press.altKey) return null;
  // Caps lock or Shift still means the letter.
  const key = press.key.length === 1 ? press.key.toLowerCase() : press.key;
  if (SKIP_KEYS.includes(key)) return { kind: 'skip' };
  if (UNDO_KEYS.includes(key)) return { kind: 'undo' };
  if (key === SUBMIT_KEY) return { kind: 'submit' };
  for (const [label, k] of keys) if (k === key) return { kind: 'label', label };
  return null;
}

/**
 * Whether a key press belongs to what has focus rather than to the page: any key in a text field, a list or an
 * editable element; Space and Enter on a button or a link, which they press.
 */
export function ownsKey(target: { tagName?: string; isContentEditable?: boolean; type?: string } | null, key: string): boolean {
  if (!target) return false;
  const tag = target.tagName?.toUpperCase();
  if ((key === ' ' || key === 'Enter') && (tag === 'BUTTON' || tag === 'A' || tag === 'SUMMARY')) return true;
  return isTyping(target);
}

/** Whether focus is where a person types (a text field, a list, an editable element). */
export function isTyping(target: { tagName?: string; isContentEditable?: boolean; type?: string } | null): boolean {
  if (!target) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName?.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  // Checkboxes and buttons take no typing: the page's keys still apply with one focused.
  return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file'].includes((target.type ?? 'text').toLowerCase());
}
