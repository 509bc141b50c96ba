# frozen_string_literal: true

# What the Sidekiq workers and producer share: the harness's line protocol (ready, go, done), the command count, the clock.
require "redis"

# Debian's Sidekiq 6.4.1 beside its redis-rb 4.8 calls APIs that 4.8 deprecates (BRPOP's positional timeout, SADD's
# return): redis-rb would print a warning to stderr at every fetch, a cost Sidekiq does not have with the redis-rb it was
# released with.
Redis.silence_deprecations = true

module TaskTempestBench
  @commands = 0
  @gate = Mutex.new

  # Every command redis-rb sends goes through Redis::Client#process (one call per command, or one per pipeline or
  # MULTI with all of its commands): counted per command.
  module CountCommands
    def process(commands, &block)
      TaskTempestBench.count_commands(commands.size)
      super
    end
  end
  Redis::Client.prepend(CountCommands)

  def self.count_commands(n)
    @gate.synchronize { @commands += n }
  end

  # Commands sent since the process started.
  def self.commands
    @gate.synchronize { @commands }
  end

  # Wall-clock microseconds since the epoch (the clock every contender stamps with).
  def self.now_micros
    Process.clock_gettime(Process::CLOCK_REALTIME, :float_microsecond)
  end

  def self.cpu_ms
    Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID, :float_millisecond)
  end

  def self.monotonic_ms
    Process.clock_gettime(Process::CLOCK_MONOTONIC, :float_millisecond)
  end

  # Says ready, waits for the harness's "go", and starts the measures (see report).
  def self.ready_and_wait
    $stdout.puts "ready"
    $stdout.flush
    line = $stdin.gets
    raise "expected go, got #{line.inspect}" unless line&.strip == "go"
    @start = [cpu_ms, commands, monotonic_ms]
  end

  # The report line: done count cpuMs commands elapsedMs (see ChildReport in the harness).
  def self.report(count)
    cpu, sent, clock = @start
    $stdout.puts "done #{count} #{cpu_ms - cpu} #{commands - sent} #{monotonic_ms - clock}"
    $stdout.flush
  end
end
