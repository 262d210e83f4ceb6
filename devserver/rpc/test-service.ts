import { durationMs, temporal, timestamp, timestampMs } from '../proto';
import type { Handler } from '../grpc/server';
import type { TimeSkipper } from '../timers/time-skipper';

/** The TestService of the time-skipping test server. */
export function testServiceHandlers(skipper: TimeSkipper): Record<string, Handler> {
  return {
    LockTimeSkipping: () => {
      skipper.lock();
      return {};
    },
    UnlockTimeSkipping: () => {
      skipper.unlock();
      return {};
    },
    Sleep: async (req: temporal.api.testservice.v1.ISleepRequest) => {
      await skipper.sleepUntil(skipper.now() + durationMs(req.duration));
      return {};
    },
    SleepUntil: async (req: temporal.api.testservice.v1.ISleepUntilRequest) => {
      await skipper.sleepUntil(timestampMs(req.timestamp));
      return {};
    },
    UnlockTimeSkippingWithSleep: async (req: temporal.api.testservice.v1.ISleepRequest) => {
      skipper.unlock();
      try {
        await skipper.sleepUntil(skipper.now() + durationMs(req.duration));
      } finally {
        skipper.lock();
      }
      return {};
    },
    GetCurrentTime: () => ({ time: timestamp(skipper.now()) }),
  };
}
