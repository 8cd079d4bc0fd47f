#!/usr/bin/env bun
// Entry point: `bun src/index.ts [serve|client] [flags]`.
import { main } from './cli.ts';

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  console.error(`rtms-mock: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
