import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ladderReferences, validateChangeControlPolicy } from '../domain/change-request-policy';
import {
  DEFAULT_POLICY_FILES,
  canonicalJson,
  loadChangeControlPolicy,
  loadEscalationPolicy,
  loadPolicies,
  parsePolicyText,
  policyVersion,
} from './load';

const dir = mkdtempSync(path.join(tmpdir(), 'clearway-policy-'));
const shipped = readFileSync(DEFAULT_POLICY_FILES.changeControl, 'utf8');

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('canonicalJson', () => {
  it.each([
    [{ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } }, '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}'],
    [{ a: undefined, b: 'x' }, '{"b":"x"}'],
    [[3, 'a'], '[3,"a"]'],
  ] as const)('canonicalJson: when given %j, the result is %s', (value, json) => {
    expect(canonicalJson(value)).toBe(json);
  });
});

describe('loadChangeControlPolicy', () => {
  it('load: when the shipped policy is loaded, the result matches the change-control issue', () => {
    const result = loadChangeControlPolicy();
    if (!result.ok) throw new Error(result.error);
    const { normal, standard, emergency } = result.policy.classes;
    expect(normal.requiredRoles).toEqual(['ccb-chair', 'integration-specialist', 'data-steward']);
    expect(normal.conditional[0]).toMatchObject({
      whenTouches: ['personal-data', 'security-data'],
      roles: ['security-officer'],
    });
    expect(normal.decisionSla).toBe(48 * 3_600_000);
    expect([standard.quorum, emergency.quorum, emergency.requiredRoles]).toEqual([1, 2, ['ccb-chair']]);
    expect(emergency.retrospective).toBeDefined();
    expect(ladderReferences(result.policy).map((r) => r.ladder)).toEqual(['normal', 'normal', 'critical', 'normal']);
    expect(result.version).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.file).toBe(DEFAULT_POLICY_FILES.changeControl);
  });

  it('load: when only comments, key order and duration spelling change, the version stays the same', () => {
    const reworded = shipped.replace('decisionSla: PT48H', 'decisionSla: 48').replace(/^#.*$/gm, '# reworded');
    const a = loadChangeControlPolicy(write('same-a.yaml', shipped));
    const b = loadChangeControlPolicy(write('same-b.yaml', reworded));
    expect(a.ok && b.ok && a.version === b.version).toBe(true);
  });

  it('load: when a rule changes, the version changes', () => {
    const a = loadChangeControlPolicy(write('rule-a.yaml', shipped));
    const b = loadChangeControlPolicy(
      write('rule-b.yaml', shipped.replace('decisionSla: PT48H', 'decisionSla: PT72H')),
    );
    expect(a.ok && b.ok && a.version !== b.version).toBe(true);
  });

  it('load: when the policy is JSON, the result has the same version as the equivalent YAML', () => {
    const yamlResult = loadChangeControlPolicy(write('equal.yaml', shipped));
    if (!yamlResult.ok) throw new Error(yamlResult.error);
    const jsonResult = loadChangeControlPolicy(write('equal.json', JSON.stringify(parseYaml(shipped))));
    expect(jsonResult.ok && jsonResult.version).toBe(yamlResult.version);
    expect(policyVersion(yamlResult.policy)).toBe(yamlResult.version);
  });

  it.each([
    [
      'the quorum is too low',
      'bad-quorum.yaml',
      (t: string) => t.replace('quorum: 3', 'quorum: 2'),
      ': classes.normal.quorum: quorum 2 is below the 3 required roles',
    ],
    ['the YAML is broken', 'broken.yaml', (t: string) => `${t}\n  - : [`, ': cannot parse: '],
    ['the JSON is broken', 'broken.json', () => '{"classes": ', ': cannot parse: '],
    [
      'a role is misspelt',
      'role.yaml',
      (t: string) =>
        t.replace(
          '[ccb-chair, integration-specialist, data-steward]',
          '[ccb-chair, integration-specialist, data-stewart]',
        ),
      ': classes.normal.requiredRoles[2]: Invalid option',
    ],
  ] as const)(
    'load: when %s, the error is one line naming the file, path and problem',
    (_case, name, change, expected) => {
      const file = write(name, change(shipped));
      const result = loadChangeControlPolicy(file);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.startsWith(`${file}${expected}`)).toBe(true);
      expect(result.error).not.toContain('\n');
    },
  );

  it('load: when the file does not exist, the error names it and the reason', () => {
    const file = path.join(dir, 'missing.yaml');
    expect(loadChangeControlPolicy(file)).toEqual({ ok: false, error: `${file}: cannot read: ENOENT` });
  });

  it('parsePolicyText: when text is given directly, the result uses the label as the file', () => {
    expect(parsePolicyText('classes: 1', 'inline.yaml', validateChangeControlPolicy)).toEqual({
      ok: false,
      error: 'inline.yaml: classes: Invalid input: expected object, received number',
    });
  });
});

describe('loadEscalationPolicy and loadPolicies', () => {
  const shippedLadders = readFileSync(DEFAULT_POLICY_FILES.escalation, 'utf8');

  it('load: when the shipped escalation policy is loaded, the result matches the escalation issue', () => {
    const result = loadEscalationPolicy();
    if (!result.ok) throw new Error(result.error);
    const { normal, critical } = result.policy.ladders;
    expect(normal.levels[0]).toMatchObject({
      who: 'owner',
      acknowledgeWithin: 4 * 3_600_000,
      resolveWithin: 24 * 3_600_000,
    });
    expect(normal.levels.map((l) => l.who)).toEqual([
      'owner',
      { role: 'integration-specialist' },
      { role: 'data-steward' },
      { role: 'operations' },
    ]);
    expect(critical.levels[0].acknowledgeWithin).toBeLessThan(normal.levels[0].acknowledgeWithin);
    expect(critical.quietHours).toBeUndefined();
    expect(result.policy.costRouting).toEqual({
      currency: 'USD',
      threshold: 10_000,
      cycle: 'calendar-month',
      below: 'finance',
      atOrAbove: 'operations',
    });
    expect(result.version).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('loadPolicies: when the shipped files are loaded, every ladder the change policy names exists', () => {
    const result = loadPolicies();
    expect(result.ok).toBe(true);
  });

  it('loadPolicies: when a class escalates to a ladder that does not exist, the error names the reference', () => {
    const escalation = write('ladders.yaml', shippedLadders.replace(/^ {2}critical:/m, '  urgent:'));
    const result = loadPolicies({ escalation });
    expect(result).toEqual({
      ok: false,
      error: `${DEFAULT_POLICY_FILES.changeControl}: classes.emergency.onBreach.ladder: no ladder "critical" in ${escalation}`,
    });
  });

  it('loadPolicies: when an overdue retrospective escalates to a ladder that does not exist, the error names it', () => {
    const changeControl = write(
      'change-control.yaml',
      shipped.replace(
        'onOverdue: { action: escalate, ladder: normal }',
        'onOverdue: { action: escalate, ladder: review-board }',
      ),
    );
    const result = loadPolicies({ changeControl });
    expect(result).toEqual({
      ok: false,
      error: `${changeControl}: classes.emergency.retrospective.onOverdue.ladder: no ladder "review-board" in ${DEFAULT_POLICY_FILES.escalation}`,
    });
  });

  it("loadPolicies: when the escalation file is invalid, the error is that file's one line", () => {
    const escalation = write('bad-ladders.yaml', shippedLadders.replace('threshold: 10000', 'threshold: -1'));
    const result = loadPolicies({ escalation });
    expect(result.ok === false && result.error).toBe(
      `${escalation}: costRouting.threshold: Too small: expected number to be >0`,
    );
  });
});
