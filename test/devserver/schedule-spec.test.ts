import { ServerError } from '../../devserver/engine/errors';
import { durationMs, long, temporal, timestamp } from '../../devserver/proto';
import { compileSpec, nextTimes } from '../../devserver/schedules/spec';

type IScheduleSpec = temporal.api.schedule.v1.IScheduleSpec;

const HOUR = 3600_000;
const MINUTE = 60_000;
const seconds = (n: number) => ({ seconds: long(n) });
const utc = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const r = (start: number, end = start, step = 1) => ({ start, end, step });

const defaults = {
  second: [r(0)],
  minute: [r(0)],
  hour: [r(0)],
  dayOfMonth: [r(1, 31)],
  month: [r(1, 12)],
  dayOfWeek: [r(0, 6)],
  year: [],
  comment: '',
};

function refusal(spec: IScheduleSpec): ServerError {
  try {
    compileSpec(spec);
  } catch (e) {
    return e as ServerError;
  }
  throw new Error('the spec was accepted');
}

/** The nominal times, as ISO strings, of a spec compiled first. */
function times(spec: IScheduleSpec, after: string, count: number): string[] {
  return nextTimes(compileSpec(spec), utc(after), count).map((t) => iso(t.nominalMs));
}

describe('compileSpec', () => {
  it.each<[string, IScheduleSpec, object[]]>([
    ['an empty structured calendar gets every default', { structuredCalendar: [{}] }, [defaults]],
    ['a single value means start to start', { structuredCalendar: [{ hour: [{ start: 12 }] }] }, [{ ...defaults, hour: [r(12)] }]],
    ['a range gets step 1', { structuredCalendar: [{ hour: [{ start: 2, end: 7 }] }] }, [{ ...defaults, hour: [r(2, 7)] }]],
    ['an end before the start becomes the start', { structuredCalendar: [{ dayOfMonth: [{ start: 4, end: 0, step: 2 }] }] }, [{ ...defaults, dayOfMonth: [r(4, 4, 2)] }]],
    [
      'mixed ranges keep their order',
      { structuredCalendar: [{ minute: [{ start: 30 }, { start: 1, end: 10, step: 3 }, { start: 5 }], comment: 'mixed' }] },
      [{ ...defaults, minute: [r(30), r(1, 10, 3), r(5)], comment: 'mixed' }],
    ],
    [
      'string calendars: "*" is the full range, names and steps are read',
      { calendar: [{ second: '*', minute: '*/15', hour: '2-7', dayOfMonth: '1-20/5', month: 'JAN,mar-May', dayOfWeek: 'MON-WED,FRI', year: '2030' }] },
      [
        {
          second: [r(0, 59)],
          minute: [r(0, 59, 15)],
          hour: [r(2, 7)],
          dayOfMonth: [r(1, 20, 5)],
          month: [r(1), r(3, 5)],
          dayOfWeek: [r(1, 3), r(5)],
          year: [r(2030)],
          comment: '',
        },
      ],
    ],
    ['an empty string calendar gets every default', { calendar: [{}] }, [defaults]],
    [
      'cron: five fields',
      { cronString: ['0 12 * * MON-WED,FRI'] },
      [{ ...defaults, hour: [r(12)], dayOfWeek: [r(1, 3), r(5)] }],
    ],
    ['cron: @hourly', { cronString: ['@hourly'] }, [{ ...defaults, hour: [r(0, 23)] }]],
    ['cron: @weekly', { cronString: ['@weekly'] }, [{ ...defaults, dayOfWeek: [r(0)] }]],
    ['cron: six fields end with the year', { cronString: ['30 6 * * * 2030-2035'] }, [{ ...defaults, minute: [r(30)], hour: [r(6)], year: [r(2030, 2035)] }]],
    [
      'cron: seven fields start with the second',
      { cronString: ['15 30 6 1 jan ? 2030'] },
      [{ ...defaults, second: [r(15)], minute: [r(30)], hour: [r(6)], dayOfMonth: [r(1)], month: [r(1)], year: [r(2030)] }],
    ],
    ['cron: a trailing comment', { cronString: ['0 9 * * * # morning run'] }, [{ ...defaults, hour: [r(9)], comment: 'morning run' }]],
    ['cron: 7 is Sunday', { cronString: ['0 0 * * 5-7'] }, [{ ...defaults, dayOfWeek: [r(0), r(5, 6)] }]],
    ['cron: step from a value runs to the maximum', { cronString: ['10/20 * * * *'] }, [{ ...defaults, minute: [r(10, 59, 20)], hour: [r(0, 23)] }]],
  ])('%s', (_name, spec, structured) => {
    const out = compileSpec(spec);
    expect(out.structuredCalendar).toEqual(structured);
    expect(out.cronString).toEqual([]);
    expect(out.calendar).toEqual([]);
    expect(out.excludeCalendar).toEqual([]);
  });

  it('appends compiled calendars after the structured ones, and exclusions likewise', () => {
    const out = compileSpec({
      structuredCalendar: [{ hour: [{ start: 1 }] }],
      calendar: [{ hour: '2' }],
      cronString: ['0 3 * * *'],
      excludeStructuredCalendar: [{ hour: [{ start: 4 }] }],
      excludeCalendar: [{ hour: '5' }],
    });
    expect(out.structuredCalendar!.map((c) => c.hour)).toEqual([[r(1)], [r(2)], [r(3)]]);
    expect(out.excludeStructuredCalendar!.map((c) => c.hour)).toEqual([[r(4)], [r(5)]]);
  });

  it.each([
    ['@every 1h30m', 90 * MINUTE, 0],
    ['@every 90s', 90_000, 0],
    ['@every 1h/5m', HOUR, 5 * MINUTE],
    ['@every 1d', 24 * HOUR, 0],
    ['@every 1.5h # comment', 90 * MINUTE, 0],
  ])('cron %s becomes an interval', (cron, every, phase) => {
    const out = compileSpec({ cronString: [cron], interval: [{ interval: seconds(60) }] });
    expect(out.structuredCalendar).toEqual([]);
    expect(out.interval!.map((iv) => [durationMs(iv.interval), durationMs(iv.phase)])).toEqual([
      [MINUTE, 0],
      [every, phase],
    ]);
  });

  it('takes the time zone from CRON_TZ= or TZ=', () => {
    const out = compileSpec({ cronString: ['CRON_TZ=Europe/Berlin 0 9 * * *'] });
    expect(out.timezoneName).toBe('Europe/Berlin');
    expect(out.structuredCalendar).toEqual([{ ...defaults, hour: [r(9)] }]);
    expect(compileSpec({ cronString: ['TZ=America/New_York @daily'] }).timezoneName).toBe('America/New_York');
    expect(compileSpec({ cronString: ['TZ=Asia/Tokyo 0 9 * * *'], timezoneName: 'Asia/Tokyo' }).timezoneName).toBe('Asia/Tokyo');
  });

  it('keeps the rest of the spec', () => {
    const spec: IScheduleSpec = {
      interval: [{ interval: seconds(3600), phase: seconds(300) }],
      startTime: timestamp(utc('2024-01-01T00:00:00Z')),
      endTime: timestamp(utc('2025-01-01T00:00:00Z')),
      jitter: seconds(30),
      timezoneName: 'UTC',
    };
    expect(compileSpec(spec)).toMatchObject(spec);
    expect(compileSpec(null)).toMatchObject({ structuredCalendar: [], interval: [], excludeStructuredCalendar: [], timezoneName: '' });
  });

  it.each<[string, IScheduleSpec, RegExp]>([
    ['hour 42 in a structured calendar', { structuredCalendar: [{ hour: [{ start: 42 }] }] }, /Hour/],
    ['hour 42 in a string calendar', { calendar: [{ hour: '42' }] }, /Hour value 42/],
    ['month 13', { calendar: [{ month: '13' }] }, /Month/],
    ['an end before its start', { structuredCalendar: [{ minute: [{ start: 30, end: 10 }] }] }, /Minute end/],
    ['day of week 7 in a structured calendar', { structuredCalendar: [{ dayOfWeek: [{ start: 7 }] }] }, /DayOfWeek/],
    ['minute 61', { cronString: ['61 * * * *'] }, /Minute value 61/],
    ['a word', { cronString: ['nonsense'] }, /5 to 7 fields/],
    ['too few fields', { cronString: ['* * *'] }, /5 to 7 fields/],
    ['an unknown name', { cronString: ['0 0 * * FUNDAY'] }, /DayOfWeek/],
    ['a zero step', { cronString: ['*/0 * * * *'] }, /step/],
    ['a reversed range', { cronString: ['0 0 * * FRI-MON'] }, /DayOfWeek/],
    ['a bad @every', { cronString: ['@every often'] }, /bad interval/],
    ['an unknown time zone', { timezoneName: 'Mars/Olympus_Mons' }, /unknown time zone/],
    ['an unknown time zone in a cron string', { cronString: ['CRON_TZ=Nowhere/Special 0 9 * * *'] }, /unknown time zone/],
    ['cron zones that disagree', { cronString: ['TZ=Europe/Berlin 0 9 * * *', '0 10 * * *'] }, /conflicting/],
    ['a cron zone against the spec zone', { cronString: ['TZ=Europe/Berlin 0 9 * * *'], timezoneName: 'Asia/Tokyo' }, /conflicting/],
    ['a negative jitter', { jitter: { seconds: long(-1) } }, /jitter/],
    ['a zero interval', { interval: [{ interval: seconds(0) }] }, /interval/],
    ['a missing interval', { interval: [{}] }, /interval/],
    ['a negative phase', { interval: [{ interval: seconds(60), phase: { seconds: long(-5) } }] }, /phase/],
    ['a phase past the interval', { interval: [{ interval: seconds(60), phase: seconds(61) }] }, /phase cannot be greater than Interval/],
    ['a start after the end', { startTime: seconds(2000), endTime: seconds(1000) }, /startTime/],
  ])('refuses %s', (_name, spec, message) => {
    const e = refusal(spec);
    expect(e).toBeInstanceOf(ServerError);
    expect(e.code).toBe(3); // INVALID_ARGUMENT
    expect(e.message).toMatch(message);
  });
});

describe('nextTimes', () => {
  it('fires an hourly interval with a 5 minute offset at hh:05 UTC', () => {
    expect(times({ interval: [{ interval: seconds(3600), phase: seconds(300) }] }, '2024-01-01T10:07:30.250Z', 3)).toEqual([
      '2024-01-01T11:05:00.000Z',
      '2024-01-01T12:05:00.000Z',
      '2024-01-01T13:05:00.000Z',
    ]);
  });

  it('treats a phase equal to the interval as none', () => {
    expect(times({ interval: [{ interval: seconds(3600), phase: seconds(3600) }] }, '2024-01-01T10:00:00Z', 1)).toEqual(['2024-01-01T11:00:00.000Z']);
  });

  it('returns only times strictly after the given instant', () => {
    expect(times({ interval: [{ interval: seconds(3600) }] }, '2024-01-01T10:00:00Z', 1)).toEqual(['2024-01-01T11:00:00.000Z']);
    expect(times({ cronString: ['0 10 * * *'] }, '2024-01-01T10:00:00Z', 1)).toEqual(['2024-01-02T10:00:00.000Z']);
    expect(times({ cronString: ['0 10 * * *'] }, '2024-01-01T09:59:59.999Z', 1)).toEqual(['2024-01-01T10:00:00.000Z']);
  });

  it('walks hours 2-7 across a day boundary', () => {
    expect(times({ structuredCalendar: [{ hour: [{ start: 2, end: 7 }] }] }, '2024-01-01T06:30:00Z', 4)).toEqual([
      '2024-01-01T07:00:00.000Z',
      '2024-01-02T02:00:00.000Z',
      '2024-01-02T03:00:00.000Z',
      '2024-01-02T04:00:00.000Z',
    ]);
  });

  it('follows step ranges in every field', () => {
    expect(times({ calendar: [{ minute: '*/20', hour: '9-17/4' }] }, '2024-01-01T16:30:00Z', 5)).toEqual([
      '2024-01-01T17:00:00.000Z',
      '2024-01-01T17:20:00.000Z',
      '2024-01-01T17:40:00.000Z',
      '2024-01-02T09:00:00.000Z',
      '2024-01-02T09:20:00.000Z',
    ]);
    // Days 1, 11, 21 and 31 of the month: February has only three.
    expect(times({ structuredCalendar: [{ dayOfMonth: [{ start: 1, end: 31, step: 10 }] }] }, '2024-01-25T00:00:00Z', 5)).toEqual([
      '2024-01-31T00:00:00.000Z',
      '2024-02-01T00:00:00.000Z',
      '2024-02-11T00:00:00.000Z',
      '2024-02-21T00:00:00.000Z',
      '2024-03-01T00:00:00.000Z',
    ]);
  });

  it('ANDs day of month and day of week', () => {
    // Friday the 13th.
    expect(times({ cronString: ['0 0 13 * FRI'] }, '2024-01-01T00:00:00Z', 3)).toEqual([
      '2024-09-13T00:00:00.000Z',
      '2024-12-13T00:00:00.000Z',
      '2025-06-13T00:00:00.000Z',
    ]);
  });

  // How fast these searches are is a benchmark's business, not these tests'.
  it('finds a Monday February 29th decades ahead', () => {
    const found = times({ calendar: [{ hour: '12', dayOfMonth: '29', month: 'FEB', dayOfWeek: 'MON' }] }, '2024-03-01T00:00:00Z', 2);
    expect(found).toEqual(['2044-02-29T12:00:00.000Z', '2072-02-29T12:00:00.000Z']);
  });

  it('gives up after about a century and returns what it found', () => {
    expect(times({ cronString: ['0 0 30 2 *'] }, '2024-01-01T00:00:00Z', 1)).toEqual([]);
    expect(times({ cronString: ['0 0 1 1 * 2030'] }, '2024-01-01T00:00:00Z', 3)).toEqual(['2030-01-01T00:00:00.000Z']);
  });

  it('skips times an exclusion matches', () => {
    // 2024-01-05 is a Friday: the weekend's runs are dropped.
    const spec: IScheduleSpec = { cronString: ['0 9 * * *'], excludeCalendar: [{ second: '*', minute: '*', hour: '*', dayOfWeek: 'SAT,SUN' }] };
    expect(times(spec, '2024-01-05T00:00:00Z', 3)).toEqual(['2024-01-05T09:00:00.000Z', '2024-01-08T09:00:00.000Z', '2024-01-09T09:00:00.000Z']);
    // An exclusion with the default clock fields only drops the runs at exactly that time.
    const noon: IScheduleSpec = { cronString: ['0 * * * *'], excludeStructuredCalendar: [{ hour: [{ start: 12 }] }] };
    expect(times(noon, '2024-01-01T10:30:00Z', 3)).toEqual(['2024-01-01T11:00:00.000Z', '2024-01-01T13:00:00.000Z', '2024-01-01T14:00:00.000Z']);
  });

  it('gets past weeks of excluded per-second times', () => {
    // Found at all, the times show excluded stretches are skipped whole: taking the 1.7 million excluded seconds one
    // by one, the search would stop at its bound of 100,000 candidates with nothing.
    const spec: IScheduleSpec = { cronString: ['* * * * * * *'], excludeCalendar: [{ second: '*', minute: '*', hour: '*', dayOfMonth: '1-20' }] };
    expect(times(spec, '2025-01-01T00:00:00Z', 2)).toEqual(['2025-01-21T00:00:00.000Z', '2025-01-21T00:00:01.000Z']);
    expect(times({ ...spec, timezoneName: 'Europe/Berlin' }, '2025-01-01T00:00:00Z', 1)).toEqual(['2025-01-20T23:00:00.000Z']);
    // An exclusion that matches every time leaves nothing.
    expect(times({ cronString: ['@hourly'], excludeCalendar: [{ second: '*', minute: '*', hour: '*' }] }, '2025-01-01T00:00:00Z', 1)).toEqual([]);
  });

  it('keeps within the start and end times, both inclusive', () => {
    const spec: IScheduleSpec = {
      interval: [{ interval: seconds(3600) }],
      startTime: timestamp(utc('2024-01-01T06:00:00Z')),
      endTime: timestamp(utc('2024-01-01T09:00:00Z')),
    };
    expect(times(spec, '2024-01-01T00:00:00Z', 10)).toEqual([
      '2024-01-01T06:00:00.000Z',
      '2024-01-01T07:00:00.000Z',
      '2024-01-01T08:00:00.000Z',
      '2024-01-01T09:00:00.000Z',
    ]);
    expect(times(spec, '2024-01-01T08:30:00Z', 10)).toEqual(['2024-01-01T09:00:00.000Z']);
    expect(times(spec, '2024-01-01T09:00:00Z', 10)).toEqual([]);
  });

  it('counts a time named by several specs once', () => {
    const spec: IScheduleSpec = { interval: [{ interval: seconds(1800) }], cronString: ['0 * * * *', '@hourly'] };
    expect(times(spec, '2024-01-01T00:00:00Z', 4)).toEqual([
      '2024-01-01T00:30:00.000Z',
      '2024-01-01T01:00:00.000Z',
      '2024-01-01T01:30:00.000Z',
      '2024-01-01T02:00:00.000Z',
    ]);
  });

  it('matches calendars in the spec time zone across the March DST change', () => {
    expect(times({ cronString: ['CRON_TZ=Europe/Berlin 0 9 * * *'] }, '2025-03-28T00:00:00Z', 4)).toEqual([
      '2025-03-28T08:00:00.000Z',
      '2025-03-29T08:00:00.000Z',
      '2025-03-30T07:00:00.000Z',
      '2025-03-31T07:00:00.000Z',
    ]);
  });

  it('skips a wall-clock time that does not exist on the spring-forward day', () => {
    expect(times({ calendar: [{ hour: '2', minute: '30' }], timezoneName: 'Europe/Berlin' }, '2025-03-28T00:00:00Z', 4)).toEqual([
      '2025-03-28T01:30:00.000Z',
      '2025-03-29T01:30:00.000Z',
      '2025-03-31T00:30:00.000Z',
      '2025-04-01T00:30:00.000Z',
    ]);
  });

  it.each([
    ['Europe/Berlin', '2025-10-25T22:00:00Z'],
    ['Europe/Berlin', '2025-03-29T22:00:00Z'],
    ['America/New_York', '2025-11-01T22:00:00Z'],
    ['Australia/Lord_Howe', '2025-04-05T10:00:00Z'],
  ])('fires a per-minute calendar in %s every minute of real time across the DST change after %s', (zone, after) => {
    const found = nextTimes(compileSpec({ cronString: [`CRON_TZ=${zone} * * * * *`] }), utc(after), 2000).map((t) => t.nominalMs);
    expect(found[0]).toBe(utc(after) + MINUTE);
    expect(new Set(found.slice(1).map((t, i) => t - found[i]))).toEqual(new Set([MINUTE]));
  });

  it('fires a wall-clock time that occurs twice at both of its instants, as a real server does', () => {
    const spec: IScheduleSpec = { calendar: [{ hour: '2', minute: '30' }], timezoneName: 'Europe/Berlin' };
    expect(times(spec, '2025-10-25T00:00:00Z', 4)).toEqual([
      '2025-10-25T00:30:00.000Z',
      '2025-10-26T00:30:00.000Z', // 02:30 summer time
      '2025-10-26T01:30:00.000Z', // 02:30 again, winter time
      '2025-10-27T01:30:00.000Z',
    ]);
    // From between the two, the second is next.
    expect(times(spec, '2025-10-26T01:00:00Z', 1)).toEqual(['2025-10-26T01:30:00.000Z']);
  });

  it('adds deterministic jitter below the bound, never past the next nominal time', () => {
    const spec = compileSpec({ interval: [{ interval: seconds(3600) }], jitter: seconds(600) });
    const after = utc('2024-01-01T00:00:00Z');
    const a = nextTimes(spec, after, 50, 'schedule-a');
    expect(nextTimes(spec, after, 50, 'schedule-a')).toEqual(a);
    for (const t of a) {
      expect(t.nominalMs % HOUR).toBe(0);
      expect(t.actualMs - t.nominalMs).toBeGreaterThanOrEqual(0);
      expect(t.actualMs - t.nominalMs).toBeLessThan(600_000);
    }
    expect(new Set(a.map((t) => t.actualMs - t.nominalMs)).size).toBeGreaterThan(10);
    const b = nextTimes(spec, after, 50, 'schedule-b');
    expect(b.map((t) => t.nominalMs)).toEqual(a.map((t) => t.nominalMs));
    expect(b.map((t) => t.actualMs)).not.toEqual(a.map((t) => t.actualMs));

    const wide = nextTimes(compileSpec({ interval: [{ interval: seconds(60) }], jitter: seconds(3600) }), after, 50, 'x');
    for (const [i, t] of wide.entries()) {
      expect(t.actualMs).toBeLessThan(t.nominalMs + MINUTE);
      if (i > 0) expect(t.actualMs).toBeGreaterThan(wide[i - 1].actualMs);
    }
  });

  it('without jitter, the actual time is the nominal one', () => {
    for (const t of nextTimes(compileSpec({ cronString: ['*/5 * * * *'] }), utc('2024-01-01T00:00:00Z'), 5, 'seed')) {
      expect(t.actualMs).toBe(t.nominalMs);
    }
    expect(nextTimes(compileSpec({}), 0, 5)).toEqual([]);
    expect(nextTimes(compileSpec({ cronString: ['@daily'] }), 0, 0)).toEqual([]);
  });
});
