/** The ControlPort contract against the in-memory recording fake (near-instant 1 ms and scripted 2.5 s migrations). */
import { describeBackendContract } from './backend-contract.ts';
import { RecordingFakeBackend } from './fake-backend.ts';

for (const migrationMs of [1, 2500]) {
  describeBackendContract(`recording fake (migrations take ${migrationMs} ms)`, async () => {
    const fake = new RecordingFakeBackend({
      nodes: [{ id: 'n1' }, { id: 'n2' }, { id: 'n3', memoryMiB: 64 }],
      containers: [{ id: 'c1', nodeId: 'n1', memoryMiB: 128, users: ['u1'] }],
      rttMs: { u1: { n1: 40, n2: 10, n3: 5 } },
      migrationMs,
    });
    return {
      port: fake,
      advance: async (ms) => fake.advance(ms),
      fullNodeId: 'n3',
      migrationBudgetMs: 10_000,
      pollMs: 500,
      close: async () => {},
    };
  });
}
