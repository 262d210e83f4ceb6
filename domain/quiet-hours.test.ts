import { QuietHours, outsideQuietHours } from './quiet-hours';

describe('outsideQuietHours', () => {
  const overnight = QuietHours.parse({ start: '20:00', end: '07:00' });
  const lunch = QuietHours.parse({ start: '12:00', end: '13:30', utcOffset: '+02:00' });

  it.each([
    ['2025-03-03T19:59:00.000Z', '2025-03-03T19:59:00.000Z'],
    ['2025-03-03T20:00:00.000Z', '2025-03-04T07:00:00.000Z'],
    ['2025-03-03T23:30:00.000Z', '2025-03-04T07:00:00.000Z'],
    ['2025-03-04T06:59:30.000Z', '2025-03-04T07:00:00.000Z'],
    ['2025-03-04T07:00:00.000Z', '2025-03-04T07:00:00.000Z'],
  ] as const)(
    'outsideQuietHours: when a reminder is due %s with quiet hours 20:00-07:00, it is sent at %s',
    (at, sent) => {
      expect(outsideQuietHours(at, overnight)).toBe(sent);
    },
  );

  it.each([
    ['2025-03-03T09:59:00.000Z', '2025-03-03T09:59:00.000Z'],
    ['2025-03-03T10:00:00.000Z', '2025-03-03T11:30:00.000Z'],
    ['2025-03-03T11:29:00.000Z', '2025-03-03T11:30:00.000Z'],
  ] as const)(
    'outsideQuietHours: when a reminder is due %s with quiet hours 12:00-13:30 at +02:00, it is sent at %s',
    (at, sent) => {
      expect(outsideQuietHours(at, lunch)).toBe(sent);
    },
  );

  it('outsideQuietHours: when the ladder has no quiet hours, the time is unchanged', () => {
    expect(outsideQuietHours('2025-03-03T23:00:00.000Z', undefined)).toBe('2025-03-03T23:00:00.000Z');
  });

  it.each([
    [{ start: '25:00', end: '07:00' }, 'start'],
    [{ start: '20:00', end: '20:00' }, ''],
    [{ start: '20:00', end: '07:00', utcOffset: 'CET' }, 'utcOffset'],
  ] as const)('QuietHours: when configured as %j, the problem is at %j', (raw, path) => {
    expect(QuietHours.safeParse(raw).error?.issues[0].path.join('.')).toBe(path);
  });
});
