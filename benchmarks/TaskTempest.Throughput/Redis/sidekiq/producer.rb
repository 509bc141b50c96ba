# frozen_string_literal: true

# The Sidekiq producer of one run, started by the harness's redis mode (see Redis/ExternalContenders.cs):
#   ruby producer.rb redis://host:port/db queue jobs batch rate
# Rate 0: no-op jobs (NoOpJob, [i, i]) in Sidekiq::Client.push_bulk calls of `batch`, one after the other, as fast as
# they go. Rate above 0: latency jobs (StampedJob, [submit time, µs since the epoch]), every 10 ms one push_bulk of the
# jobs due by then at that rate (a late one sends more, so the offered load holds), as the harness's own producer does.
# It warms up on a queue of its own first (the same loop; deleted), says "ready", waits for "go", prints its report after
# the last push_bulk returned, and exits when its input closes.
require "sidekiq"
require_relative "common"

url, queue, jobs, batch, rate = ARGV
jobs = Integer(jobs)
batch = Integer(batch)
rate = Integer(rate)
Sidekiq.configure_client { |config| config.redis = { url: url, size: 1 } }

# Rate 0: `jobs` no-op jobs in push_bulk calls of `batch`, one after the other. Rate above 0: latency jobs, every 10 ms one
# push_bulk of the jobs due by then at that rate.
def produce(queue, jobs, batch, rate)
  clock = TaskTempestBench.monotonic_ms
  submitted = 0
  if rate <= 0
    while submitted < jobs
      n = [batch, jobs - submitted].min
      Sidekiq::Client.push_bulk("class" => "NoOpJob", "queue" => queue, "args" => Array.new(n) { |k| [submitted + k, submitted + k] })
      submitted += n
    end
    return submitted
  end
  tick = 10.0
  while submitted < jobs
    due = [jobs, ((TaskTempestBench.monotonic_ms - clock) / 1000.0 * rate).ceil].min
    if due > submitted
      stamp = TaskTempestBench.now_micros
      Sidekiq::Client.push_bulk("class" => "StampedJob", "queue" => queue, "args" => Array.new(due - submitted) { [stamp] })
      submitted = due
    end
    now = TaskTempestBench.monotonic_ms - clock
    wait = tick * ((now / tick).floor + 1) - now
    sleep(wait.ceil / 1000.0) if wait > 0
  end
  submitted
end

# The warm-up runs the same loop on a queue of its own: flat out, 50 × min(batch, 100) jobs, and paced for 0.25 s when
# the run is paced; its keys are deleted.
warm = "#{queue}-warm"
produce(warm, 50 * [batch, 100].min, batch, 0)
produce(warm, rate / 4, batch, rate) if rate > 0
Sidekiq.redis do |conn|
  conn.del("queue:#{warm}")
  conn.srem("queues", warm)
end

TaskTempestBench.ready_and_wait
submitted = produce(queue, jobs, batch, rate)
TaskTempestBench.report(submitted)
$stdin.read
