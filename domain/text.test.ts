import { z } from 'zod';
import { maxChars, withinChars } from './text';

describe('withinChars', () => {
  it.each([
    ['ascii at the limit', 'abc', 3, true],
    ['ascii past the limit', 'abcd', 3, false],
    ['emoji, one character each, at the limit', '😀😀😀', 3, true],
    ['emoji past the limit', '😀😀😀😀', 3, false],
    ['mixed at the limit', 'a😀b', 3, true],
    ['empty', '', 0, true],
  ])('%s', (_case, s, max, expected) => {
    expect(withinChars(s, max)).toBe(expected);
  });
});

describe('maxChars', () => {
  const Title = maxChars(z.string().trim().min(1), 5);

  it('accepts text of the limit counted in characters, which zod .max() would refuse', () => {
    expect(Title.safeParse('🛃🛃🛃🛃🛃').success).toBe(true);
    expect(z.string().max(5).safeParse('🛃🛃🛃🛃🛃').success).toBe(false);
  });

  it('refuses one character more with the message zod gives for .max()', () => {
    const result = Title.safeParse('🛃🛃🛃🛃🛃🛃');
    expect(result.error?.issues.map((i) => i.message)).toEqual(['Too big: expected string to have <=5 characters']);
  });

  it('counts after trimming and is documented as maxLength', () => {
    expect(Title.safeParse('  abcde  ').data).toBe('abcde');
    expect(z.toJSONSchema(Title)).toMatchObject({ type: 'string', minLength: 1, maxLength: 5 });
  });
});
