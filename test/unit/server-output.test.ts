// A dev server that loses a bind race logs one JSON line, then panics with a long stack: the
// reason and the taken address are read from that line, wherever it falls in the output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ServerStartOutput } from '../../src/worker/server-output.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/temporal/${name}`, import.meta.url), 'utf8').split('\n').filter(Boolean);

test('a bind lost to another process is found in the output of the panic that follows it', () => {
  const out = new ServerStartOutput();
  for (const line of fixture('bind-panic.txt')) out.add(line);
  for (let i = 0; i < 100; i++) out.add(`\t/home/runner/go/pkg/mod/go.uber.org/fx@v1.24.0/app.go:${i} +0x2d7`);
  assert.equal(out.busyAddress, '127.0.0.1:27999');
  assert.equal(out.busyPort, 27999);
  assert.equal(out.reason, 'Failed to start gRPC listener: listen tcp 127.0.0.1:27999: bind: address already in use');
  assert.doesNotMatch(out.tail(), /address already in use/, 'the tail alone would have lost it');
});

test('without an error line, a panic or a CLI error is the reason; warnings are not', () => {
  const panic = new ServerStartOutput();
  panic.add('{"level":"WARN","msg":"Cluster Id in Cluster Metadata config is not a valid uuid"}');
  panic.add('panic: failed assigning ephemeral port: listen tcp 127.0.0.1:0: socket: too many open files');
  panic.add('goroutine 1 [running]:');
  assert.equal(panic.reason, 'panic: failed assigning ephemeral port: listen tcp 127.0.0.1:0: socket: too many open files');
  assert.equal(panic.busyAddress, undefined);
  const cli = new ServerStartOutput();
  cli.add('Error: failed starting server: unable to open database file: no such file or directory');
  assert.equal(cli.reason, 'Error: failed starting server: unable to open database file: no such file or directory');
  const quiet = new ServerStartOutput();
  quiet.add('{"level":"WARN","msg":"not a reason"}');
  quiet.add('not json {');
  assert.equal(quiet.reason, undefined);
});
