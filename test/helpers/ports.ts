// Ports for tests: free on 127.0.0.1 now, and never one this process was given before.
export { ephemeralPort as freePort } from '../../src/worker/ports.ts';
