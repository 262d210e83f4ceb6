import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { changeControlSetup } from '../../cli/change-control';
import { ClearwayError } from '../../errors';
import { silentLog } from '../helpers/db';

const shipped = fs.readFileSync(path.resolve(__dirname, '../../policies/change-control.yaml'), 'utf8');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-setup-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function policyFile(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function failure(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (e) {
    if (e instanceof ClearwayError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a ClearwayError');
}

describe('change-control setup at start', () => {
  it('setup: when the shipped policies load, it reports their content-hash version', () => {
    const setup = changeControlSetup({}, silentLog);
    expect(setup.policy.policyVersion).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('setup: when an escalation policy file is named, new escalations start under its ladders and version', () => {
    const ladders = fs.readFileSync(path.resolve(__dirname, '../../policies/escalation.yaml'), 'utf8');
    const file = policyFile('escalation.yaml', ladders.replace('threshold: 10000', 'threshold: 5000'));
    const setup = changeControlSetup({}, silentLog, { escalation: file });
    expect(setup.escalation.file).toBe(file);
    expect(setup.escalation.policy.costRouting.threshold).toBe(5_000);
    expect(setup.escalation.version).not.toBe(changeControlSetup({}, silentLog).escalation.version);
  });

  it('setup: when the policy names a webhook whose secret is unset, start-up fails with one CONFIG_INVALID line', () => {
    const file = policyFile(
      'webhook.yaml',
      `${shipped}\nwebhook: { url: https://hooks.example.com/cw, secretEnv: CW_HOOK_SECRET }\n`,
    );
    expect(failure(() => changeControlSetup({}, silentLog, { changeControl: file }))).toEqual({
      code: 'CONFIG_INVALID',
      message: `${file}: webhook.secretEnv: CW_HOOK_SECRET is not set; webhooks are only sent signed`,
    });
    expect(changeControlSetup({ CW_HOOK_SECRET: 'k' }, silentLog, { changeControl: file }).policy.file).toBe(file);
  });

  it('setup: when the policy file is invalid, start-up fails with the loader line naming file, path and problem', () => {
    const file = policyFile('bad.yaml', shipped.replace('decisionSla: PT48H', 'decisionSla: soon'));
    const { code, message } = failure(() => changeControlSetup({}, silentLog, { changeControl: file }));
    expect(code).toBe('CONFIG_INVALID');
    expect(message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: classes\\.normal\\.decisionSla: `));
  });
});
