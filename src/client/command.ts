// `rtms-mock client`: runs the reference app (reference-app.ts) until Ctrl-C, writing what it receives to disk.
import { SAMPLE_CREDENTIALS, startReferenceApp } from './reference-app.ts';

const USAGE = `Usage: rtms-mock client [options]

Runs the reference RTMS app: it receives the mock's webhooks, opens the signaling and media sockets, answers
keep-alives and writes audio (.wav), transcripts and other media to the output directory.

Options:
  --port N             webhook port (default 8000)
  --secret-token S     webhook secret token (env ZOOM_SECRET_TOKEN; default: the sample token)
  --client-id S        client id (env ZM_RTMS_CLIENT; default: the sample client id)
  --client-secret S    client secret (env ZM_RTMS_SECRET; default: the sample client secret)
  --media all|split    one socket on "all" (default), or one socket per media type
  --out DIR            where to write media (default ./rtms-out)
  --help               show this help
`;

interface ClientArgs {
  port: number;
  secretToken: string;
  clientId: string;
  clientSecret: string;
  media: 'all' | 'split';
  out: string;
}

function parseArgs(argv: string[]): ClientArgs | 'help' | string {
  const env = process.env;
  const args: ClientArgs = {
    port: 8000,
    secretToken: env.ZOOM_SECRET_TOKEN || SAMPLE_CREDENTIALS.secretToken,
    clientId: env.ZM_RTMS_CLIENT || SAMPLE_CREDENTIALS.clientId,
    clientSecret: env.ZM_RTMS_SECRET || SAMPLE_CREDENTIALS.clientSecret,
    media: 'all',
    out: './rtms-out',
  };
  const takesValue = ['--port', '--secret-token', '--client-id', '--client-secret', '--media', '--out'];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    // Accept both "--flag value" and "--flag=value".
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!takesValue.includes(flag)) return `unknown option ${arg}`;
    const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (v === undefined || v === '') return `${flag} needs a value`;
    switch (flag) {
      case '--port': {
        const port = Number(v);
        if (!Number.isInteger(port) || port < 0 || port > 65535) return `--port must be a port number, got ${v}`;
        args.port = port;
        break;
      }
      case '--secret-token':
        args.secretToken = v;
        break;
      case '--client-id':
        args.clientId = v;
        break;
      case '--client-secret':
        args.clientSecret = v;
        break;
      case '--media':
        if (v !== 'all' && v !== 'split') return `--media must be all or split, got ${v}`;
        args.media = v;
        break;
      case '--out':
        args.out = v;
        break;
    }
  }
  return args;
}

/** Runs until SIGINT/SIGTERM; returns the process exit code. */
export async function runClientCommand(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (typeof parsed === 'string') {
    process.stderr.write(`rtms-mock client: ${parsed}\n\n${USAGE}`);
    return 2;
  }

  let app;
  try {
    app = await startReferenceApp({
      port: parsed.port,
      secretToken: parsed.secretToken,
      clientId: parsed.clientId,
      clientSecret: parsed.clientSecret,
      mediaMode: parsed.media,
      outDir: parsed.out,
      // Every event the protocol has (spec §4.3), so the log tells the whole story.
      events: [2, 3, 4, 5, 6, 8, 9],
      // A long-running app must not keep every media message in memory.
      recordLimit: 1000,
    });
  } catch (e) {
    process.stderr.write(`rtms-mock client: cannot listen on port ${parsed.port}: ${(e as Error).message}\n`);
    return 1;
  }

  console.log(`RTMS reference app listening. Give the mock this webhook URL: http://localhost:${app.port}/webhook`);
  console.log(`Writing media to ${parsed.out}; Ctrl-C to stop.`);

  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  console.log('Stopping…');
  await app.stop();
  for (const s of app.streams.values()) {
    if (s.files.length > 0) console.log(`${s.streamId}: ${s.files.join(', ')}`);
  }
  return 0;
}
