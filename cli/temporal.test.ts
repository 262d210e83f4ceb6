import { workerConnectionOptions } from './temporal';

describe('worker connection options', () => {
  test.each(['127.0.0.1:7233', 'localhost:7233', 'LOCALHOST:7233', '127.0.0.53:7233', '[::1]:7233', '127.0.0.1'])(
    'when the worker dials the loopback address %s, requests go uncompressed',
    (address) => {
      expect(workerConnectionOptions(address)).toEqual({ address, grpcCompression: { codec: 'none' } });
    },
  );

  test.each(['temporal.internal:7233', '10.0.0.5:7233', 'localhost.example.com:7233', '127.0.0.1.example.com:7233'])(
    'when the worker dials %s, which is not loopback, the SDK keeps its gzip default',
    (address) => {
      expect(workerConnectionOptions(address)).toEqual({ address });
    },
  );
});
