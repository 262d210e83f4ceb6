// History pages stop short of gRPC's 4 MB default message limit, so a client that keeps it reads any history.
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../../devserver';

let server: DevServer;
let connection: Connection;

beforeAll(async () => {
  server = await startDevServer({ port: 0, logLevel: 'silent' });
  // The gRPC default limit, as clients have it that do not raise it.
  connection = await Connection.connect({ address: server.address, channelArgs: { 'grpc.max_receive_message_length': 4 * 1024 * 1024 } });
});
afterAll(async () => {
  await connection.close();
  await server.stop();
});

const blob = (bytes: number) => ({ payloads: [{ metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.alloc(bytes, 7) }] });

it('history: when events add up past 4 MB, they come in several pages and every one arrives', async () => {
  const svc = connection.workflowService;
  const workflowId = 'large-history';
  await svc.startWorkflowExecution({ namespace: 'default', workflowId, workflowType: { name: 'raw' }, taskQueue: { name: 'large' }, requestId: 'large-1', input: blob(10) });
  for (let i = 0; i < 4; i++) {
    await svc.signalWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId }, signalName: 'big', input: blob(1_500_000), requestId: `sig-${i}` });
  }
  const first = await svc.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } });
  expect(first.history!.events!.length).toBeLessThan(6);
  expect(first.nextPageToken?.length).toBeGreaterThan(0);

  const all = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
  expect(all.events!.map((e) => Number(e.eventId))).toEqual([1, 2, 3, 4, 5, 6]);

  const reverse = await svc.getWorkflowExecutionHistoryReverse({ namespace: 'default', execution: { workflowId } });
  expect(reverse.history!.events!.length).toBeLessThan(6);
  expect(Number(reverse.history!.events![0].eventId)).toBe(6);
});
