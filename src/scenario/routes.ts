// Control API for scenarios (registered by src/control/api.ts): the library, its JSON Schema, and the
// `scenario` field of POST /api/meetings (a library name or an inline object; never a file path).
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { RtmsEngine } from '../engine/rtms-engine.ts';
import { planSummary, type Plan } from './compile.ts';
import { dialogueInfo } from './dialogue.ts';
import { libraryFile, libraryNames, listLibrary, loadScenarioFile, loadScenarioObject, scenarioDir } from './library.ts';
import { ScenarioError } from './parse.ts';
import { scenarioJsonSchema } from './schema.ts';

/** The `scenario` field of POST /api/meetings. */
export const ScenarioField = z.union([
  z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a library name (GET /api/scenarios) or an inline scenario object'),
  z.record(z.string(), z.unknown()),
], { error: 'expected a library name (GET /api/scenarios) or an inline scenario object (GET /api/scenarios/schema)' })
  .describe('Play a scenario: a library name (GET /api/scenarios) or an inline scenario (GET /api/scenarios/schema); its product wins over `product`');

/** Resolves the request's `scenario` into a plan; throws ScenarioError naming the field (`scenario.timeline[2].at`). */
export function planFromRequest(engine: RtmsEngine, value: string | Record<string, unknown>): Plan {
  const dialogue = dialogueInfo(engine.speechProgram);
  const dir = scenarioDir(engine.options.dataDir);
  if (typeof value === 'string') {
    const file = libraryFile(dir, value);
    if (!file) throw new ScenarioError('scenario', [{ path: [], message: `no scenario "${value}" in the library (${libraryNames(dir).join(', ') || 'empty'})` }]);
    return loadScenarioFile(file, dialogue);
  }
  return loadScenarioObject(value, dialogue, 'scenario');
}

export function registerScenarioRoutes(app: Hono, engine: RtmsEngine): void {
  const dir = () => scenarioDir(engine.options.dataDir);
  app.get('/api/scenarios', (c) => c.json({ scenarios: listLibrary(dir(), dialogueInfo(engine.speechProgram)) }));
  app.get('/api/scenarios/schema', (c) => c.json(scenarioJsonSchema()));
  app.get('/api/scenarios/:name', (c: Context) => {
    const name = c.req.param('name') ?? '';
    const file = libraryFile(dir(), name);
    if (!file) return c.json({ error: { code: 'unknown_scenario', message: `no scenario "${name}" in the library; see GET /api/scenarios` } }, 404);
    try {
      const plan = loadScenarioFile(file, dialogueInfo(engine.speechProgram));
      return c.json({ ...planSummary(plan), timeline: plan.events.slice(0, 1000).map((e) => ({ at_ms: e.st, step: e.step, what: e.label })) });
    } catch (err) {
      if (err instanceof ScenarioError) return c.json({ error: { code: 'invalid_scenario', message: err.message } }, 422);
      throw err;
    }
  });
}

/** OpenAPI paths of these routes. */
export function scenarioOpenApiPaths(error: (d: string) => unknown) {
  return {
    '/api/scenarios': { get: { summary: 'The scenario library (data/scenarios): name, product, participants, duration, or the error of a broken file', responses: { 200: { description: '{scenarios: [...]}' } } } },
    '/api/scenarios/schema': { get: { summary: 'JSON Schema of the scenario format (YAML or JSON files, inline `scenario` objects)', responses: { 200: { description: 'JSON Schema (draft 2020-12)' } } } },
    '/api/scenarios/{name}': {
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      get: { summary: 'One library scenario, planned: its happenings at their scenario times', responses: { 200: { description: 'Summary and timeline' }, 404: error('Unknown scenario'), 422: error('Invalid scenario file') } },
    },
  };
}
