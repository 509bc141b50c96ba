'use strict';
// The BullMQ producer of one run (started by the harness's redis mode, see Redis/ExternalContenders.cs):
//   node producer.js host port db prefix queue jobs batch rate
// Rate 0: no-op jobs ({a, b}, named NoOp) in Queue.addBulk calls of `batch`, one after the other, as fast as they go.
// Rate above 0: latency jobs ({t: submit time, µs since the epoch}, named Stamped), every 10 ms one addBulk of the
// jobs due by then at that rate (a late one sends more, so the offered load holds), as the harness's own producer does.
// It warms up on a queue of its own first (the same loop; deleted), says "ready", waits for "go", prints its report after the last
// addBulk returned, and exits when its input closes.
const { Queue } = require('bullmq');
const { commandCount, nowMicros, protocol, report, deleteKeys } = require('./common');

const [host, port, db, prefix, queueName, jobsText, batchText, rateText] = process.argv.slice(2);
const connection = { host, port: Number(port), db: Number(db) };
const jobs = Number(jobsText), batch = Number(batchText), rate = Number(rateText);
const noOp = n => ({ name: 'NoOp', data: { a: n, b: n } });
const stamped = t => ({ name: 'Stamped', data: { t } });
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** Rate 0: `jobs` no-op jobs in addBulk calls of `batch`, one after the other. Rate above 0: latency jobs, every 10 ms one
 * addBulk of the jobs due by then at that rate. */
async function produce(queue, jobs, batch, rate) {
  const clock = performance.now();
  let submitted = 0;
  if (rate <= 0) {
    while (submitted < jobs) {
      const end = Math.min(jobs, submitted + batch);
      const bulk = [];
      for (; submitted < end; submitted++) bulk.push(noOp(submitted));
      await queue.addBulk(bulk);
    }
    return submitted;
  }
  const tick = 10;
  while (submitted < jobs) {
    const due = Math.min(jobs, Math.ceil((performance.now() - clock) / 1000 * rate));
    if (due > submitted) {
      const stamp = nowMicros();
      const bulk = [];
      for (; submitted < due; submitted++) bulk.push(stamped(stamp));
      await queue.addBulk(bulk);
    }
    const now = performance.now() - clock;
    const wait = tick * (Math.floor(now / tick) + 1) - now;
    if (wait > 0) await sleep(Math.ceil(wait));
  }
  return submitted;
}

async function main() {
  // The warm-up runs the same loop on a queue of its own: flat out, 50 × min(batch, 100) jobs, and paced for 0.25 s when
  // the run is paced; its keys are deleted.
  const warmName = queueName + '-warm';
  const warm = new Queue(warmName, { connection, prefix });
  await produce(warm, 50 * Math.min(batch, 100), batch, 0);
  if (rate > 0) await produce(warm, Math.floor(rate / 4), batch, rate);
  await warm.close();
  await deleteKeys(connection, `${prefix}:${warmName}:*`);

  const queue = new Queue(queueName, { connection, prefix });
  await queue.waitUntilReady();
  const go = protocol(async () => {
    await queue.close();
    process.exit(0);
  });
  process.stdout.write('ready\n');
  await go;

  const cpu = process.cpuUsage(), commands = commandCount(), clock = performance.now();
  const submitted = await produce(queue, jobs, batch, rate);
  report(submitted, cpu, commands, clock);
}

main().catch(e => {
  process.stderr.write(`bullmq producer: ${e.stack}\n`);
  process.exit(1);
});
