// Writes data/scenarios/scenario.schema.json from the zod schema (schema.ts), so editors can validate and
// complete scenario files (`$schema: ./scenario.schema.json`). Run: bun src/scenario/generate-schema.ts
// (npm run scenario-schema); test/scenario/validation.test.ts fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scenarioJsonSchema } from './schema.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../../data/scenarios/scenario.schema.json', import.meta.url));

export function schemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(SCHEMA_FILE, schemaText());
  console.log(`wrote ${SCHEMA_FILE}`);
}
