import {
  ChangeControlPolicy,
  effectiveQuorum,
  ladderReferences,
  optionalRolesFor,
  requiredEvidenceFor,
  requiredRolesFor,
  validateChangeControlPolicy,
} from './change-request-policy';

const H = 3_600_000;

function rawPolicy(): Record<string, any> {
  return {
    classes: {
      standard: {
        requiredRoles: [],
        optionalRoles: ['integration-specialist', 'ccb-member'],
        quorum: 1,
        evidence: ['documentation'],
        decisionSla: 24,
        onBreach: { action: 'expire' },
      },
      normal: {
        requiredRoles: ['ccb-chair', 'integration-specialist', 'data-steward'],
        optionalRoles: ['ccb-member'],
        conditional: [
          {
            whenTouches: ['personal-data', 'security-data'],
            roles: ['security-officer'],
            evidence: ['security-signoff'],
          },
        ],
        evidence: ['documentation', 'test-evidence'],
        decisionSla: 'PT48H',
        reminders: ['PT24H', 40],
        onBreach: { action: 'escalate', ladder: 'normal' },
      },
      emergency: {
        requiredRoles: ['ccb-chair'],
        optionalRoles: ['integration-specialist', 'data-steward'],
        quorum: 2,
        evidence: ['rollback-plan'],
        decisionSla: 'PT4H',
        onBreach: { action: 'escalate', ladder: 'critical' },
        retrospective: { within: 'P5D' },
      },
    },
  };
}

function withChange(change: (raw: Record<string, any>) => void): Record<string, any> {
  const raw = rawPolicy();
  change(raw);
  return raw;
}

describe('ChangeControlPolicy', () => {
  it('parse: when durations are written as hours or ISO-8601, the result holds milliseconds', () => {
    const policy = ChangeControlPolicy.parse(rawPolicy());
    expect(policy.classes.normal.decisionSla).toBe(48 * H);
    expect(policy.classes.normal.reminders).toEqual([24 * H, 40 * H]);
    expect(policy.classes.standard.decisionSla).toBe(24 * H);
    expect(policy.classes.emergency.retrospective?.within).toBe(120 * H);
  });

  it('parse: when the quorum is omitted, the result requires every required role and at least one approval', () => {
    const policy = ChangeControlPolicy.parse(rawPolicy());
    expect(policy.classes.normal.quorum).toBe(3);
  });

  it('parse: when optional lists are omitted, the result has them empty', () => {
    const policy = ChangeControlPolicy.parse(rawPolicy());
    expect(policy.classes.emergency.conditional).toEqual([]);
    expect(policy.classes.emergency.reminders).toEqual([]);
    expect(policy.webhook).toBeUndefined();
  });
});

describe('validateChangeControlPolicy', () => {
  it('validateChangeControlPolicy: when the policy is sound, the result is ok with the parsed policy', () => {
    const result = validateChangeControlPolicy(rawPolicy());
    expect(result).toEqual({ ok: true, policy: ChangeControlPolicy.parse(rawPolicy()) });
  });

  it.each([
    [
      'the quorum is below the required roles',
      'classes.normal.quorum',
      'quorum 2 is below the 3 required roles',
      (p: any): unknown => (p.classes.normal.quorum = 2),
    ],
    [
      'the quorum cannot be reached without optional roles',
      'classes.normal.quorum',
      'quorum 4 cannot be reached by 3 required roles alone',
      (p: any): unknown => ((p.classes.normal.optionalRoles = []), (p.classes.normal.quorum = 4)),
    ],
    [
      'a role is unknown',
      'classes.normal.requiredRoles[3]',
      'Invalid option',
      (p: any): unknown => p.classes.normal.requiredRoles.push('cfo'),
    ],
    [
      'a key is misspelt',
      'classes.normal',
      'Unrecognized key: "quorom"',
      (p: any): unknown => (p.classes.normal.quorom = 3),
    ],
    ['a class is missing', 'classes.emergency', 'expected object', (p: any): unknown => delete p.classes.emergency],
    [
      'the SLA uses months',
      'classes.normal.decisionSla',
      '"P1M" is not an ISO-8601 duration',
      (p: any): unknown => (p.classes.normal.decisionSla = 'P1M'),
    ],
    [
      'a reminder falls after the SLA',
      'classes.normal.reminders[1]',
      'a reminder must fall before the decision SLA',
      (p: any): unknown => (p.classes.normal.reminders = ['PT24H', 'PT49H']),
    ],
    [
      'reminders are out of order',
      'classes.normal.reminders[1]',
      'reminders must be in increasing order',
      (p: any): unknown => (p.classes.normal.reminders = [40, 24]),
    ],
    [
      'a role is both required and optional',
      'classes.normal.optionalRoles',
      'role data-steward is both required and optional',
      (p: any): unknown => p.classes.normal.optionalRoles.push('data-steward'),
    ],
    [
      'no role can approve',
      'classes.standard.requiredRoles',
      'no role can approve',
      (p: any): unknown => ((p.classes.standard.optionalRoles = []), delete p.classes.standard.quorum),
    ],
    [
      'an escalation names no ladder',
      'classes.normal.onBreach.ladder',
      'expected string',
      (p: any): unknown => (p.classes.normal.onBreach = { action: 'escalate' }),
    ],
    [
      'the breach action is unknown',
      'classes.normal.onBreach.action',
      'action must be "escalate" (with a ladder) or "expire"',
      (p: any): unknown => (p.classes.normal.onBreach = { action: 'panic' }),
    ],
    [
      'a condition adds nothing',
      'classes.normal.conditional[0]',
      'a condition must add roles or evidence',
      (p: any): unknown => (p.classes.normal.conditional = [{ whenTouches: ['personal-data'] }]),
    ],
    [
      'emergency changes have no retrospective',
      'classes.emergency.retrospective',
      'emergency changes need a retrospective review window',
      (p: any): unknown => delete p.classes.emergency.retrospective,
    ],
    [
      'a retrospective reminder falls after the review is due',
      'classes.emergency.retrospective.reminders[0]',
      'a reminder must fall before the review is due',
      (p: any): unknown => (p.classes.emergency.retrospective.reminders = ['P6D']),
    ],
    [
      'retrospective reminders are out of order',
      'classes.emergency.retrospective.reminders[1]',
      'reminders must be in increasing order',
      (p: any): unknown => (p.classes.emergency.retrospective.reminders = ['P3D', 'P2D']),
    ],
    [
      'an overdue retrospective does something unknown',
      'classes.emergency.retrospective.onOverdue.action',
      'action must be "notify" or "escalate" (with a ladder)',
      (p: any): unknown => (p.classes.emergency.retrospective.onOverdue = { action: 'expire' }),
    ],
    [
      'the retrospective owner is not a role name',
      'classes.emergency.retrospective.owner',
      '',
      (p: any): unknown => (p.classes.emergency.retrospective.owner = 'CCB Chair!'),
    ],
    [
      'the webhook secret is written inline',
      'webhook.secretEnv',
      'secretEnv must name an environment variable',
      (p: any): unknown => (p.webhook = { url: 'https://hooks.example.com/x', secretEnv: 's3cr3t!' }),
    ],
    [
      'the webhook url is not http',
      'webhook.url',
      'Invalid URL',
      (p: any): unknown => (p.webhook = { url: 'ftp://hooks.example.com/x', secretEnv: 'HOOK_SECRET' }),
    ],
  ] as const)('validateChangeControlPolicy: when %s, the result names %s: %s', (_case, path, problem, change) => {
    const result = validateChangeControlPolicy(withChange(change));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.path).toBe(path);
    expect(result.problem).toContain(problem);
    expect(result.message).toBe(`${result.path}: ${result.problem}`);
    expect(result.message).not.toContain('\n');
  });

  it('validateChangeControlPolicy: when several things are wrong, the result counts the others', () => {
    const result = validateChangeControlPolicy(
      withChange((p) => ((p.classes.normal.quorum = 1), (p.classes.standard.decisionSla = 0))),
    );
    expect(result.ok === false && result.problem).toMatch(/\(and 1 more problem\)$/);
  });

  it.each([null, 'classes: {}', 42] as const)(
    'validateChangeControlPolicy: when the document is %j, the result names the root',
    (raw) => {
      const result = validateChangeControlPolicy(raw);
      expect(result.ok === false && result.path).toBe('(root)');
    },
  );
});

describe('class rules', () => {
  const { normal, emergency } = ChangeControlPolicy.parse(rawPolicy()).classes;

  it.each([
    [[], ['ccb-chair', 'integration-specialist', 'data-steward'], ['documentation', 'test-evidence'], 3],
    [
      ['personal-data'],
      ['ccb-chair', 'integration-specialist', 'data-steward', 'security-officer'],
      ['documentation', 'test-evidence', 'security-signoff'],
      4,
    ],
    [
      ['personal-data', 'security-data'],
      ['ccb-chair', 'integration-specialist', 'data-steward', 'security-officer'],
      ['documentation', 'test-evidence', 'security-signoff'],
      4,
    ],
  ] as const)(
    'requirements: when a normal change touches %j, the result requires roles %j, evidence %j and quorum %d',
    (touches, roles, evidence, quorum) => {
      expect(requiredRolesFor(normal, touches)).toEqual(roles);
      expect(requiredEvidenceFor(normal, touches)).toEqual(evidence);
      expect(effectiveQuorum(normal, touches)).toBe(quorum);
    },
  );

  it('optionalRolesFor: when a condition makes an optional role required, the result no longer lists it', () => {
    const rule = ChangeControlPolicy.parse(
      withChange(
        (p) => (p.classes.emergency.conditional = [{ whenTouches: ['personal-data'], roles: ['data-steward'] }]),
      ),
    ).classes.emergency;
    expect(optionalRolesFor(rule, ['personal-data'])).toEqual(['integration-specialist']);
    expect(optionalRolesFor(emergency, [])).toEqual(['integration-specialist', 'data-steward']);
  });

  it('ladderReferences: when classes escalate or expire, the result lists only the escalating ones', () => {
    expect(ladderReferences(ChangeControlPolicy.parse(rawPolicy()))).toEqual([
      { path: 'classes.normal.onBreach.ladder', ladder: 'normal' },
      { path: 'classes.emergency.onBreach.ladder', ladder: 'critical' },
    ]);
  });

  it('ladderReferences: when an overdue retrospective escalates, its ladder is listed with its path', () => {
    const policy = ChangeControlPolicy.parse(
      withChange((p) => (p.classes.emergency.retrospective.onOverdue = { action: 'escalate', ladder: 'review' })),
    );
    expect(ladderReferences(policy)).toContainEqual({
      path: 'classes.emergency.retrospective.onOverdue.ladder',
      ladder: 'review',
    });
  });

  it('retrospective: when the optional fields are left out, the validated form gains none (the version stays)', () => {
    expect(ChangeControlPolicy.parse(rawPolicy()).classes.emergency.retrospective).toEqual({ within: 120 * 3_600_000 });
  });
});
