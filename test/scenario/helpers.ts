// Shared by the scenario tests: the built-in dialogue as scenarios see it, and compiling text or objects.
import { loadSpeechProgram } from '../../src/media/audio/speech-program.ts';
import type { SpeechProgram } from '../../src/media/types.ts';
import { compileScenario, type Plan } from '../../src/scenario/compile.ts';
import { dialogueInfo, type DialogueInfo } from '../../src/scenario/dialogue.ts';
import { loadScenarioText } from '../../src/scenario/library.ts';
import { ScenarioError } from '../../src/scenario/parse.ts';
import { DATA_DIR } from '../helpers/mock.ts';

export const SCENARIO_DIR = `${DATA_DIR}/scenarios`;

let cached: Promise<{ program: SpeechProgram; dialogue: DialogueInfo }> | null = null;
export function media() {
  cached ??= loadSpeechProgram(`${DATA_DIR}/speech`).then((program) => ({ program, dialogue: dialogueInfo(program) }));
  return cached;
}

/** The error text of loading `text` as `source` (throws if it loads). */
export async function errorOf(text: string, source: string): Promise<ScenarioError> {
  const { dialogue } = await media();
  try {
    loadScenarioText(text, source, dialogue);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error(`${source} loaded without error`);
}

export async function planOf(value: unknown): Promise<Plan> {
  const { dialogue } = await media();
  const r = compileScenario(value, dialogue);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.plan;
}
