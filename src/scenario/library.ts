// Finding and loading scenarios: a file path, a library name (data/scenarios/<name>.yaml|.yml|.json) or an inline
// object (the API). Every failure is a ScenarioError whose lines name the file, line, field and what was expected.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { compileScenario, planSummary, type Plan } from './compile.ts';
import type { DialogueInfo } from './dialogue.ts';
import { locateIssues, parseText, ScenarioError } from './parse.ts';

export const SCENARIO_EXTENSIONS = ['.yaml', '.yml', '.json'];
/** Files in the library directory that are not scenarios. */
const NOT_SCENARIOS = new Set(['scenario.schema.json']);
/** Scenario files are small; refuse anything absurd before parsing it. */
export const MAX_SCENARIO_BYTES = 1024 * 1024;

/** The library directory of a data directory. */
export function scenarioDir(dataDir: string): string {
  return join(dataDir, 'scenarios');
}

function nameOfFile(file: string): string {
  return basename(file, extname(file));
}

/** Values that replace the file's (the CLI's --seed). */
export interface ScenarioOverrides {
  seed?: number;
}

function withOverrides(value: unknown, o: ScenarioOverrides): unknown {
  if (o.seed === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return { ...(value as Record<string, unknown>), seed: o.seed };
}

/** Parses and plans scenario text; `source` names it in errors (a file name, or "scenario"). */
export function loadScenarioText(text: string, source: string, dialogue: DialogueInfo, overrides: ScenarioOverrides = {}): Plan {
  if (text.length > MAX_SCENARIO_BYTES) throw new ScenarioError(source, [{ path: [], message: `larger than ${MAX_SCENARIO_BYTES} bytes` }]);
  const parsed = parseText(text, source);
  const r = compileScenario(withOverrides(parsed.value, overrides), dialogue, nameOfFile(source));
  if (!r.ok) throw new ScenarioError(source, locateIssues(r.issues, parsed));
  return r.plan;
}

export function loadScenarioFile(file: string, dialogue: DialogueInfo, overrides: ScenarioOverrides = {}): Plan {
  let text: string;
  try {
    if (statSync(file).size > MAX_SCENARIO_BYTES) throw new ScenarioError(file, [{ path: [], message: `larger than ${MAX_SCENARIO_BYTES} bytes` }]);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ScenarioError) throw err;
    throw new ScenarioError(file, [{ path: [], message: `cannot read: ${(err as Error).message}` }]);
  }
  return loadScenarioText(text, file, dialogue, overrides);
}

/** An inline scenario object (POST /api/meetings `scenario`): issues name the field under `prefix`. */
export function loadScenarioObject(value: unknown, dialogue: DialogueInfo, source = 'scenario'): Plan {
  const r = compileScenario(value, dialogue, 'inline');
  if (!r.ok) throw new ScenarioError(source, r.issues);
  return r.plan;
}

/** Library names, sorted. */
export function libraryNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => SCENARIO_EXTENSIONS.includes(extname(f).toLowerCase()) && !NOT_SCENARIOS.has(f))
    .map(nameOfFile)
    .sort();
}

/** The file of a library name, or null. */
export function libraryFile(dir: string, name: string): string | null {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) return null;
  for (const ext of SCENARIO_EXTENSIONS) {
    const f = join(dir, `${name}${ext}`);
    if (existsSync(f)) return f;
  }
  return null;
}

/** `ref` is a path to a file (has a separator or an extension, or exists) or a library name. */
export function resolveScenario(ref: string, dir: string, dialogue: DialogueInfo, overrides: ScenarioOverrides = {}): Plan {
  const looksLikePath = /[\\/]/.test(ref) || SCENARIO_EXTENSIONS.includes(extname(ref).toLowerCase());
  if (looksLikePath || (existsSync(ref) && statSync(ref).isFile())) return loadScenarioFile(ref, dialogue, overrides);
  const file = libraryFile(dir, ref);
  if (!file) {
    const names = libraryNames(dir);
    throw new ScenarioError(ref, [{ path: [], message: `no such scenario: not a file, and not in the library (${names.length ? names.join(', ') : `${dir} is empty`})` }]);
  }
  return loadScenarioFile(file, dialogue, overrides);
}

export interface LibraryEntry {
  name: string;
  file: string;
  /** Summary of a valid scenario (see planSummary), or the error of an invalid one. */
  summary?: ReturnType<typeof planSummary>;
  error?: string;
}

export function listLibrary(dir: string, dialogue: DialogueInfo): LibraryEntry[] {
  return libraryNames(dir).map((name) => {
    const file = libraryFile(dir, name)!;
    try {
      return { name, file: basename(file), summary: planSummary(loadScenarioFile(file, dialogue)) };
    } catch (err) {
      return { name, file: basename(file), error: (err as Error).message };
    }
  });
}
