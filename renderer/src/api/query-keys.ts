/** Query keys of the server state, in one place so the live stream invalidates the right ones. */
export const queryKeys = {
  runs: (filter: { state?: string }) => ['runs', filter] as const,
  allRuns: ['runs'] as const,
  run: (id: string) => ['run', id] as const,
  runSteps: (id: string) => ['run', id, 'steps'] as const,
  runChain: (id: string) => ['run', id, 'chain'] as const,
  runNotes: (id: string) => ['run', id, 'notes'] as const,
  approvals: ['approvals'] as const,
  grants: ['grants'] as const,
  skills: ['skills'] as const,
  chain: (filter: object) => ['chain', filter] as const,
  allChain: ['chain'] as const,
  secrets: ['secrets'] as const,
  schedules: ['schedules'] as const,
  schedule: (id: string) => ['schedules', id] as const,
  health: ['health'] as const,
  memory: (filter: object) => ['memory', filter] as const,
  allMemory: ['memory'] as const,
  memoryItem: (id: string) => ['memory', 'item', id] as const,
  // --- ui-connectors (issue 24) ---
  connectors: ['connectors'] as const,
  connector: (id: string) => ['connectors', id] as const,
  // --- ui-outbox (issue 24) ---
  outbox: (filter: object) => ['outbox', filter] as const,
  allOutbox: ['outbox'] as const,
  outboxMessage: (id: string) => ['outbox', 'message', id] as const,
  deadLetters: ['outbox', 'dead-letters'] as const,
  // --- ui-chat (issue 24) ---
  chat: (connectorId: string, channelId: string) => ['chat', connectorId, channelId] as const,
  allChat: ['chat'] as const,
};
