import { ClearwayError, CODES, type ErrorCode } from '../../errors';

describe('errors', () => {
  it.each(Object.keys(CODES) as ErrorCode[])(
    'table: when %s is raised, it maps to an error status and exit code',
    (code) => {
      const e = new ClearwayError(code, 'm');
      expect(e.http).toBeGreaterThanOrEqual(400);
      expect(e.http).toBeLessThan(600);
      expect([1, 2]).toContain(e.exit);
      expect(e.grpc).toMatch(/^[A-Z_]+$/);
    },
  );

  it.each([
    ['VALIDATION_FAILED', 400, 2],
    ['UNAUTHENTICATED', 401, 1],
    ['ROLE_REQUIRED', 403, 1],
    ['FORBIDDEN', 403, 1],
    ['NOT_FOUND', 404, 1],
    ['CONFLICT', 409, 1],
    ['PAYLOAD_TOO_LARGE', 413, 1],
    ['UNSUPPORTED_MEDIA_TYPE', 415, 1],
    ['INTERNAL', 500, 1],
    ['CONFIG_INVALID', 500, 2],
    ['UNKNOWN_ROLE', 400, 2],
    ['DUPLICATE_NAME', 409, 2],
    ['PORT_IN_USE', 500, 1],
  ] as const)('table: when %s is raised, the API answers %d and the CLI exits %d', (code, http, exit) => {
    const e = new ClearwayError(code, 'm', [{ x: 1 }]);
    expect([e.http, e.exit]).toEqual([http, exit]);
    expect(e.details).toEqual([{ x: 1 }]);
    expect(e).toBeInstanceOf(Error);
  });
});
