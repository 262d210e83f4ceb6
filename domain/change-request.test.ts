import type { Actor } from './actor';
import {
  addEvidence,
  applyDecision,
  canDecide,
  editChangeRequest,
  expireChangeRequest,
  linkEscalation,
  markRetrospectiveOverdue,
  openChangeRequest,
  pendingRoles,
  recordRetrospective,
  recordSlaBreach,
  reminderDueTimes,
  retrospectiveDueAt,
  retrospectiveReminderTimes,
  settleEscalation,
  slaDueAt,
  submitChangeRequest,
  toView,
  withdrawChangeRequest,
  type ChangeRequestResult,
  type ChangeRequestState,
  type Decision,
  type EvidenceInput,
} from './change-request';
import { ChangeControlPolicy, type ChangeClass, type DataCategory } from './change-request-policy';
import { addMs } from './duration';

const policy = ChangeControlPolicy.parse({
  classes: {
    standard: {
      requiredRoles: [],
      optionalRoles: ['integration-specialist', 'ccb-member'],
      quorum: 1,
      evidence: ['documentation'],
      decisionSla: 'PT24H',
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
      evidence: ['documentation', 'test-evidence', 'rollback-plan'],
      decisionSla: 'PT48H',
      reminders: ['PT24H', 'PT40H'],
      onBreach: { action: 'escalate', ladder: 'normal' },
    },
    emergency: {
      requiredRoles: ['ccb-chair'],
      optionalRoles: ['integration-specialist', 'data-steward', 'security-officer'],
      quorum: 2,
      evidence: ['rollback-plan'],
      decisionSla: 'PT4H',
      onBreach: { action: 'escalate', ladder: 'critical' },
      retrospective: { within: 'P5D' },
    },
  },
});

const T0 = '2025-03-03T09:00:00.000Z';
const H = 3_600_000;
const hoursLater = (hours: number) => addMs(T0, hours * H);

const people = {
  rita: { id: 'rita', roles: ['integration-specialist'] },
  carl: { id: 'carl', roles: ['ccb-chair', 'ccb-member'] },
  ines: { id: 'ines', roles: ['integration-specialist'] },
  ivan: { id: 'ivan', roles: ['integration-specialist'] },
  dana: { id: 'dana', roles: ['data-steward'] },
  sam: { id: 'sam', roles: ['security-officer'] },
  mo: { id: 'mo', roles: ['ccb-member'] },
  max: { id: 'max', roles: ['ccb-chair', 'data-steward'] },
  fay: { id: 'fay', roles: ['finance'] },
} as const satisfies Record<string, Actor>;
type Person = keyof typeof people;

const ALL_EVIDENCE: EvidenceInput[] = [
  { kind: 'documentation', title: 'Mapping spec v3' },
  { kind: 'test-evidence', title: 'Stress test report', uri: 'https://docs.example.com/stress' },
  { kind: 'rollback-plan', title: 'Rollback runbook' },
  { kind: 'security-signoff', title: 'DPIA sign-off' },
];

function ok(result: ChangeRequestResult): ChangeRequestState {
  if (!result.ok) throw new Error(`expected ok, got ${result.code}: ${result.message}`);
  return result.state;
}

function draft(
  options: { class?: ChangeClass; touches?: DataCategory[]; evidence?: EvidenceInput[] } = {},
): ChangeRequestState {
  return ok(
    openChangeRequest({
      id: 'cr-1',
      by: 'rita',
      at: T0,
      fields: {
        title: 'Switch broker API to v2',
        description: 'Move declarations to the v2 endpoint.',
        class: options.class ?? 'normal',
        risk: 'medium',
        affectedSystems: ['broker-gateway'],
        touches: options.touches ?? [],
      },
      evidence: options.evidence ?? ALL_EVIDENCE,
      policy,
      policyVersion: 'sha256:test',
    }),
  );
}

function submitted(options: Parameters<typeof draft>[0] = {}): ChangeRequestState {
  return ok(submitChangeRequest(draft(options), { by: 'rita', at: T0 }));
}

function decision(
  who: Person,
  role: Decision['role'],
  kind: Decision['decision'] = 'approve',
  reason?: string,
  at = hoursLater(1),
): Decision {
  return { decision: kind, role, by: people[who].id, at, ...(reason === undefined ? {} : { reason }) };
}

function vote(
  state: ChangeRequestState,
  who: Person,
  role: Decision['role'],
  kind?: Decision['decision'],
  reason?: string,
) {
  return applyDecision(state, decision(who, role, kind, reason), people[who]);
}

function votes(
  state: ChangeRequestState,
  list: readonly (readonly [Person, Decision['role'], Decision['decision']?])[],
) {
  return list.reduce(
    (s, [who, role, kind]) => ok(vote(s, who, role, kind, kind === 'approve' ? undefined : 'not ready')),
    state,
  );
}

describe('openChangeRequest', () => {
  it('open: when the fields are valid, the result is a draft in round 0 recorded with its evidence', () => {
    const result = openChangeRequest({
      id: 'cr-1',
      by: 'rita',
      at: T0,
      fields: { title: 'T', description: 'D', class: 'standard', risk: 'low', affectedSystems: ['erp'] },
      evidence: [{ kind: 'documentation', title: 'Spec' }],
      policy,
      policyVersion: 'sha256:abc',
    });
    expect(result.ok && result.state).toMatchObject({
      status: 'draft',
      round: 0,
      requester: 'rita',
      touches: [],
      policyVersion: 'sha256:abc',
      evidence: [{ kind: 'documentation', title: 'Spec', addedBy: 'rita', addedAt: T0 }],
    });
    expect(result.ok && result.events.map((e) => e.type)).toEqual(['OPENED', 'EVIDENCE_ADDED']);
  });

  it.each([
    ['the title is blank', 'title', { title: '  ' }],
    ['the class is unknown', 'class', { class: 'urgent' }],
    ['no system is affected', 'affectedSystems', { affectedSystems: [] }],
    ['the data category is unknown', 'touches.0', { touches: ['pricing-data'] }],
    ['an unknown field is sent', '', { owner: 'bob' }],
  ] as const)('open: when %s, the result is VALIDATION_FAILED naming %j', (_case, path, override) => {
    const result = openChangeRequest({
      id: 'cr-1',
      by: 'rita',
      at: T0,
      fields: {
        title: 'T',
        description: 'D',
        class: 'normal',
        risk: 'low',
        affectedSystems: ['erp'],
        ...override,
      } as never,
      policy,
      policyVersion: 'v',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe('VALIDATION_FAILED');
    expect(result.message.startsWith(path ? `${path}: ` : '')).toBe(true);
  });

  it.each([
    ['the time is not ISO', 'at:', { at: 'yesterday' }],
    ['the requester is blank', 'by:', { by: '' }],
    ['the evidence kind is unknown', '0.kind:', { evidence: [{ kind: 'photo', title: 'x' }] }],
  ] as const)('open: when %s, the result is VALIDATION_FAILED starting %j', (_case, prefix, override) => {
    const result = openChangeRequest({
      id: 'cr-1',
      by: 'rita',
      at: T0,
      fields: { title: 'T', description: 'D', class: 'normal', risk: 'low', affectedSystems: ['erp'] },
      policy,
      policyVersion: 'v',
      ...(override as object),
    });
    expect(result.ok === false && result.code).toBe('VALIDATION_FAILED');
    expect(result.ok === false && result.message.startsWith(prefix)).toBe(true);
  });
});

describe('editChangeRequest', () => {
  const inStatus = {
    draft: () => draft(),
    changes_requested: () => ok(vote(submitted(), 'carl', 'ccb-chair', 'request_changes', 'needs tests')),
    under_review: () => submitted(),
    approved: () =>
      votes(submitted(), [
        ['carl', 'ccb-chair'],
        ['ines', 'integration-specialist'],
        ['dana', 'data-steward'],
      ]),
    withdrawn: () => ok(withdrawChangeRequest(draft(), { by: 'rita', at: T0 })),
  };

  it.each([
    ['draft', 'rita', 'ok'],
    ['changes_requested', 'rita', 'ok'],
    ['under_review', 'rita', 'INVALID_STATE'],
    ['approved', 'rita', 'INVALID_STATE'],
    ['withdrawn', 'rita', 'INVALID_STATE'],
    ['draft', 'carl', 'ROLE_REQUIRED'],
  ] as const)('edit: when the request is %s and %s edits it, the result is %s', (status, by, code) => {
    const result = editChangeRequest(inStatus[status](), { title: 'New title' }, { by, at: hoursLater(2) });
    if (code === 'ok') {
      expect(result.ok && result.state.title).toBe('New title');
      expect(result.ok && result.events).toEqual([{ type: 'EDITED', at: hoursLater(2), by, fields: ['title'] }]);
    } else {
      expect(result.ok === false && result.code).toBe(code);
    }
  });

  it('edit: when nothing changes, the result records no event', () => {
    const result = editChangeRequest(draft(), { title: 'Switch broker API to v2' }, { by: 'rita', at: T0 });
    expect(result.ok && result.events).toEqual([]);
  });

  it('edit: when the patch breaks a field, the result is VALIDATION_FAILED and names it', () => {
    const result = editChangeRequest(draft(), { risk: 'extreme' as never }, { by: 'rita', at: T0 });
    expect(result.ok === false && [result.code, result.message.split(':')[0]]).toEqual(['VALIDATION_FAILED', 'risk']);
  });

  it('edit: when the class changes before submission, the result is reviewed under the new class', () => {
    const edited = ok(editChangeRequest(draft(), { class: 'emergency' }, { by: 'rita', at: T0 }));
    const review = ok(submitChangeRequest(edited, { by: 'rita', at: T0 }));
    expect(pendingRoles(review)).toEqual(['ccb-chair', 'integration-specialist', 'data-steward', 'security-officer']);
  });
});

describe('editChangeRequest after review (keepDemands)', () => {
  // A standard change has no required role; one of its optional reviewers sends it back.
  const sentBack = (options: Parameters<typeof draft>[0] = {}) =>
    options.class === 'standard'
      ? ok(vote(submitted(options), 'ines', 'integration-specialist', 'request_changes', 'needs tests'))
      : ok(vote(submitted(options), 'carl', 'ccb-chair', 'request_changes', 'needs tests'));
  const edit = (state: ChangeRequestState, patch: Parameters<typeof editChangeRequest>[1]) =>
    editChangeRequest(state, patch, { by: 'rita', at: hoursLater(2) }, { keepDemands: true });

  it.each([
    ['normal', [], { class: 'standard' }, ['the role ccb-chair', 'the role integration-specialist', 'the role data-steward', 'test-evidence evidence', 'rollback-plan evidence', 'a quorum of 3']],
    ['normal', [], { class: 'emergency' }, ['the role integration-specialist', 'the role data-steward', 'documentation evidence', 'test-evidence evidence', 'a quorum of 3']],
    ['normal', ['personal-data'], { touches: [] }, ['the role security-officer', 'security-signoff evidence', 'a quorum of 4']],
    ['emergency', [], { class: 'normal' }, ['the retrospective review']],
  ] as const)('edit: when a %s request touching %j is sent back and edited to %j, it is refused naming %j', (cls, touches, patch, dropped) => {
    const result = edit(sentBack({ class: cls, touches: [...touches] }), patch as never);
    expect(result.ok === false && [result.code, result.details]).toEqual(['INVALID_STATE', { dropped }]);
  });

  it.each([
    ['standard', [], { class: 'normal' }],
    ['normal', [], { touches: ['security-data'] }],
    ['normal', ['personal-data'], { touches: ['security-data'] }],
    ['normal', [], { title: 'Switch broker API to v2, with tests' }],
  ] as const)('edit: when a %s request touching %j is sent back and edited to %j, asking as much or more, it is accepted', (cls, touches, patch) => {
    expect(edit(sentBack({ class: cls, touches: [...touches] }), patch as never).ok).toBe(true);
  });

  it('edit: when a draft never submitted changes class, the demands are not held', () => {
    expect(edit(draft(), { class: 'standard' }).ok).toBe(true);
  });

  it('edit: without keepDemands (requests opened before the rule), a sent-back request may still change class', () => {
    expect(editChangeRequest(sentBack(), { class: 'standard' }, { by: 'rita', at: hoursLater(2) }).ok).toBe(true);
  });
});

describe('addEvidence', () => {
  it.each([
    ['draft', true, () => draft()],
    ['under_review', true, () => submitted()],
    ['rejected', false, () => ok(vote(submitted(), 'carl', 'ccb-chair', 'reject', 'no'))],
  ] as const)('addEvidence: when the request is %s, the evidence accepted is %s', (_status, accepted, make) => {
    const result = addEvidence(
      make(),
      { kind: 'training-plan', title: 'Broker training' },
      { by: 'sam', at: hoursLater(3) },
    );
    expect(result.ok).toBe(accepted);
    if (result.ok) {
      expect(result.state.evidence.at(-1)).toEqual({
        kind: 'training-plan',
        title: 'Broker training',
        addedBy: 'sam',
        addedAt: hoursLater(3),
      });
    } else {
      expect(result.code).toBe('INVALID_STATE');
    }
  });
});

describe('addEvidence with a cap', () => {
  const item = { kind: 'documentation', title: 'more notes' } as const;

  it('addEvidence: when the request holds as much evidence as the cap, one more is refused with INVALID_STATE', () => {
    const full = draft({ evidence: Array.from({ length: 3 }, (_, i) => ({ kind: 'documentation' as const, title: `doc ${i}` })) });
    const result = addEvidence(full, item, { by: 'rita', at: T0 }, { max: 3 });
    expect(result.ok === false && [result.code, result.details]).toEqual(['INVALID_STATE', { max: 3 }]);
    expect(addEvidence(full, item, { by: 'rita', at: T0 }, { max: 4 }).ok).toBe(true);
    // Without a cap (requests opened before it), evidence is added as before.
    expect(addEvidence(full, item, { by: 'rita', at: T0 }).ok).toBe(true);
  });
});

describe('submitChangeRequest', () => {
  it.each([
    ['normal', [], [], ['documentation', 'test-evidence', 'rollback-plan']],
    ['normal', ['personal-data'], ALL_EVIDENCE.slice(0, 3), ['security-signoff']],
    ['normal', [], [ALL_EVIDENCE[0], ALL_EVIDENCE[2]], ['test-evidence']],
    ['emergency', [], [ALL_EVIDENCE[0]], ['rollback-plan']],
  ] as const)(
    'submit: when the %s change touching %j carries too little evidence, the result is EVIDENCE_MISSING naming the kinds',
    (changeClass, touches, evidence, missing) => {
      const result = submitChangeRequest(
        draft({ class: changeClass, touches: [...touches], evidence: [...evidence] }),
        {
          by: 'rita',
          at: T0,
        },
      );
      expect(result).toEqual({
        ok: false,
        code: 'EVIDENCE_MISSING',
        message: `change request cr-1 lacks evidence: ${missing.join(', ')}`,
        details: { missing },
      });
    },
  );

  it('submit: when the evidence is complete, the result is under review in round 1 with its SLA due time', () => {
    const result = submitChangeRequest(draft(), { by: 'rita', at: T0 });
    expect(result.ok && result.state).toMatchObject({ status: 'under_review', round: 1, submittedAt: T0, votes: [] });
    expect(result.ok && result.events).toEqual([
      {
        type: 'SUBMITTED',
        at: T0,
        by: 'rita',
        round: 1,
        requiredRoles: ['ccb-chair', 'integration-specialist', 'data-steward'],
        slaDueAt: hoursLater(48),
      },
    ]);
  });

  it.each([
    ['someone else submits', 'ROLE_REQUIRED', () => draft(), 'carl'],
    ['it is already under review', 'INVALID_STATE', () => submitted(), 'rita'],
  ] as const)('submit: when %s, the result is %s', (_case, code, make, by) => {
    expect(submitChangeRequest(make(), { by, at: T0 })).toMatchObject({ ok: false, code });
  });
});

describe('canDecide and applyDecision', () => {
  const approved = () =>
    votes(submitted(), [
      ['carl', 'ccb-chair'],
      ['ines', 'integration-specialist'],
      ['dana', 'data-steward'],
    ]);

  it.each([
    [
      'the requester approves their own change',
      'SELF_APPROVAL_FORBIDDEN',
      submitted,
      decision('rita', 'integration-specialist'),
      'rita',
    ],
    [
      'the requester rejects their own change',
      'SELF_APPROVAL_FORBIDDEN',
      submitted,
      decision('rita', 'integration-specialist', 'reject', 'x'),
      'rita',
    ],
    ['a user votes in a role they lack', 'ROLE_REQUIRED', submitted, decision('carl', 'data-steward'), 'carl'],
    [
      'a user votes twice in a round',
      'ALREADY_DECIDED',
      () => ok(vote(submitted(), 'carl', 'ccb-chair')),
      decision('carl', 'ccb-chair'),
      'carl',
    ],
    [
      'a user votes again in another of their roles',
      'ALREADY_DECIDED',
      () => ok(vote(submitted(), 'max', 'ccb-chair')),
      decision('max', 'data-steward'),
      'max',
    ],
    ['a user whose vote closed the round votes again', 'ALREADY_DECIDED', approved, decision('dana', 'data-steward'), 'dana'],
    ['the request is still a draft', 'INVALID_STATE', draft, decision('carl', 'ccb-chair'), 'carl'],
    ['the request is already approved', 'INVALID_STATE', approved, decision('mo', 'ccb-member'), 'mo'],
    [
      'the role has already approved',
      'INVALID_STATE',
      () => ok(vote(submitted(), 'ines', 'integration-specialist')),
      decision('ivan', 'integration-specialist'),
      'ivan',
    ],
    ['the role is not part of the class', 'INVALID_STATE', submitted, decision('fay', 'finance'), 'fay'],
    [
      'an optional role votes once the quorum is covered',
      'INVALID_STATE',
      submitted,
      decision('mo', 'ccb-member'),
      'mo',
    ],
    ['a rejection has no reason', 'VALIDATION_FAILED', submitted, decision('carl', 'ccb-chair', 'reject'), 'carl'],
    [
      'a change request has a blank reason',
      'VALIDATION_FAILED',
      submitted,
      decision('carl', 'ccb-chair', 'request_changes', '   '),
      'carl',
    ],
    [
      'the decision names another user than the actor',
      'VALIDATION_FAILED',
      submitted,
      decision('carl', 'ccb-chair'),
      'max',
    ],
    [
      'the decision time is not ISO',
      'VALIDATION_FAILED',
      submitted,
      { ...decision('carl', 'ccb-chair'), at: 'noon' },
      'carl',
    ],
  ] as const)('decide: when %s, the result is %s', (_case, code, make, d, actor) => {
    const state = make();
    const check = canDecide(state, d, people[actor]);
    expect(check.ok === false && check.code).toBe(code);
    expect(applyDecision(state, d, people[actor])).toEqual(check);
  });

  it('canDecide: when the decision is acceptable, the result is ok and carries the parsed decision', () => {
    const d = decision('carl', 'ccb-chair', 'approve', ' looks good ');
    expect(canDecide(submitted(), d, people.carl)).toEqual({ ok: true, decision: { ...d, reason: 'looks good' } });
  });

  it.each([
    [
      'normal',
      [],
      [
        ['carl', 'ccb-chair'],
        ['ines', 'integration-specialist'],
        ['dana', 'data-steward'],
      ],
      'approved',
      [],
    ],
    [
      'normal',
      [],
      [
        ['carl', 'ccb-chair'],
        ['ines', 'integration-specialist'],
      ],
      'under_review',
      ['data-steward'],
    ],
    [
      'normal',
      [],
      [
        ['max', 'data-steward'],
        ['carl', 'ccb-chair'],
      ],
      'under_review',
      ['integration-specialist'],
    ],
    [
      'normal',
      ['personal-data'],
      [
        ['carl', 'ccb-chair'],
        ['ines', 'integration-specialist'],
        ['dana', 'data-steward'],
      ],
      'under_review',
      ['security-officer'],
    ],
    [
      'normal',
      ['security-data'],
      [
        ['carl', 'ccb-chair'],
        ['ines', 'integration-specialist'],
        ['dana', 'data-steward'],
        ['sam', 'security-officer'],
      ],
      'approved',
      [],
    ],
    ['emergency', [], [], 'under_review', ['ccb-chair', 'integration-specialist', 'data-steward', 'security-officer']],
    ['emergency', [], [['ines', 'integration-specialist']], 'under_review', ['ccb-chair']],
    [
      'emergency',
      [],
      [['carl', 'ccb-chair']],
      'under_review',
      ['integration-specialist', 'data-steward', 'security-officer'],
    ],
    [
      'emergency',
      [],
      [
        ['carl', 'ccb-chair'],
        ['dana', 'data-steward'],
      ],
      'approved',
      [],
    ],
    ['standard', [], [['mo', 'ccb-member']], 'approved', []],
    [
      'normal',
      [],
      [
        ['carl', 'ccb-chair'],
        ['dana', 'data-steward', 'reject'],
      ],
      'rejected',
      [],
    ],
    ['emergency', [], [['ines', 'integration-specialist', 'reject']], 'rejected', []],
    ['normal', [], [['ines', 'integration-specialist', 'request_changes']], 'changes_requested', []],
  ] as const)(
    'decide: when the %s change touching %j gets votes %j, the result is %s with pending roles %j',
    (changeClass, touches, list, status, pending) => {
      const state = votes(submitted({ class: changeClass, touches: [...touches] }), list);
      expect(state.status).toBe(status);
      expect(pendingRoles(state)).toEqual(pending);
      expect(state.votes.map((v) => [v.by, v.role, v.decision])).toEqual(
        list.map(([w, r, k]) => [w, r, k ?? 'approve']),
      );
    },
  );

  it('decide: when the last required role approves, the result records the decision and the approval', () => {
    const before = votes(submitted(), [
      ['carl', 'ccb-chair'],
      ['ines', 'integration-specialist'],
    ]);
    const result = vote(before, 'dana', 'data-steward');
    expect(result.ok && result.events).toEqual([
      {
        type: 'DECISION_RECORDED',
        at: hoursLater(1),
        by: 'dana',
        vote: { round: 1, role: 'data-steward', decision: 'approve', by: 'dana', at: hoursLater(1) },
      },
      { type: 'APPROVED', at: hoursLater(1), round: 1, retrospectiveDueAt: null },
    ]);
    expect(result.ok && result.state.closedAt).toBe(hoursLater(1));
  });

  it('decide: when a reviewer rejects, the result carries who and why', () => {
    const result = vote(submitted(), 'dana', 'data-steward', 'reject', 'tariff codes unmapped');
    expect(result.ok && result.events[1]).toEqual({
      type: 'REJECTED',
      at: hoursLater(1),
      by: 'dana',
      round: 1,
      reason: 'tariff codes unmapped',
    });
  });
});

describe('rework rounds', () => {
  const sentBack = () =>
    votes(submitted(), [
      ['carl', 'ccb-chair'],
      ['ines', 'integration-specialist', 'request_changes'],
    ]);

  it('rework: when changes are requested, the result keeps the round votes visible to the requester', () => {
    const state = sentBack();
    expect(state.status).toBe('changes_requested');
    expect(state.votes.map((v) => v.by)).toEqual(['carl', 'ines']);
    expect(slaDueAt(state)).toBeNull();
  });

  it('rework: when the requester resubmits, the result is round 2 with earlier votes archived and cleared', () => {
    const resubmitted = ok(submitChangeRequest(sentBack(), { by: 'rita', at: hoursLater(30) }));
    expect(resubmitted).toMatchObject({ status: 'under_review', round: 2, votes: [], submittedAt: hoursLater(30) });
    expect(resubmitted.pastRounds).toEqual([
      { round: 1, votes: sentBack().votes, submittedAt: T0, slaBreachedAt: null },
    ]);
    expect(pendingRoles(resubmitted)).toEqual(['ccb-chair', 'integration-specialist', 'data-steward']);
    expect(slaDueAt(resubmitted)).toBe(hoursLater(78));
  });

  it('rework: when an earlier voter votes in the new round, the result accepts it', () => {
    const resubmitted = ok(submitChangeRequest(sentBack(), { by: 'rita', at: hoursLater(30) }));
    const result = vote(resubmitted, 'carl', 'ccb-chair');
    expect(result.ok && result.state.votes).toEqual([
      { round: 2, role: 'ccb-chair', decision: 'approve', by: 'carl', at: hoursLater(1) },
    ]);
  });
});

describe('withdrawChangeRequest', () => {
  it.each([
    ['draft', 'rita', 'ok', () => draft()],
    ['under_review', 'rita', 'ok', () => submitted()],
    ['changes_requested', 'rita', 'ok', () => ok(vote(submitted(), 'carl', 'ccb-chair', 'request_changes', 'x'))],
    ['approved', 'rita', 'INVALID_STATE', () => votes(submitted({ class: 'standard' }), [['mo', 'ccb-member']])],
    ['rejected', 'rita', 'INVALID_STATE', () => ok(vote(submitted(), 'carl', 'ccb-chair', 'reject', 'x'))],
    ['under_review', 'carl', 'ROLE_REQUIRED', () => submitted()],
  ] as const)('withdraw: when the request is %s and %s withdraws, the result is %s', (_status, by, code, make) => {
    const result = withdrawChangeRequest(make(), { by, at: hoursLater(5), reason: 'superseded' });
    if (code === 'ok') {
      expect(result.ok && result.state).toMatchObject({ status: 'withdrawn', closedAt: hoursLater(5) });
      expect(result.ok && result.events).toEqual([{ type: 'WITHDRAWN', at: hoursLater(5), by, reason: 'superseded' }]);
      expect(result.ok && pendingRoles(result.state)).toEqual([]);
    } else {
      expect(result.ok === false && result.code).toBe(code);
    }
  });
});

describe('SLA, reminders and expiry', () => {
  it.each([
    ['normal', hoursLater(48), [hoursLater(24), hoursLater(40)]],
    ['emergency', hoursLater(4), []],
    ['standard', hoursLater(24), []],
  ] as const)(
    'deadlines: when the %s change is submitted, the SLA is due at %s with reminders %j',
    (changeClass, due, reminders) => {
      const state = submitted({ class: changeClass });
      expect(slaDueAt(state)).toBe(due);
      expect(reminderDueTimes(state)).toEqual(reminders);
    },
  );

  it.each([
    ['a draft', () => draft()],
    ['an approved request', () => votes(submitted({ class: 'standard' }), [['mo', 'ccb-member']])],
  ] as const)('deadlines: when the request is %s, the result has no SLA or reminders', (_case, make) => {
    expect([slaDueAt(make()), reminderDueTimes(make())]).toEqual([null, []]);
  });

  it.each([
    [47.99, 'INVALID_STATE'],
    [48, 'ok'],
    [60, 'ok'],
  ] as const)('recordSlaBreach: when checked %d hours after submission, the result is %s', (hours, code) => {
    const result = recordSlaBreach(submitted(), hoursLater(hours));
    if (code === 'ok') {
      expect(result.ok && result.events).toEqual([
        {
          type: 'SLA_BREACHED',
          at: hoursLater(hours),
          round: 1,
          dueAt: hoursLater(48),
          pendingRoles: ['ccb-chair', 'integration-specialist', 'data-steward'],
          onBreach: { action: 'escalate', ladder: 'normal' },
        },
      ]);
      expect(result.ok && result.state.status).toBe('under_review');
    } else {
      expect(result.ok === false && result.code).toBe(code);
    }
  });

  it('recordSlaBreach: when the breach was already recorded this round, the result is INVALID_STATE', () => {
    const breached = ok(recordSlaBreach(submitted(), hoursLater(48)));
    expect(recordSlaBreach(breached, hoursLater(49))).toMatchObject({ ok: false, code: 'INVALID_STATE' });
  });

  it('recordSlaBreach: when a breached round is sent back and resubmitted, the new round can breach again', () => {
    const breached = ok(recordSlaBreach(submitted(), hoursLater(48)));
    const sentBack = ok(vote(breached, 'carl', 'ccb-chair', 'request_changes', 'x'));
    const round2 = ok(submitChangeRequest(sentBack, { by: 'rita', at: hoursLater(50) }));
    expect(round2.slaBreachedAt).toBeNull();
    expect(round2.pastRounds[0].slaBreachedAt).toBe(hoursLater(48));
    expect(recordSlaBreach(round2, hoursLater(97)).ok).toBe(false);
    expect(recordSlaBreach(round2, hoursLater(98)).ok).toBe(true);
  });

  it.each([
    ['before the SLA', 'INVALID_STATE', () => submitted(), 10],
    ['after the SLA', 'ok', () => submitted(), 48],
    [
      'while changes are requested',
      'INVALID_STATE',
      () => ok(vote(submitted(), 'carl', 'ccb-chair', 'request_changes', 'x')),
      100,
    ],
  ] as const)('expire: when asked %s, the result is %s', (_case, code, make, hours) => {
    const result = expireChangeRequest(make(), hoursLater(hours));
    if (code === 'ok') {
      expect(result.ok && result.state).toMatchObject({ status: 'expired', closedAt: hoursLater(hours) });
      expect(result.ok && result.events).toEqual([{ type: 'EXPIRED', at: hoursLater(hours), round: 1 }]);
    } else {
      expect(result.ok === false && result.code).toBe(code);
    }
  });

  it('expire: when the request has expired, a late vote is INVALID_STATE', () => {
    const expired = ok(expireChangeRequest(submitted(), hoursLater(48)));
    expect(vote(expired, 'carl', 'ccb-chair')).toMatchObject({ ok: false, code: 'INVALID_STATE' });
  });

  it.each([
    [
      'emergency',
      addMs(hoursLater(1), 120 * H),
      [
        ['carl', 'ccb-chair'],
        ['ines', 'integration-specialist'],
      ],
    ],
    [
      'normal',
      null,
      [
        ['carl', 'ccb-chair'],
        ['ines', 'integration-specialist'],
        ['dana', 'data-steward'],
      ],
    ],
  ] as const)('retrospectiveDueAt: when the %s change is approved, the result is %s', (changeClass, due, list) => {
    const approved = votes(submitted({ class: changeClass }), list);
    expect(approved.status).toBe('approved');
    expect(retrospectiveDueAt(approved)).toBe(due);
  });
});

describe('escalations of a passed SLA', () => {
  const breached = () => ok(recordSlaBreach(submitted(), hoursLater(48)));
  const link = { escalationId: 'esc-cr-1-round-1-sla', round: 1, ladder: 'normal', at: hoursLater(48) };

  it('linkEscalation: when the SLA of a round passed, the escalation is linked and the view shows its id', () => {
    const result = linkEscalation(breached(), link);
    expect(result.ok && result.events).toEqual([
      { type: 'ESCALATION_STARTED', at: hoursLater(48), round: 1, escalationId: link.escalationId, ladder: 'normal' },
    ]);
    const view = result.ok && toView(result.state);
    expect(view).toMatchObject({ status: 'under_review', escalationId: link.escalationId });
    expect(view && view.escalations).toEqual([
      {
        round: 1,
        escalationId: link.escalationId,
        ladder: 'normal',
        startedAt: hoursLater(48),
        status: 'open',
        resolution: null,
      },
    ]);
  });

  it.each([
    ['the round already has one', 'INVALID_STATE', () => ok(linkEscalation(breached(), link)), {}],
    ['the round does not exist', 'VALIDATION_FAILED', breached, { round: 2 }],
    ['the id is blank', 'VALIDATION_FAILED', breached, { escalationId: ' ' }],
  ] as const)('linkEscalation: when %s, the result is %s', (_case, code, make, override) => {
    expect(linkEscalation(make(), { ...link, ...override })).toMatchObject({ ok: false, code });
  });

  it('settleEscalation: when the escalation is resolved, the link records it and the change is still under review', () => {
    const linked = ok(linkEscalation(breached(), link));
    const resolution = { note: 'chair chased the steward', by: 'carl', at: hoursLater(50) };
    const result = settleEscalation(linked, {
      escalationId: link.escalationId,
      status: 'resolved',
      resolution,
      at: hoursLater(50),
    });
    expect(result.ok && result.state).toMatchObject({ status: 'under_review', votes: [], closedAt: null });
    expect(result.ok && result.state.escalations[0]).toMatchObject({ status: 'resolved', resolution });
    expect(result.ok && pendingRoles(result.state)).toEqual(['ccb-chair', 'integration-specialist', 'data-steward']);
    const again = settleEscalation(ok(result), {
      escalationId: link.escalationId,
      status: 'resolved',
      resolution,
      at: hoursLater(51),
    });
    expect(again.ok && again.events).toEqual([]);
  });

  it('settleEscalation: when the escalation is not linked to the request, the result is VALIDATION_FAILED', () => {
    const outcome = { escalationId: 'esc-other', status: 'resolved', resolution: null, at: hoursLater(50) };
    expect(settleEscalation(breached(), outcome)).toMatchObject({ ok: false, code: 'VALIDATION_FAILED' });
  });
});

describe('retrospective review', () => {
  const approvedEmergency = (changePolicy = policy) =>
    votes({ ...submitted({ class: 'emergency' }), policy: changePolicy }, [
      ['carl', 'ccb-chair'],
      ['ines', 'integration-specialist'],
    ]);
  const found = { outcome: 'ratified', notes: 'Incident fix held; no side effects in the week after.' } as const;
  const due = addMs(hoursLater(1), 120 * H);

  it('applyDecision: when an emergency change is approved, it owes a retrospective review by the chair, due after the window', () => {
    const approved = approvedEmergency();
    expect(approved.retrospective).toEqual({ dueAt: due, owner: 'ccb-chair', status: 'pending', overdueAt: null, review: null });
    expect(toView(approved)).toMatchObject({ retrospectiveDueAt: due, retrospective: { status: 'pending' } });
  });

  it('applyDecision: when a normal change is approved, it owes no retrospective review', () => {
    const approved = votes(submitted(), [
      ['carl', 'ccb-chair'],
      ['ines', 'integration-specialist'],
      ['dana', 'data-steward'],
    ]);
    expect(approved.retrospective).toBeNull();
    expect(recordRetrospective(approved, found, people.max, hoursLater(2))).toMatchObject({ ok: false, code: 'INVALID_STATE' });
  });

  it('recordRetrospective: when the chair records it, the review is kept and the event names outcome and notes', () => {
    const result = recordRetrospective(approvedEmergency(), found, people.max, hoursLater(30));
    expect(result.ok && result.state.retrospective).toMatchObject({
      status: 'recorded',
      review: { ...found, by: 'max', at: hoursLater(30) },
    });
    expect(result.ok && result.events).toEqual([
      { type: 'RETROSPECTIVE_RECORDED', at: hoursLater(30), by: 'max', ...found, dueAt: due },
    ]);
    expect(result.ok && result.state.status).toBe('approved');
  });

  it.each([
    ['the requester records it (even holding the role)', { ...people.rita, roles: ['ccb-chair'] }, found, 'SELF_APPROVAL_FORBIDDEN'],
    ['a user without the owner role records it', people.dana, found, 'ROLE_REQUIRED'],
    ['the notes are blank', people.max, { ...found, notes: '  ' }, 'VALIDATION_FAILED'],
    ['the outcome is unknown', people.max, { ...found, outcome: 'fine' }, 'VALIDATION_FAILED'],
  ] as const)('recordRetrospective: when %s, the result is %s', (_case, actor, input, code) => {
    const result = recordRetrospective(approvedEmergency(), input as typeof found, actor, hoursLater(30));
    expect(result).toMatchObject({ ok: false, code });
  });

  it('recordRetrospective: when one is already recorded, a second is ALREADY_DECIDED naming who recorded it', () => {
    const recorded = ok(recordRetrospective(approvedEmergency(), found, people.max, hoursLater(30)));
    expect(recordRetrospective(recorded, found, people.carl, hoursLater(31))).toMatchObject({
      ok: false,
      code: 'ALREADY_DECIDED',
      details: { by: 'max', at: hoursLater(30), outcome: 'ratified' },
    });
  });

  it('recordRetrospective: when the emergency change is still under review, the result is INVALID_STATE', () => {
    const reviewing = submitted({ class: 'emergency' });
    expect(recordRetrospective(reviewing, found, people.max, hoursLater(1))).toMatchObject({ ok: false, code: 'INVALID_STATE' });
  });

  it('markRetrospectiveOverdue: before the due time it is refused; after it, recorded once; the review is still owed', () => {
    const approved = approvedEmergency();
    expect(markRetrospectiveOverdue(approved, addMs(due, -1))).toMatchObject({ ok: false, code: 'INVALID_STATE' });
    const overdue = markRetrospectiveOverdue(approved, due);
    expect(overdue.ok && overdue.events).toEqual([
      { type: 'RETROSPECTIVE_OVERDUE', at: due, dueAt: due, owner: 'ccb-chair', onOverdue: { action: 'notify' } },
    ]);
    expect(markRetrospectiveOverdue(ok(overdue), addMs(due, H))).toMatchObject({ ok: false, code: 'INVALID_STATE' });
    const late = recordRetrospective(ok(overdue), found, people.carl, addMs(due, H));
    expect(late.ok && late.state.retrospective).toMatchObject({ status: 'recorded', overdueAt: due });
  });

  it('policy: when the class names an owner, reminders and an escalation, the review follows them', () => {
    const custom = ChangeControlPolicy.parse({
      ...policy,
      classes: {
        ...policy.classes,
        emergency: {
          ...policy.classes.emergency,
          retrospective: {
            within: 'P5D',
            owner: 'ccb-member',
            reminders: ['P3D', 'P4D'],
            onOverdue: { action: 'escalate', ladder: 'normal' },
          },
        },
      },
    });
    const approved = approvedEmergency(custom);
    expect(approved.retrospective?.owner).toBe('ccb-member');
    expect(retrospectiveReminderTimes(approved)).toEqual([addMs(hoursLater(1), 72 * H), addMs(hoursLater(1), 96 * H)]);
    expect(recordRetrospective(approved, found, { id: 'boss', roles: ['ccb-chair'] }, hoursLater(2))).toMatchObject({
      ok: false,
      code: 'ROLE_REQUIRED',
    });
    const overdue = markRetrospectiveOverdue(approved, due);
    expect(overdue.ok && overdue.events[0]).toMatchObject({ onOverdue: { action: 'escalate', ladder: 'normal' } });
    const recorded = ok(recordRetrospective(approved, found, people.mo, hoursLater(2)));
    expect(retrospectiveReminderTimes(recorded)).toEqual([]);
  });

  it('linkEscalation: when the retrospective is escalated in a round that escalated its decision, both links are kept', () => {
    const breached = ok(recordSlaBreach(submitted({ class: 'emergency' }), hoursLater(4)));
    const round = { round: 1, ladder: 'critical', at: hoursLater(4) };
    const decisionLinked = ok(linkEscalation(breached, { ...round, escalationId: 'esc-sla' }));
    const approved = votes(decisionLinked, [
      ['carl', 'ccb-chair'],
      ['ines', 'integration-specialist'],
    ]);
    const retro = { ...round, escalationId: 'esc-retro', cause: 'retrospective' as const, at: due };
    const linked = ok(linkEscalation(approved, retro));
    expect(linked.escalations.map((e) => [e.escalationId, e.cause ?? 'decision'])).toEqual([
      ['esc-sla', 'decision'],
      ['esc-retro', 'retrospective'],
    ]);
    expect(linkEscalation(linked, retro)).toMatchObject({ ok: false, code: 'INVALID_STATE' });
    const settled = settleEscalation(linked, { escalationId: 'esc-retro', status: 'resolved', resolution: null, at: due });
    expect(settled.ok && settled.events[0]).toMatchObject({ type: 'ESCALATION_SETTLED', cause: 'retrospective' });
  });
});

describe('toView and serialization', () => {
  it('toView: when a request is under review, the result shows derived fields and leaves the policy out', () => {
    const view = toView(ok(vote(submitted({ touches: ['personal-data'] }), 'carl', 'ccb-chair')));
    expect(view).not.toHaveProperty('policy');
    expect(view).toMatchObject({
      id: 'cr-1',
      status: 'under_review',
      policyVersion: 'sha256:test',
      requiredRoles: ['ccb-chair', 'integration-specialist', 'data-steward', 'security-officer'],
      pendingRoles: ['integration-specialist', 'data-steward', 'security-officer'],
      requiredEvidence: ['documentation', 'test-evidence', 'rollback-plan', 'security-signoff'],
      missingEvidence: [],
      slaDueAt: hoursLater(48),
      reminderDueTimes: [hoursLater(24), hoursLater(40)],
      retrospectiveDueAt: null,
    });
  });

  it('state: when a request has gone through every kind of step, the result survives a JSON round trip unchanged', () => {
    let state = ok(vote(submitted(), 'carl', 'ccb-chair', 'request_changes', 'x'));
    state = ok(submitChangeRequest(state, { by: 'rita', at: hoursLater(2) }));
    state = ok(recordSlaBreach(state, hoursLater(60)));
    state = ok(vote(state, 'carl', 'ccb-chair'));
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    expect(pendingRoles(JSON.parse(JSON.stringify(state)))).toEqual(pendingRoles(state));
  });
});
