# frozen_string_literal: true

# The Sidekiq producer of one run, started by the harness's redis mode (see Redis/ExternalContenders.cs):
#   ruby producer.rb redis://host:port/db queue jobs batch rate
# Rate 0: no-op jobs (NoOpJob, [i, i]) in Sidekiq::Client.push_bulk calls of `batch`, one after the other, as fast as
# they go. Rate above 0: latency jobs (StampedJob, [submit time, µs since the epoch]), every 10 ms one push_bulk of the
# jobs due by then at that rate (a late one sends more, so the offered load holds), as the harness's own producer does.
# It warms up on a queue of its own first (deleted), says "ready", waits for "go", prints its report after the last
# push_bulk returned, and exits when its input closes.
require "sidekiq"
require_relative "common"

url, queue, jobs, batch, rate = ARGV
jobs = Integer(jobs)
batch = Integer(batch)
rate = Integer(rate)
Sidekiq.configure_client { |config| config.redis = { url: url, size: 1 } }

warm = "#{queue}-warm"
20.times do |i|
  args = i.even? ? Array.new(batch) { |k| [k, k] } : Array.new(batch) { [TaskTempestBench.now_micros] }
  Sidekiq::Client.push_bulk("class" => i.even? ? "NoOpJob" : "StampedJob", "queue" => warm, "args" => args)
end
Sidekiq.redis do |conn|
  conn.del("queue:#{warm}")
  conn.srem("queues", warm)
end

TaskTempestBench.ready_and_wait
clock = TaskTempestBench.monotonic_ms
submitted = 0
if rate <= 0
  while submitted < jobs
    n = [batch, jobs - submitted].min
    Sidekiq::Client.push_bulk("class" => "NoOpJob", "queue" => queue, "args" => Array.new(n) { |k| [submitted + k, submitted + k] })
    submitted += n
  end
else
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
    sleep(wait / 1000.0) if wait > 0
  end
end
TaskTempestBench.report(submitted)
$stdin.read
