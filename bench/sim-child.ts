// Runs the simulator with options given as JSON, for benchmarks that need it out of process.
import { startSim } from '../src/sim/index.ts';

const sim = await startSim(JSON.parse(process.argv[2] ?? '{}'));
console.log(`ready ${sim.url}`);
process.once('SIGTERM', () => void sim.close().then(() => process.exit(0)));
