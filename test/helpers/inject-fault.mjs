// Preloaded into a hub process by test/integration/process-policy.test.ts (node --import): on
// SIGUSR2 it throws an exception nobody catches, or rejects a promise nobody handles
// (INJECT_FAULT=rejection), to show what the process policy does with them.
process.on('SIGUSR2', () => {
  if (process.env.INJECT_FAULT === 'rejection') {
    void Promise.reject(new Error('injected rejection (process-policy test)'));
  } else {
    setImmediate(() => {
      throw new Error('injected exception (process-policy test)');
    });
  }
});
