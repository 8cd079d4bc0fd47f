// Scenario files: errors name the file, line, field and what was expected (YAML and JSON, zod's rules and the
// cross-field ones), every library scenario validates, the published JSON Schema is current, and the API
// serves the library, the schema and the `scenario` field of POST /api/meetings.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { compileScenario } from '../../src/scenario/compile.ts';
import { SCHEMA_FILE, schemaText } from '../../src/scenario/generate-schema.ts';
import { libraryNames, listLibrary, loadScenarioFile, loadScenarioText, resolveScenario } from '../../src/scenario/library.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { errorOf, media, planOf, SCENARIO_DIR } from './helpers.ts';

const LIBRARY = ['contact-center-call', 'one-on-one', 'soak', 'standup', 'video-sdk-session', 'webinar'];

describe('errors name the line, the field and what was expected', () => {
  test('YAML: a bad time, an unknown field', async () => {
    const e = await errorOf([
      'participants:',                          // 1
      '  - { id: alice, name: Alice, voice: alice }',
      'timeline:',                              // 3
      '  - at: 1s',
      '    speak: { who: alice, line: 0 }',     // 5
      '  - at: soon',
      '    join: alice',                        // 7
      '  - at: 3s',
      '    leave: alice',                       // 9
      '    colour: red',
    ].join('\n'), 'meeting.yaml');
    expect(e.issues.map((i) => [i.line, i.path.join('.')])).toEqual([[6, 'timeline.1.at'], [10, 'timeline.2.colour']]);
    expect(e.message).toContain('meeting.yaml:6:9: timeline[1].at: expected a time');
    expect(e.message).toContain('(got "soon")');
    expect(e.message).toContain('meeting.yaml:10:5: timeline[2].colour: unknown field "colour"');
  });

  test('YAML: cross-field rules (unknown line, unknown participant, speaking after leaving) with their lines', async () => {
    const e1 = await errorOf('participants:\n  - { id: alice, name: Alice }\ntimeline:\n  - speak: { who: alice, line: 42 }\n', 'a.yaml');
    expect(e1.message).toMatch(/^a\.yaml:4:32: timeline\[0\]\.speak\.line: unknown dialogue line 42: expected an index 0-9, an id \(01-alice … 10-bob\) or "random"$/);
    const e2 = await errorOf('participants:\n  - { id: alice, name: Alice }\ntimeline:\n  - at: 1s\n    chat: { from: bob, text: hi }\n', 'b.yaml');
    expect(e2.message).toBe('b.yaml:5:19: timeline[0].chat.from: unknown participant "bob" (participants: alice)');
    const e3 = await errorOf('participants:\n  - { id: alice, name: Alice }\ntimeline:\n  - { at: 1s, leave: alice }\n  - at: 2s\n    speak: { who: alice, text: hello }\n', 'c.yaml');
    expect(e3.message).toBe('c.yaml:6:19: timeline[1].speak.who: Alice (alice) speaks while not in the meeting (at 2s)');
  });

  test('YAML: one action per step, after-cycles, stop reasons, fault options', async () => {
    const e = await errorOf([
      'participants: [ { id: a, name: A } ]',
      'timeline:',
      '  - speak: { who: a, text: hi }',      // 3: two actions
      '    chat: { from: a, text: x }',
      '  - at: 1s',                           // 5: no action
    ].join('\n'), 'd.yaml');
    expect(e.issues.map((i) => `${i.line} ${i.message}`)).toEqual([
      '3 one action per step, found speak and chat: split it into several steps',
      expect.stringMatching(/^5 a step needs one action: join, leave, speak/),
    ]);
    const cycle = await errorOf('participants: [ { id: a, name: A } ]\ntimeline:\n  - { id: x, after: y, join: a }\n  - { id: y, after: x, leave: a }\n', 'e.yaml');
    expect(cycle.message).toMatch(/^e\.yaml:3:\d+: timeline\[0\]\.after: steps wait for each other in a cycle \(x → y\)$/);
    const reason = await errorOf('participants: [ { id: a, name: A } ]\ntimeline:\n  - stop: { reason: WHATEVER }\n', 'f.yaml');
    expect(reason.message).toBe('f.yaml:3:21: timeline[0].stop.reason: expected a stop reason (spec §6): a number 0-26 or a name such as HOST_TRIGGERED, MEETING_ENDED (got "WHATEVER")');
    const fault = await errorOf('participants: [ { id: a, name: A } ]\ntimeline:\n  - fault: { type: drop_media, options: { code: 5 } }\n', 'g.yaml');
    expect(fault.message).toMatch(/^g\.yaml:3:\d+: timeline\[0\]\.fault: options\.code: /);
  });

  test('the meeting is simulated: resuming a stream that is not paused, a step after the end', async () => {
    const e = await errorOf([
      'participants: [ { id: a, name: A } ]',
      'timeline:',
      '  - { at: 1s, resume: true }',
      '  - { at: 2s, end: true }',
      '  - { at: 3s, leave: a }',
    ].join('\n'), 'sim.yaml');
    expect(e.message).toBe([
      'sim.yaml:3:23: timeline[0].resume: the stream is not paused (at 1s)',
      'sim.yaml:5:5: timeline[2]: comes after the meeting ended at 2s (timeline[1]) (at 3s)',
    ].join('\n'));
  });

  test('YAML syntax errors give their line', async () => {
    const e = await errorOf('participants: [ { id: a, name: A ]\ntimeline: []\n', 'h.yaml');
    expect(e.message).toMatch(/^h\.yaml:1:\d+: \(top level\): invalid YAML: /);
  });

  test('JSON: the same, with JSON lines', async () => {
    const e = await errorOf(`{
  "participants": [
    { "id": "alice", "name": "Alice", "voice": "dave" }
  ],
  "timeline": [ { "at": "1s", "join": "alice" } ]
}`, 'call.json');
    expect(e.message).toBe('call.json:3:48: participants[0].voice: unknown voice "dave": expected babble or a speaker of the built-in dialogue (alice, bob, carol)');
    const t = await errorOf(`{
  "participants": [{ "id": "alice", "name": "Alice" }],
  "timeline": [
    { "at": "1s", "speak": { "who": "alice", "text": "hi", "line": 2 } },
    { "at": true, "leave": "alice" }
  ]
}`, 'call.json');
    expect(t.issues.map((i) => `${i.line}:${i.column} ${i.path.join('.')}`)).toEqual(['5:13 timeline.1.at']);
    expect(t.message).toContain('expected a time: seconds as a number, "5s" (from the start) or "+2s" (after the previous step) (got true)');
    const syntax = await errorOf('{"participants": [ {"id": "a", "name": "A"} ], "timeline": [ ] ', 'x.json');
    expect(syntax.message).toMatch(/^x\.json:1:\d+: \(top level\): invalid JSON: /);
  });

  test('inline objects (the API) name the field without a line', async () => {
    const { dialogue } = await media();
    const r = compileScenario({ participants: [{ id: 'a', name: 'A' }], timeline: [{ at: '1s', speak: { who: 'a' } }] }, dialogue);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues).toEqual([{ path: ['timeline', 0, 'speak'], message: 'give either "line" (a dialogue line) or "text" (free text), not both or neither' }]);
  });
});

describe('the library', () => {
  test('every library scenario validates and plans', async () => {
    const { dialogue } = await media();
    expect(libraryNames(SCENARIO_DIR)).toEqual(LIBRARY);
    for (const e of listLibrary(SCENARIO_DIR, dialogue)) {
      expect(e.error).toBeUndefined();
      expect(e.summary!.name).toBe(e.name);
    }
    const byName = Object.fromEntries(LIBRARY.map((n) => [n, resolveScenario(n, SCENARIO_DIR, dialogue)]));
    expect(byName.standup!.participants).toHaveLength(4);
    expect(byName.standup!.participants.find((p) => p.id === 'dana')!.voice).toBe('babble');
    expect(byName.webinar!.product).toBe('webinar');
    expect(byName['video-sdk-session']!.product).toBe('session');
    const cc = byName['contact-center-call']!;
    expect(cc.product).toBe('contact_center');
    expect(cc.participants.map((p) => p.channelId)).toEqual([1, 2]);
    expect(byName.soak!.endMs).toBe(3_600_000);
    expect(byName.soak!.events.filter((e) => e.action.kind === 'fault').length).toBeGreaterThanOrEqual(8);
    // Crosstalk in the stand-up: two utterances overlap.
    const speech = byName.standup!.events.filter((e) => e.action.kind === 'speak').map((e) => ({ start: e.st, end: e.st + (e.action as { speech: { frames: number } }).speech.frames * 20 }));
    expect(speech.some((a, i) => speech.some((b, j) => i !== j && a.start < b.start && b.start < a.end))).toBe(true);
    // A path works as well as a name.
    expect(loadScenarioFile(`${SCENARIO_DIR}/one-on-one.yaml`, dialogue).name).toBe('one-on-one');
  });

  test('the README\'s example scenario validates', async () => {
    const { dialogue } = await media();
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const from = readme.indexOf('```yaml', readme.indexOf('**The format**'));
    const yaml = readme.slice(readme.indexOf('\n', from) + 1, readme.indexOf('```', from + 7));
    const plan = loadScenarioText(yaml, 'README.md', dialogue);
    expect(plan.name).toBe('my-call');
    expect(plan.endMs).toBe(60_000);
  });

  test('data/scenarios/scenario.schema.json is the one the zod schema generates (npm run scenario-schema)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaText());
  });

  test('seeded choices: the same seed plans the same, another seed differs', async () => {
    const scenario = (seed: number) => ({
      seed, participants: [{ id: 'a', name: 'A', voice: 'alice' }],
      timeline: [{ at: '1s', speak: { who: 'a', line: 'random' }, repeat: { every: '5s', times: 6 }, jitter: '2s' }],
    });
    const shape = (p: Awaited<ReturnType<typeof planOf>>) => p.events.map((e) => `${e.st}:${e.label}`).join('|');
    expect(shape(await planOf(scenario(1)))).toBe(shape(await planOf(scenario(1))));
    expect(shape(await planOf(scenario(1)))).not.toBe(shape(await planOf(scenario(2))));
  });
});

describe('the API', () => {
  let mock: TestMock;
  beforeAll(async () => { mock = await startMock(); });
  afterAll(async () => { await mock.stop({ graceful: false }); });

  test('GET /api/scenarios lists the library, /api/scenarios/schema serves the JSON Schema', async () => {
    const list = await mock.api('GET', '/api/scenarios');
    expect(list.status).toBe(200);
    expect(list.body.scenarios.map((s: { name: string }) => s.name)).toEqual(LIBRARY);
    expect(list.body.scenarios.every((s: { summary?: unknown }) => s.summary)).toBe(true);
    const schema = await mock.api('GET', '/api/scenarios/schema');
    expect(schema.status).toBe(200);
    expect(schema.body).toEqual(JSON.parse(schemaText()));
    const one = await mock.api('GET', '/api/scenarios/standup');
    expect(one.body.participants).toHaveLength(4);
    expect((await mock.api('GET', '/api/scenarios/nope')).status).toBe(404);
  });

  test('POST /api/meetings with a bad scenario says which field; a library name and an inline scenario start', async () => {
    const bad = await mock.api('POST', '/api/meetings', { scenario: { participants: [{ id: 'a', name: 'A' }], timeline: [{ at: 'soon', join: 'a' }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_scenario');
    expect(bad.body.error.message).toBe('scenario: timeline[0].at: expected a time like 5s or +2s (got "soon")');
    const unknown = await mock.api('POST', '/api/meetings', { scenario: 'no-such-thing' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('no scenario "no-such-thing" in the library (contact-center-call, one-on-one,');
    const path = await mock.api('POST', '/api/meetings', { scenario: '../etc/passwd' });
    expect(path.status).toBe(400); // names only: the API never reads files by path
    const named = await mock.api('POST', '/api/meetings', { scenario: 'webinar', start_rtms: false, speed: 5 });
    expect(named.status).toBe(201);
    expect(named.body.product).toBe('webinar');
    expect(named.body.webinar_uuid).toBe(named.body.meeting_uuid);
    expect(named.body.scenario).toMatchObject({ name: 'webinar', state: 'waiting', speed: 5 });
    const inline = await mock.api('POST', '/api/meetings', { start_rtms: false, scenario: { product: 'session', participants: [{ id: 'a', name: 'Ann' }], timeline: [{ at: '1s', leave: 'a' }] } });
    expect(inline.status).toBe(201);
    const view = await mock.api('GET', `/api/meetings/${encodeURIComponent(inline.body.meeting_uuid)}`);
    expect(view.body.product).toBe('session');
    expect(view.body.participants).toEqual([{ user_id: 16778240, user_name: 'Ann', present: true, camera_on: true }]);
    expect(view.body.scenario.name).toBe('inline');
    // Ended from outside before its app ever connected: the run notices and lets go of the meeting.
    const uuid = encodeURIComponent(inline.body.meeting_uuid);
    expect((await mock.api('DELETE', `/api/meetings/${uuid}`)).status).toBe(200);
    const deadline = Date.now() + 3000;
    let state = '';
    while (Date.now() < deadline && (state = (await mock.api('GET', `/api/meetings/${uuid}`)).body.scenario.state) !== 'finished') await Bun.sleep(50);
    expect(state).toBe('finished');
  });
});
