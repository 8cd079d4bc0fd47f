// Runs `rtms-mock client` in its own process, as the CLI would (used by command.test.ts).
import { runClientCommand } from '../../src/client/command.ts';

process.exit(await runClientCommand(process.argv.slice(2)));
