/**
 * Preloaded into a `lifeguard start` child by tests (node --import): on SIGUSR2 it throws from a timer and leaves
 * a promise rejected with nobody waiting, standing in for a bug that escapes every handler.
 */
process.on('SIGUSR2', () => {
  setTimeout(() => {
    throw new Error('injected: thrown from a timer');
  });
  void Promise.reject(new Error('injected: rejected with nobody waiting'));
});
