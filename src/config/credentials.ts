// The seed mock's credentials file format (spec §10): several client id/secret pairs, known meeting/stream
// pairs, and the webhook secret token. Files written for Zoom's sample mock keep working unchanged.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const CredentialsFile = z.object({
  auth_credentials: z.array(z.looseObject({
    client_id: z.string().min(1, 'client_id must not be empty'),
    client_secret: z.string().min(1, 'client_secret must not be empty'),
    accountId: z.string().optional(),
    userID: z.string().optional(),
  })).min(1, 'at least one {client_id, client_secret} pair is needed'),
  stream_meeting_info: z.array(z.looseObject({
    meeting_uuid: z.string().min(1),
    rtms_stream_id: z.string().min(1),
  })).default([]),
  Zoom_Webhook_Secret_Token: z.array(z.looseObject({ token: z.string().min(1) }))
    .min(1, 'the webhook secret token is needed: [{"token": "..."}]'),
});

export interface Credentials {
  clients: { client_id: string; client_secret: string }[];
  knownStreams: { meeting_uuid: string; rtms_stream_id: string }[];
  webhookSecretToken: string;
  source: string;
}

export class CredentialsError extends Error {}

export function parseCredentials(text: string, source: string): Credentials {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CredentialsError(`${source}: not valid JSON (${(e as Error).message}). Fix the file or point --credentials at another one.`);
  }
  const r = CredentialsFile.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new CredentialsError(`${source}: field "${field}": ${issue.message}. ` +
      'Expected {"auth_credentials":[{"client_id","client_secret"}],"stream_meeting_info":[…],"Zoom_Webhook_Secret_Token":[{"token"}]}.');
  }
  return {
    clients: r.data.auth_credentials.map((c) => ({ client_id: c.client_id, client_secret: c.client_secret })),
    knownStreams: r.data.stream_meeting_info.map((s) => ({ meeting_uuid: s.meeting_uuid, rtms_stream_id: s.rtms_stream_id })),
    webhookSecretToken: r.data.Zoom_Webhook_Secret_Token[0]!.token,
    source,
  };
}

export function loadCredentials(path: string): Credentials {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CredentialsError(`${path}: cannot read the credentials file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). ` +
      'Pass --credentials FILE or set RTMS_MOCK_CREDENTIALS.');
  }
  return parseCredentials(text, path);
}
