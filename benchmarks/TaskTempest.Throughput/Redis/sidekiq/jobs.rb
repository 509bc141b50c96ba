# frozen_string_literal: true

# The Sidekiq workers of one run, started by the harness's redis mode (see Redis/ExternalContenders.cs) as
#   TT_REDIS_URL=redis://host:port/db TT_JOBS=n TT_LATENCIES=file|- sidekiq -r ./jobs.rb -c <concurrency> -q <queue> -e production
# Open-source Sidekiq fetches with BRPOP and acknowledges nothing: a job is gone from Redis once a processor popped it,
# so a crash loses the jobs that were running (no lease, no recovery). It does less work per job than a reliable queue.
# At startup (before its processors start) it opens a connection for each of them, says "ready" and waits for "go"; a
# server middleware counts jobs done (after the job returned) and prints the report at the last one. A latency job's
# argument is its submit time (µs since the epoch); it records start - submit, written to TT_LATENCIES before the
# report. When the harness closes its input it sends itself TERM (Sidekiq's own shutdown).
require "sidekiq"
require_relative "common"

module TaskTempestBench
  JOBS = Integer(ENV.fetch("TT_JOBS"))
  LATENCY_FILE = ENV.fetch("TT_LATENCIES", "-")
  @done = 0
  @latencies = []
  @done_gate = Mutex.new

  def self.latency(micros)
    @done_gate.synchronize { @latencies << micros }
  end

  def self.completed
    finished = @done_gate.synchronize { (@done += 1) == JOBS }
    return unless finished

    File.write(LATENCY_FILE, @latencies.map { |v| format("%.1f", v) }.join("\n")) unless LATENCY_FILE == "-"
    report(JOBS)
  end

  # A connection per processor, opened now (the pool opens them lazily): none is opened inside the clock.
  def self.open_connections(count)
    gate = Mutex.new
    all_open = ConditionVariable.new
    opened = 0
    threads = Array.new(count) do
      Thread.new do
        Sidekiq.redis do |conn|
          conn.ping
          gate.synchronize do
            opened += 1
            all_open.broadcast if opened == count
            all_open.wait(gate) while opened < count
          end
        end
      end
    end
    threads.each(&:join)
  end

  # Counts a job once Sidekiq's processor has run it (the job returned).
  class CountDone
    def call(_worker, _job, _queue)
      yield
      TaskTempestBench.completed
    end
  end
end

class NoOpJob
  include Sidekiq::Worker

  def perform(_a, _b); end
end

class StampedJob
  include Sidekiq::Worker

  def perform(submitted_micros)
    TaskTempestBench.latency(TaskTempestBench.now_micros - submitted_micros)
  end
end

Sidekiq.logger = Sidekiq::Logger.new($stderr)
Sidekiq.logger.level = Logger::WARN

Sidekiq.configure_server do |config|
  config.redis = { url: ENV.fetch("TT_REDIS_URL") }
  config.server_middleware { |chain| chain.add TaskTempestBench::CountDone }
  config.on(:startup) do
    TaskTempestBench.open_connections(Sidekiq.options[:concurrency])
    TaskTempestBench.ready_and_wait
    Thread.new do
      $stdin.read
      Process.kill("TERM", Process.pid)
    end
  end
end
