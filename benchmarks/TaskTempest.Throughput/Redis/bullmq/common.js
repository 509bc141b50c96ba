'use strict';
// What the BullMQ worker and producer share: the harness's line protocol (ready, go, done), the command count, the clock.

// Every command ioredis sends goes through Redis.prototype.sendCommand, pipelined and MULTI ones included (BullMQ's own
// ioredis, resolved from bullmq's folder: the same module instance it uses).
const Redis = require(require.resolve('ioredis', { paths: [require.resolve('bullmq')] }));
let commands = 0;
const send = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (command, stream) {
  commands++;
  return send.call(this, command, stream);
};

/** Commands sent since the process started. */
const commandCount = () => commands;

/** Wall-clock microseconds since the epoch (the clock every contender stamps with). */
const nowMicros = () => (performance.timeOrigin + performance.now()) * 1000;

/** Resolves on the harness's "go"; `onEnd` runs when the harness closes this process's input. */
function protocol(onEnd) {
  let buffered = '';
  let go;
  const started = new Promise(resolve => { go = resolve; });
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', chunk => {
    buffered += chunk;
    if (buffered.split('\n').includes('go')) go();
  });
  process.stdin.on('end', onEnd);
  return started;
}

/** The report line: done count cpuMs commands elapsedMs (see ChildReport in the harness). */
function report(count, cpuStart, commandsStart, clockStart) {
  const cpu = process.cpuUsage(cpuStart);
  const elapsed = performance.now() - clockStart;
  process.stdout.write(`done ${count} ${(cpu.user + cpu.system) / 1000} ${commands - commandsStart} ${elapsed}\n`);
}

/** Deletes every key that matches `pattern` (SCAN + UNLINK). */
async function deleteKeys(connection, pattern) {
  const redis = new Redis(connection);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
}

module.exports = { commandCount, nowMicros, protocol, report, deleteKeys };
