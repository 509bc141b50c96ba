'use strict';
// The BullMQ workers of one run (started by the harness's redis mode, see Redis/ExternalContenders.cs):
//   node worker.js host port db prefix queue concurrency jobs latencyFile|-
// One Worker with `concurrency` slots and removeOnComplete/removeOnFail (no finished job kept), as the other contenders
// keep none. It warms up first on a queue of its own (deleted), says "ready" with the measured Worker created and its
// connections open but not running, starts it on "go", and prints its report once `jobs` jobs completed ('completed'
// fires after BullMQ recorded the completion in Redis). A latency job's data is its submit time (µs since the epoch);
// the processor records start - submit, written to latencyFile before the report. It exits when its input closes.
const fs = require('node:fs');
const { Queue, Worker } = require('bullmq');
const { commandCount, nowMicros, protocol, report, deleteKeys } = require('./common');

const [host, port, db, prefix, queueName, concurrencyText, jobsText, latencyFile] = process.argv.slice(2);
const connection = { host, port: Number(port), db: Number(db) };
const concurrency = Number(concurrencyText);
const jobs = Number(jobsText);
const latencies = [];
const keep = { removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } };

async function warmUp() {
  const name = queueName + '-warm';
  const queue = new Queue(name, { connection, prefix });
  const total = 2000;
  let completed = 0;
  let warmed;
  const done = new Promise(resolve => { warmed = resolve; });
  const worker = new Worker(name, async job => { if (job.data.t) latencies.push(nowMicros() - job.data.t); },
    { connection, prefix, concurrency, ...keep });
  worker.on('completed', () => { if (++completed === total) warmed(); });
  for (let i = 0; i < total; i += 100) {
    await queue.addBulk(Array.from({ length: 100 }, (_, k) => i + k).map(n =>
      n % 2 === 0 ? { name: 'NoOp', data: { a: n, b: n } } : { name: 'Stamped', data: { t: nowMicros() } }));
  }
  await done;
  await worker.close();
  await queue.close();
  await deleteKeys(connection, `${prefix}:${name}:*`);
  latencies.length = 0;
}

async function main() {
  await warmUp();
  let completed = 0;
  const worker = new Worker(queueName, async job => {
    if (job.data.t !== undefined) latencies.push(nowMicros() - job.data.t);
  }, { connection, prefix, concurrency, autorun: false, ...keep });
  worker.on('error', e => process.stderr.write(`bullmq worker: ${e}\n`));
  await worker.waitUntilReady();
  const go = protocol(async () => {
    await worker.close();
    process.exit(0);
  });
  process.stdout.write('ready\n');
  await go;
  const cpu = process.cpuUsage(), commands = commandCount(), clock = performance.now();
  worker.on('completed', () => {
    if (++completed !== jobs) return;
    if (latencyFile !== '-') fs.writeFileSync(latencyFile, latencies.map(v => v.toFixed(1)).join('\n'));
    report(completed, cpu, commands, clock);
  });
  worker.run().catch(e => {
    process.stderr.write(`bullmq worker: ${e.stack}\n`);
    process.exit(1);
  });
}

main().catch(e => {
  process.stderr.write(`bullmq worker: ${e.stack}\n`);
  process.exit(1);
});
