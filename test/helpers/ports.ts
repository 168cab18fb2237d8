// Ports for tests: free on 127.0.0.1 now, never one this process was given before, and below
// the kernel's ephemeral range. A port the kernel picked for a bind of port 0 (as servers and
// one-shot commands pick theirs) can be handed to the next such bind of another process; a
// test that configures fixed ports (a `dccd start`) would then lose it to a Temporal server's
// internal listener. Ports under the range are never handed out that way.
import { readFileSync } from 'node:fs';
import { portIsFree } from '../../src/worker/ports.ts';

const LOW = 20_000;
/** First port of the kernel's ephemeral range (Linux: 32768 unless configured). */
const EPHEMERAL_FROM = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32_768;
  }
})();
const given = new Set<number>();

export async function freePort(): Promise<number> {
  const span = Math.max(1000, EPHEMERAL_FROM - LOW);
  for (;;) {
    const port = LOW + Math.floor(Math.random() * span);
    if (given.has(port) || !(await portIsFree('127.0.0.1', port))) continue;
    given.add(port);
    return port;
  }
}
