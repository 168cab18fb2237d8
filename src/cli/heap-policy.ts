// How the dccd process's V8 heaps are sized, set before anything else is loaded. Measured on a
// 1 M-trade one-shot backfill (bench/README.md, memory): together ~120 MB less peak RSS, no
// throughput lost.
import { setFlagsFromString } from 'node:v8';

// How far the old generation may grow past what the last full GC kept before V8 collects
// again. By default a backfill's promoted garbage (page text and buffers that outlive a few
// scavenges) piles up to ~3× the ~50 MB live; 25 % keeps it near the live size. Read at every
// collection, so it acts on the heap already running.
setFlagsFromString('--heap-growing-percent=25');

// A page's row objects live for microseconds: the activities take them apart into columns at
// once (storage/column-buffer.ts). Yet in about one 1 M-trade backfill in five, V8's
// allocation-site pretenuring judged the adapter's rows long-lived and from then on made every
// row in the old space, for the life of the process: ~90 MB more old-space garbage per 1 M
// rows and ~50 MiB more peak RSS. Without it, rows are made young and die there, every run.
setFlagsFromString('--no-allocation-site-pretenuring');

// The SDK runs workflows in a worker thread whose young generation is sized from the flags in
// force when it starts: 16 MB semi-spaces by default, ~32 MB resident. Workflow code allocates
// little (rows never reach it), so 2 MB ones cost it nothing and save ~25 MB. The main
// thread's young generation was sized at start and is not affected.
setFlagsFromString('--max-semi-space-size=2');
