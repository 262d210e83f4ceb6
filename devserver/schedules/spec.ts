import { createHash } from 'node:crypto';
import { invalidArgument } from '../engine/errors';
import { durationMs, google, isNegative, long, temporal, timestampMs } from '../proto';

type IScheduleSpec = temporal.api.schedule.v1.IScheduleSpec;
type IStructuredCalendarSpec = temporal.api.schedule.v1.IStructuredCalendarSpec;
type ICalendarSpec = temporal.api.schedule.v1.ICalendarSpec;
type IIntervalSpec = temporal.api.schedule.v1.IIntervalSpec;
type IRange = temporal.api.schedule.v1.IRange;
type IDuration = google.protobuf.IDuration;

interface Range {
  start: number;
  end: number;
  step: number;
}

type FieldKey = 'second' | 'minute' | 'hour' | 'dayOfMonth' | 'month' | 'year' | 'dayOfWeek';

interface StructuredCalendar {
  second: Range[];
  minute: Range[];
  hour: Range[];
  dayOfMonth: Range[];
  month: Range[];
  year: Range[];
  dayOfWeek: Range[];
  comment: string;
}

interface Field {
  key: FieldKey;
  name: string;
  min: number;
  max: number;
  /** What an empty string-form field means. */
  def: string;
  names?: string[];
  /** Shortest accepted prefix of a name, as the real server reads them. */
  prefix?: number;
}

const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

// The real server only recognizes calendar years in this window.
const MIN_YEAR = 2000;
const MAX_YEAR = 2100;
const MAX_COMMENT = 200;

const FIELDS: Field[] = [
  { key: 'second', name: 'Second', min: 0, max: 59, def: '0' },
  { key: 'minute', name: 'Minute', min: 0, max: 59, def: '0' },
  { key: 'hour', name: 'Hour', min: 0, max: 23, def: '0' },
  { key: 'dayOfMonth', name: 'DayOfMonth', min: 1, max: 31, def: '*' },
  { key: 'month', name: 'Month', min: 1, max: 12, def: '*', names: MONTH_NAMES, prefix: 3 },
  { key: 'year', name: 'Year', min: MIN_YEAR, max: MAX_YEAR, def: '*' },
  { key: 'dayOfWeek', name: 'DayOfWeek', min: 0, max: 6, def: '*', names: DAY_NAMES, prefix: 2 },
];

const PREDEFINED = new Map([
  ['@yearly', '0 0 1 1 *'],
  ['@annually', '0 0 1 1 *'],
  ['@monthly', '0 0 1 * *'],
  ['@weekly', '0 0 * * 0'],
  ['@daily', '0 0 * * *'],
  ['@midnight', '0 0 * * *'],
  ['@hourly', '0 * * * *'],
]);

const DEFAULTS = Object.fromEntries(FIELDS.map((f) => [f.key, parseField(f.def, f, 'default')])) as Record<FieldKey, Range[]>;

/** The canonical form of a schedule spec, as a real server stores it and DescribeSchedule returns it; throws INVALID_ARGUMENT for a bad spec. */
export function compileSpec(spec: IScheduleSpec | null | undefined): IScheduleSpec {
  const s = spec ?? {};
  const structured = (s.structuredCalendar ?? []).map((c, i) => normalizeStructured(c, `invalid structured calendar ${i}`));
  for (const [i, c] of (s.calendar ?? []).entries()) structured.push(parseCalendar(c, `invalid calendar ${i}`));
  const excluded = (s.excludeStructuredCalendar ?? []).map((c, i) => normalizeStructured(c, `invalid exclude structured calendar ${i}`));
  for (const [i, c] of (s.excludeCalendar ?? []).entries()) excluded.push(parseCalendar(c, `invalid exclude calendar ${i}`));
  const intervals: IIntervalSpec[] = [...(s.interval ?? [])];

  let timezoneName = s.timezoneName ?? '';
  let cronZone: string | undefined;
  for (const text of s.cronString ?? []) {
    const cron = parseCron(text);
    if (cron.interval) {
      intervals.push(cron.interval);
      continue;
    }
    // A zone applies to every calendar of the spec, so cron strings naming different zones (or one naming
    // a zone and another none) cannot all mean what they say; the real server refuses them too.
    if (cronZone !== undefined && cronZone !== cron.zone) throw invalidArgument('conflicting timezone names in cron strings');
    cronZone = cron.zone;
    structured.push(cron.calendar);
  }
  if (cronZone) {
    if ((timezoneName && timezoneName !== cronZone) || s.timezoneData?.length) throw invalidArgument('conflicting timezone names');
    timezoneName = cronZone;
  }

  for (const iv of intervals) checkInterval(iv);
  if (timezoneName) checkZone(timezoneName);
  if (isNegative(s.jitter)) throw invalidArgument('jitter is negative');
  if (s.startTime && s.endTime && timestampMs(s.startTime) > timestampMs(s.endTime)) {
    throw invalidArgument('startTime is after endTime');
  }

  const out: IScheduleSpec = {
    structuredCalendar: structured,
    cronString: [],
    calendar: [],
    interval: intervals,
    excludeCalendar: [],
    excludeStructuredCalendar: excluded,
    timezoneName,
  };
  if (s.startTime) out.startTime = s.startTime;
  if (s.endTime) out.endTime = s.endTime;
  if (s.jitter) out.jitter = s.jitter;
  if (s.timezoneData?.length) out.timezoneData = s.timezoneData;
  return out;
}

function normalizeStructured(cal: IStructuredCalendarSpec | null | undefined, where: string): StructuredCalendar {
  const out = { comment: checkComment(cal?.comment ?? '', where) } as StructuredCalendar;
  for (const f of FIELDS) {
    const given = cal?.[f.key] ?? [];
    out[f.key] = given.length ? given.map((r) => normalizeRange(r, f, where)) : DEFAULTS[f.key].map((r) => ({ ...r }));
  }
  return out;
}

function normalizeRange(r: IRange | null | undefined, f: Field, where: string): Range {
  const start = r?.start ?? 0;
  const end = r?.end ?? 0;
  const step = r?.step ?? 0;
  if (!Number.isInteger(start) || start < f.min || start > f.max) {
    throw invalidArgument(`${where}: ${f.name} start ${start} is not in range [${f.min}-${f.max}]`);
  }
  // An end of 0 is the proto default, so it stands for "same as start" rather than a bound.
  if (!Number.isInteger(end) || (end !== 0 && (end < start || end > f.max))) {
    throw invalidArgument(`${where}: ${f.name} end ${end} is before start or not in range [${f.min}-${f.max}]`);
  }
  if (!Number.isInteger(step) || step < 0) throw invalidArgument(`${where}: ${f.name} has invalid step ${step}`);
  return { start, end: Math.max(start, end), step: step || 1 };
}

function checkComment(comment: string, where: string): string {
  if (comment.length > MAX_COMMENT) throw invalidArgument(`${where}: comment is longer than ${MAX_COMMENT} characters`);
  return comment;
}

function parseCalendar(cal: ICalendarSpec | null | undefined, where: string): StructuredCalendar {
  const out = { comment: checkComment(cal?.comment ?? '', where) } as StructuredCalendar;
  for (const f of FIELDS) out[f.key] = parseField(cal?.[f.key], f, where);
  return out;
}

/** Reads one cron-like field ("*", "2-7", "MON-WED,FRI", "3/10", "1-30/2") into ranges. */
function parseField(text: string | null | undefined, f: Field, where: string): Range[] {
  const s = (text ?? '').trim() || f.def;
  // Any year is stored as no ranges at all, since the year has no natural bound.
  if (f.key === 'year' && (s === '*' || s === '?')) return [];
  // Day of week accepts 7 for Sunday on input; it is folded to 0 below.
  const max = f.key === 'dayOfWeek' ? 7 : f.max;
  const out: Range[] = [];
  for (const item of s.split(',')) {
    const slashes = item.split('/');
    if (slashes.length > 2) throw invalidArgument(`${where}: ${f.name} "${item}" has too many slashes`);
    const [body, stepText] = slashes;
    let step = 1;
    if (stepText !== undefined) {
      step = /^\d+$/.test(stepText) ? Number(stepText) : 0;
      if (step < 1) throw invalidArgument(`${where}: ${f.name} "${item}" has an invalid step`);
    }
    let start = f.min;
    let end = max;
    if (body !== '*' && body !== '?') {
      const bounds = body.split('-');
      if (bounds.length > 2) throw invalidArgument(`${where}: ${f.name} "${item}" has too many dashes`);
      start = parseValue(bounds[0], f.min, max, f, where);
      if (bounds.length === 2) end = parseValue(bounds[1], start, max, f, where);
      // "a/n" runs from a to the field's maximum; a bare value is just itself.
      else if (stepText === undefined) end = start;
    }
    if (f.key === 'dayOfWeek' && end === 7) {
      const hitsSunday = (7 - start) % step === 0;
      if (start === 7) {
        out.push({ start: 0, end: 0, step: 1 });
        continue;
      }
      end = 6;
      if (hitsSunday && start > 0) {
        if (step === 1 && start === 1) start = 0;
        else out.push({ start: 0, end: 0, step: 1 });
      }
    }
    out.push({ start, end, step });
  }
  return out;
}

function parseValue(text: string, min: number, max: number, f: Field, where: string): number {
  let value: number | undefined;
  const lower = text.toLowerCase();
  if (f.names && lower.length >= (f.prefix ?? 1)) {
    const i = f.names.findIndex((n) => n.startsWith(lower));
    if (i >= 0) value = f.key === 'month' ? i + 1 : i;
  }
  if (value === undefined) {
    if (!/^\d+$/.test(text)) throw invalidArgument(`${where}: ${f.name} value "${text}" is not recognized`);
    value = Number(text);
  }
  if (value < min || value > max) throw invalidArgument(`${where}: ${f.name} value ${value} is not in range [${min}-${max}]`);
  return value;
}

type Cron = { interval: IIntervalSpec; calendar?: undefined; zone?: undefined } | { interval?: undefined; calendar: StructuredCalendar; zone: string };

function parseCron(text: string): Cron {
  const where = `invalid cron string "${text}"`;
  let c = text.trim();
  let zone = '';
  if (/^(CRON_TZ|TZ)=/.test(c)) {
    const gap = c.search(/\s/);
    if (gap < 0) throw invalidArgument(`${where}: time zone without fields`);
    zone = c.slice(c.indexOf('=') + 1, gap);
    c = c.slice(gap).trim();
  }
  let comment = '';
  const hash = c.indexOf('#');
  if (hash >= 0) {
    comment = c.slice(hash + 1).trim();
    c = c.slice(0, hash).trim();
  }
  if (c.startsWith('@every')) return { interval: parseEvery(c.slice('@every'.length), where) };
  c = PREDEFINED.get(c.toLowerCase()) ?? c;
  const fields = c.split(/\s+/).filter(Boolean);
  let cal: ICalendarSpec;
  if (fields.length === 5) {
    const [minute, hour, dayOfMonth, month, dayOfWeek] = fields;
    cal = { minute, hour, dayOfMonth, month, dayOfWeek };
  } else if (fields.length === 6) {
    // Six fields add a year at the end, not a second in front: that is how the real server reads them.
    const [minute, hour, dayOfMonth, month, dayOfWeek, year] = fields;
    cal = { minute, hour, dayOfMonth, month, dayOfWeek, year };
  } else if (fields.length === 7) {
    const [second, minute, hour, dayOfMonth, month, dayOfWeek, year] = fields;
    cal = { second, minute, hour, dayOfMonth, month, dayOfWeek, year };
  } else {
    throw invalidArgument(`${where}: expected 5 to 7 fields`);
  }
  cal.comment = comment;
  return { calendar: parseCalendar(cal, where), zone };
}

function parseEvery(rest: string, where: string): IIntervalSpec {
  if (!/^\s/.test(rest)) throw invalidArgument(`${where}: @every needs an interval`);
  const parts = rest.trim().split('/');
  if (parts.length > 2) throw invalidArgument(`${where}: too many slashes after @every`);
  const interval = parseGoDuration(parts[0]);
  if (!interval) throw invalidArgument(`${where}: bad interval "${parts[0]}"`);
  if (parts.length === 1) return { interval };
  const phase = parseGoDuration(parts[1]);
  if (!phase) throw invalidArgument(`${where}: bad offset "${parts[1]}"`);
  return { interval, phase };
}

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n,
  'μs': 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
};

/** Reads a Go duration ("1h30m", "90s", "1.5h"), plus the real server's "d" for days; null when malformed. */
function parseGoDuration(text: string): IDuration | null {
  let s = text.trim();
  let sign = 1n;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1n;
    s = s.slice(1);
  }
  if (s === '0') return { seconds: long(0), nanos: 0 };
  if (s === '') return null;
  // Longer units first, so "ms" is not read as minutes followed by a stray "s".
  const term = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h|d)/;
  let total = 0n;
  while (s) {
    const m = term.exec(s);
    if (!m || (!m[1] && !m[2])) return null;
    const unit = UNIT_NS[m[3]];
    total += BigInt(m[1] || '0') * unit;
    if (m[2]) total += (BigInt(m[2]) * unit) / 10n ** BigInt(m[2].length);
    s = s.slice(m[0].length);
  }
  total *= sign;
  return { seconds: long(Number(total / 1_000_000_000n)), nanos: Number(total % 1_000_000_000n) };
}

function checkInterval(iv: IIntervalSpec | null | undefined): void {
  // The real server's floor: its scheduler works in whole seconds.
  if (!iv?.interval || isNegative(iv.interval) || durationMs(iv.interval) < 1000) {
    throw invalidArgument('interval is too small: it must be at least 1 second');
  }
  if (isNegative(iv.phase)) throw invalidArgument('interval phase is negative');
  if (durationMs(iv.phase) > durationMs(iv.interval)) throw invalidArgument('phase cannot be greater than Interval');
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

function zoneFormat(zone: string): Intl.DateTimeFormat {
  let f = zoneFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    zoneFormats.set(zone, f);
  }
  return f;
}

function checkZone(zone: string): void {
  try {
    zoneFormat(zone);
  } catch (e) {
    if (e instanceof RangeError) throw invalidArgument(`unknown time zone "${zone}"`);
    throw e;
  }
}

const isUtc = (zone: string) => zone === '' || zone === 'UTC';

/**
 * The wall-clock time of an instant in a zone, to the second, written as if it were a UTC instant: that
 * way calendar arithmetic on wall-clock times is plain Date.UTC arithmetic.
 */
function wallMs(ms: number, zone: string): number {
  const second = Math.floor(ms / 1000) * 1000;
  if (isUtc(zone)) return second;
  const v: Record<string, number> = {};
  for (const p of zoneFormat(zone).formatToParts(second)) if (p.type !== 'literal') v[p.type] = Number(p.value);
  return Date.UTC(v.year, v.month - 1, v.day, v.hour % 24, v.minute, v.second);
}

const DAY_MS = 86_400_000;

/**
 * The first instant whose wall-clock time in the zone is the given one, or null inside a DST gap. Zones
 * change offset at most once within a couple of days, so the offsets a day either side are the only
 * candidates; a wall-clock time that occurs twice yields both, and the earlier one wins.
 */
function firstInstant(wall: number, zone: string): number | null {
  return instantsOf(wall, zone)[0] ?? null;
}

/** Every instant showing `wall` on the zone's clocks, in order: none in a DST gap, two in a repeated hour. */
function instantsOf(wall: number, zone: string): number[] {
  if (isUtc(zone)) return [wall];
  const found = new Set<number>();
  for (const probe of [wall - DAY_MS, wall + DAY_MS]) {
    const at = wall - (wallMs(probe, zone) - probe);
    if (wallMs(at, zone) === wall) found.add(at);
  }
  return [...found].sort((a, b) => a - b);
}

// The longest a zone's clocks are ever set back (a DST fall-back); wall times that far behind the next candidate's may
// still come round again after it.
const MAX_SETBACK_MS = 3 * 3600_000;

interface Matcher {
  second: boolean[];
  minute: boolean[];
  hour: boolean[];
  dayOfMonth: boolean[];
  month: boolean[];
  dayOfWeek: boolean[];
  /** Sorted; null for any year. */
  years: number[] | null;
}

function compileMatcher(cal: IStructuredCalendarSpec): Matcher {
  const values = (key: FieldKey) => {
    const given = cal[key];
    const ranges = given?.length ? given : DEFAULTS[key];
    const out: number[] = [];
    for (const r of ranges) {
      const start = r.start ?? 0;
      const end = Math.max(start, r.end ?? 0);
      const step = Math.max(1, r.step ?? 1);
      for (let v = start; v <= end; v += step) out.push(v);
    }
    return out;
  };
  const bits = (key: FieldKey, size: number) => {
    const out = new Array<boolean>(size).fill(false);
    for (const v of values(key)) if (v >= 0 && v < size) out[v] = true;
    return out;
  };
  const dayOfWeek = bits('dayOfWeek', 8);
  dayOfWeek[0] ||= dayOfWeek[7];
  const years = cal.year?.length ? [...new Set(values('year'))].sort((a, b) => a - b) : null;
  return {
    second: bits('second', 60),
    minute: bits('minute', 60),
    hour: bits('hour', 24),
    dayOfMonth: bits('dayOfMonth', 32),
    month: bits('month', 13),
    dayOfWeek,
    years,
  };
}

function daysInMonth(y: number, mo: number): number {
  return new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/** The first allowed value at or after v, or -1. */
function nextAllowed(allowed: boolean[], v: number, max: number): number {
  for (; v <= max; v++) if (allowed[v]) return v;
  return -1;
}

/**
 * Where a run of wall-clock times that an exclusion matches, starting at `wall`, may end: the exact end
 * when it falls inside the enclosing unit, else the start of the next unit (which may match again, but
 * then the caller asks once more, a whole unit later). Null when the exclusion matches every time.
 */
function exclusionRunEnd(m: Matcher, wall: number): number | null {
  const t = new Date(wall);
  const [y, mo, d, h, mi, s] = [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate(), t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds()];
  const full = (allowed: boolean[], min: number, max: number) => nextGap(allowed, min, max) < 0;
  if (!full(m.second, 0, 59)) {
    const gap = nextGap(m.second, s + 1, 59);
    return gap >= 0 ? Date.UTC(y, mo - 1, d, h, mi, gap) : Date.UTC(y, mo - 1, d, h, mi + 1);
  }
  if (!full(m.minute, 0, 59)) {
    const gap = nextGap(m.minute, mi + 1, 59);
    return gap >= 0 ? Date.UTC(y, mo - 1, d, h, gap) : Date.UTC(y, mo - 1, d, h + 1);
  }
  if (!full(m.hour, 0, 23)) {
    const gap = nextGap(m.hour, h + 1, 23);
    return gap >= 0 ? Date.UTC(y, mo - 1, d, gap) : Date.UTC(y, mo - 1, d + 1);
  }
  if (!full(m.dayOfMonth, 1, 31) || !full(m.dayOfWeek, 0, 6)) {
    const last = daysInMonth(y, mo);
    for (let day = d + 1; day <= last; day++) {
      if (!m.dayOfMonth[day] || !m.dayOfWeek[new Date(Date.UTC(y, mo - 1, day)).getUTCDay()]) return Date.UTC(y, mo - 1, day);
    }
    return Date.UTC(y, mo);
  }
  if (!full(m.month, 1, 12)) {
    const gap = nextGap(m.month, mo + 1, 12);
    return gap >= 0 ? Date.UTC(y, gap - 1) : Date.UTC(y + 1, 0);
  }
  if (!m.years) return null;
  let year = y + 1;
  while (m.years.includes(year)) year++;
  return Date.UTC(year, 0);
}

/** The first value from v to max that is not allowed, or -1. */
function nextGap(allowed: boolean[], v: number, max: number): number {
  for (; v <= max; v++) if (!allowed[v]) return v;
  return -1;
}

function matches(m: Matcher, zone: string, ms: number): boolean {
  const d = new Date(wallMs(ms, zone));
  return (
    (!m.years || m.years.includes(d.getUTCFullYear())) &&
    m.month[d.getUTCMonth() + 1] &&
    m.dayOfMonth[d.getUTCDate()] &&
    m.dayOfWeek[d.getUTCDay()] &&
    m.hour[d.getUTCHours()] &&
    m.minute[d.getUTCMinutes()] &&
    m.second[d.getUTCSeconds()]
  );
}

/**
 * The first wall-clock time at or after `from` that the matcher accepts, searching field by field from
 * the year down so that whole non-matching months, days, hours and minutes are skipped at once.
 */
function nextWall(m: Matcher, from: number, lastYear: number): number | null {
  const t = new Date(from);
  let y = t.getUTCFullYear();
  let mo = t.getUTCMonth() + 1;
  let d = t.getUTCDate();
  let h = t.getUTCHours();
  let mi = t.getUTCMinutes();
  let s = t.getUTCSeconds();
  for (;;) {
    if (s > 59) [s, mi] = [0, mi + 1];
    if (mi > 59) [mi, h] = [0, h + 1];
    if (h > 23) [h, d] = [0, d + 1];
    if (d > daysInMonth(y, mo)) [d, mo] = [1, mo + 1];
    if (mo > 12) [mo, y] = [1, y + 1];
    if (y > lastYear) return null;
    if (m.years && !m.years.includes(y)) {
      const later = m.years.find((v) => v > y);
      if (later === undefined) return null;
      [y, mo, d, h, mi, s] = [later, 1, 1, 0, 0, 0];
      continue;
    }
    const month = nextAllowed(m.month, mo, 12);
    if (month < 0) {
      [y, mo, d, h, mi, s] = [y + 1, 1, 1, 0, 0, 0];
      continue;
    }
    if (month !== mo) [mo, d, h, mi, s] = [month, 1, 0, 0, 0];
    const day = nextDay(m, y, mo, d);
    if (day < 0) {
      [mo, d, h, mi, s] = [mo + 1, 1, 0, 0, 0];
      continue;
    }
    if (day !== d) [d, h, mi, s] = [day, 0, 0, 0];
    const hour = nextAllowed(m.hour, h, 23);
    if (hour < 0) {
      [d, h, mi, s] = [d + 1, 0, 0, 0];
      continue;
    }
    if (hour !== h) [h, mi, s] = [hour, 0, 0];
    const minute = nextAllowed(m.minute, mi, 59);
    if (minute < 0) {
      [h, mi, s] = [h + 1, 0, 0];
      continue;
    }
    if (minute !== mi) [mi, s] = [minute, 0];
    const second = nextAllowed(m.second, s, 59);
    if (second < 0) {
      [mi, s] = [mi + 1, 0];
      continue;
    }
    return Date.UTC(y, mo - 1, d, h, mi, second);
  }
}

/** The first day at or after d in the month whose day of month and day of week both match, or -1. */
function nextDay(m: Matcher, y: number, mo: number, d: number): number {
  const last = daysInMonth(y, mo);
  let weekday = new Date(Date.UTC(y, mo - 1, d)).getUTCDay();
  for (; d <= last; d++, weekday = (weekday + 1) % 7) if (m.dayOfMonth[d] && m.dayOfWeek[weekday]) return d;
  return -1;
}

const SEARCH_YEARS = 100;
const YEAR_MS = 366 * DAY_MS;
// Bounds the work for specs whose exclusions swallow long runs of matches (say, every second of a
// day); the real server iterates the same way, one match at a time.
const MAX_CANDIDATES = 100_000;

type Source = (afterMs: number) => number | null;

function calendarSource(m: Matcher, zone: string): Source {
  // The first instant at or after `first` of a wall time in [fromWall, toWall]; each round skips one wall time that
  // is in a DST gap or whose instants have passed, so the hours a search can cover bound the rounds.
  const search = (first: number, fromWall: number, toWall: number): number | null => {
    const lastYear = new Date(fromWall).getUTCFullYear() + SEARCH_YEARS;
    let from = fromWall;
    for (let round = 0; round < 20_000; round++) {
      const wall = nextWall(m, from, lastYear);
      if (wall === null || wall > toWall) return null;
      // A time in a repeated hour fires at each of its two instants, as on the real server.
      const at = instantsOf(wall, zone).find((instant) => instant >= first);
      if (at !== undefined) return at;
      from = wall + 1000;
    }
    return null;
  };
  return (afterMs) => {
    // Calendars have one-second resolution, so the first candidate is the next whole second.
    const first = Math.floor(afterMs / 1000) * 1000 + 1000;
    const here = wallMs(first, zone);
    const ahead = search(first, here, Infinity);
    // Where the clocks are set back soon, wall times already behind come round again: the earliest of those may come
    // before the next time ahead.
    const back = wallMs(first + MAX_SETBACK_MS, zone) - MAX_SETBACK_MS;
    const again = back < here ? search(first, back, here - 1000) : null;
    return again !== null && (ahead === null || again < ahead) ? again : ahead;
  };
}

function intervalSource(iv: IIntervalSpec): Source | null {
  const every = durationMs(iv.interval);
  if (every <= 0) return null;
  const phase = durationMs(iv.phase) % every;
  return (afterMs) => (Math.floor((afterMs - phase) / every) + 1) * every + phase;
}

/** The union of several sources' times, asked for with never-decreasing arguments so each source's answer can be reused until passed. */
class Merged {
  private readonly cached: (number | null | undefined)[];
  constructor(private readonly sources: Source[]) {
    this.cached = sources.map(() => undefined);
  }

  next(afterMs: number): number | null {
    let best: number | null = null;
    for (let i = 0; i < this.sources.length; i++) {
      let t = this.cached[i];
      if (t === undefined || (t !== null && t <= afterMs)) this.cached[i] = t = this.sources[i](afterMs);
      if (t !== null && (best === null || t < best)) best = t;
    }
    return best;
  }
}

function jitterFraction(seed: string, nominalMs: number): number {
  return createHash('sha256').update(`${seed}|${nominalMs}`).digest().readUIntBE(0, 6) / 2 ** 48;
}

/** The next `count` action times of a compiled spec strictly after `afterMs`, ascending, with deterministic jitter. */
export function nextTimes(spec: IScheduleSpec, afterMs: number, count: number, jitterSeed?: string): { nominalMs: number; actualMs: number }[] {
  if (count <= 0) return [];
  const zone = spec.timezoneName ?? '';
  const sources: Source[] = (spec.structuredCalendar ?? []).map((c) => calendarSource(compileMatcher(c), zone));
  for (const iv of spec.interval ?? []) {
    const source = intervalSource(iv);
    if (source) sources.push(source);
  }
  const excludes = (spec.excludeStructuredCalendar ?? []).map(compileMatcher);
  const endMs = spec.endTime ? timestampMs(spec.endTime) : Infinity;
  // Start is inclusive, so search from just before it.
  let cursor = spec.startTime ? Math.max(afterMs, timestampMs(spec.startTime) - 1) : afterMs;
  const horizon = cursor + SEARCH_YEARS * YEAR_MS;

  const merged = new Merged(sources);
  const nominals: number[] = [];
  for (let n = 0; nominals.length < count && n < MAX_CANDIDATES; n++) {
    const t = merged.next(cursor);
    if (t === null || t > endMs || t > horizon) break;
    cursor = t;
    const exclusion = excludes.find((x) => matches(x, zone, t));
    if (!exclusion) {
      nominals.push(t);
      continue;
    }
    // Jump over the rest of the excluded run rather than visiting every match inside it (say, each
    // minute of an excluded holiday).
    const wall = wallMs(t, zone);
    const runEnd = exclusionRunEnd(exclusion, wall);
    if (runEnd === null) break;
    const at = firstInstant(runEnd, zone);
    // Only where the zone's offset stays put: across a DST change an instant in between can have a
    // wall-clock time outside the run (the repeated hour), and those must still be looked at.
    if (at !== null && at - 1 > cursor && wallMs(at, zone) - at === wall - Math.floor(t / 1000) * 1000) cursor = at - 1;
  }

  const jitter = durationMs(spec.jitter);
  if (jitter <= 0) return nominals.map((t) => ({ nominalMs: t, actualMs: t }));
  // Jitter never carries an action past the next time the spec names, excluded or not, as on the real server.
  const following = new Merged(sources);
  return nominals.map((t) => {
    const next = following.next(t);
    const bound = next === null ? jitter : Math.min(jitter, next - t);
    return { nominalMs: t, actualMs: t + Math.floor(jitterFraction(jitterSeed ?? '', t) * bound) };
  });
}
