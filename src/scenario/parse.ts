// Reading a scenario file: YAML or JSON text → a value plus a way to find the line and column of any field, so
// every validation error (zod's or compile.ts's) names the line, the field and what was expected.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { z } from 'zod';

export type IssuePath = (string | number)[];

export interface ScenarioIssue {
  path: IssuePath;
  message: string;
  /** The issue is about the key itself (an unknown field), not its value. */
  key?: boolean;
  line?: number;
  column?: number;
}

/** A scenario that cannot be used: every issue with its field (and line, for files). */
export class ScenarioError extends Error {
  constructor(readonly source: string, readonly issues: ScenarioIssue[]) {
    super(formatIssues(source, issues));
    this.name = 'ScenarioError';
  }
}

/** `timeline[3].speak.line` */
export function fieldName(path: IssuePath): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s || '(top level)';
}

const MAX_SHOWN = 10;

export function formatIssues(source: string, issues: readonly ScenarioIssue[]): string {
  const lines = issues.slice(0, MAX_SHOWN).map((i) => {
    const where = i.line !== undefined ? `${source}:${i.line}:${i.column ?? 1}` : source;
    return `${where}: ${fieldName(i.path)}: ${i.message}`;
  });
  if (issues.length > MAX_SHOWN) lines.push(`… and ${issues.length - MAX_SHOWN} more`);
  return lines.join('\n');
}

/** Parsed text: the plain value and a locator for issue paths. */
export interface ParsedText {
  value: unknown;
  format: 'yaml' | 'json';
  /** 1-based line and column of the value at `path` (its key with `key`), or of its nearest existing parent. */
  locate(path: IssuePath, key?: boolean): { line: number; column: number } | null;
}

/** JSON if the source is a .json file or the text starts with `{` or `[`; YAML otherwise. */
export function detectFormat(source: string, text: string): 'yaml' | 'json' {
  if (/\.json$/i.test(source)) return 'json';
  if (/\.ya?ml$/i.test(source)) return 'yaml';
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml';
}

/** Parses YAML or JSON; throws ScenarioError with the line of a syntax error. */
export function parseText(text: string, source: string): ParsedText {
  const format = detectFormat(source, text);
  const lineCounter = new LineCounter();
  // JSON is read by the YAML parser too (a YAML 1.2 subset), so both formats get the same positions.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const pos = (offset: number) => lineCounter.linePos(offset);
  if (doc.errors.length) {
    // The first syntax error only: the ones after it are usually its echoes.
    throw new ScenarioError(source, doc.errors.slice(0, 1).map((e) => {
      const p = pos(e.pos[0]);
      return { path: [], message: `${format === 'json' ? 'invalid JSON' : 'invalid YAML'}: ${e.message.split('\n')[0]}`, line: p.line, column: p.col };
    }));
  }
  let value: unknown;
  if (format === 'json') {
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ScenarioError(source, [{ path: [], message: `invalid JSON: ${(err as Error).message}` }]);
    }
  } else {
    value = doc.toJS({ maxAliasCount: 100 });
  }
  return {
    value,
    format,
    locate(path, key = false) {
      let node: unknown = doc.contents;
      let best: { line: number; col: number } | null = node && (node as Node).range ? pos((node as Node).range![0]) : null;
      for (const [n, seg] of path.entries()) {
        if (isMap(node)) {
          const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
          if (!pair) break;
          const keyNode = pair.key as Node | null;
          if (keyNode?.range) best = pos(keyNode.range[0]);
          if (key && n === path.length - 1) break;
          node = pair.value;
          if (node && (node as Node).range) best = pos((node as Node).range![0]);
        } else if (isSeq(node) && typeof seg === 'number') {
          const item = node.items[seg] as Node | undefined;
          if (!item) break;
          node = item;
          if (item.range) best = pos(item.range[0]);
        } else break;
      }
      return best ? { line: best.line, column: best.col } : null;
    },
  };
}

/** The value at `path` of a plain object (for "got …" in messages). */
export function valueAt(root: unknown, path: IssuePath): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function shown(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

type ZodIssue = z.ZodError['issues'][number];

/**
 * zod issues as scenario issues: unknown keys point at the key, scalar values are quoted back, and a union whose
 * value had the right shape for one of its options (an object for `stop: {reason}`) reports that option's own
 * issues (`stop.reason: …`) rather than "expected true or {reason}".
 */
export function zodIssues(error: z.ZodError, root: unknown): ScenarioIssue[] {
  return convert(error.issues, [], root);
}

function convert(issues: readonly ZodIssue[], prefix: IssuePath, root: unknown): ScenarioIssue[] {
  const out: ScenarioIssue[] = [];
  for (const i of issues) {
    const path = [...prefix, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))] as IssuePath;
    if (i.code === 'invalid_union' && 'errors' in i && Array.isArray(i.errors)) {
      const deeper = (i.errors as ZodIssue[][]).find((branch) => branch.length > 0 && branch.every((b) => b.path.length > 0 || b.code === 'unrecognized_keys'));
      if (deeper) { out.push(...convert(deeper, path, root)); continue; }
    }
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) out.push({ path: [...path, k], message: `unknown field "${k}"`, key: true });
      continue;
    }
    const v = valueAt(root, path);
    let message = i.message;
    if (v === undefined && (i.code === 'invalid_type' || i.code === 'invalid_union')) message = `required: ${message.replace(/^Invalid input: /, '')}`;
    else if (v !== undefined && (v === null || typeof v !== 'object')) message = `${message} (got ${shown(v)})`;
    out.push({ path, message });
  }
  return out;
}

/** Adds line and column to issues from a parsed file. */
export function locateIssues(issues: ScenarioIssue[], parsed: ParsedText | null): ScenarioIssue[] {
  if (!parsed) return issues;
  return issues.map((i) => {
    const p = parsed.locate(i.path, i.key);
    const { key: _key, ...rest } = i;
    return p ? { ...rest, line: p.line, column: p.column } : rest;
  });
}
