package io.feedrank.cli.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU time of named processes and of the whole machine, read twice to give the CPU each used
 * between the two readings. On a machine where the load generator, the server and its dependencies
 * share the cores, this says where the cores went: a throughput figure alone cannot tell a slow
 * server from a busy neighbour.
 *
 * <p>Processes are read through {@link ProcessHandle} (user plus system time). The machine is read
 * from {@code /proc/stat}: busy is user, nice, system, irq and softirq time; steal is time the
 * hypervisor gave to other guests while this one had work.
 */
final class CpuUse {
  static final String MACHINE_BUSY = "machine_busy";
  static final String STEAL = "steal";

  private final Map<String, Double> millis;

  private CpuUse(Map<String, Double> millis) {
    this.millis = millis;
  }

  /**
   * The prefix of the one figure that is not CPU time: {@code wait_ranker_loops}, the milliseconds
   * the ranker's event loops were runnable but waiting for a core ({@link
   * Threads#loopsWaitMillis}).
   */
  static final String WAIT_PREFIX = "wait_";

  /** The process whose threads are also read by {@link #threadGroup what they do}. */
  static final String BY_THREAD = "ranker";

  /**
   * Reads the CPU time so far of each named process and of the machine; for the process named
   * {@value #BY_THREAD}, also of its threads grouped by {@link #threadGroup}, as {@code
   * ranker_loops}, {@code ranker_jit} and so on.
   */
  static CpuUse read(Map<String, Long> pids) {
    Map<String, Double> m = new LinkedHashMap<>();
    pids.forEach(
        (name, pid) -> {
          m.put(
              name,
              ProcessHandle.of(pid)
                  .flatMap(h -> h.info().totalCpuDuration())
                  .map(d -> d.toNanos() / 1e6)
                  .orElse(Double.NaN));
          if (name.equals(BY_THREAD)) {
            Threads threads = threads(Paths.get("/proc", Long.toString(pid), "task"));
            threads.cpuMillis().forEach((group, ms) -> m.put(name + "_" + group, ms));
            m.put(WAIT_PREFIX + name + "_loops", threads.loopsWaitMillis());
          }
        });
    long[] stat = procStat();
    if (stat.length >= 8) {
      double msPerTick = 1000.0 / 100; // USER_HZ is 100 on Linux
      long busy = stat[0] + stat[1] + stat[2] + stat[5] + stat[6];
      m.put(MACHINE_BUSY, busy * msPerTick);
      m.put(STEAL, stat[7] * msPerTick);
    }
    return new CpuUse(m);
  }

  /** CPU milliseconds each process (and the machine) used from {@code earlier} to this reading. */
  Map<String, Double> since(CpuUse earlier) {
    Map<String, Double> d = new LinkedHashMap<>();
    millis.forEach(
        (k, v) -> {
          Double e = earlier.millis.get(k);
          d.put(k, e == null ? Double.NaN : v - e);
        });
    return d;
  }

  /** {@code name=pid,name=pid}, as the load generator receives it. */
  static String format(Map<String, Long> pids) {
    StringBuilder s = new StringBuilder();
    pids.forEach((k, v) -> s.append(s.length() == 0 ? "" : ",").append(k).append('=').append(v));
    return s.toString();
  }

  static Map<String, Long> parse(String spec) {
    Map<String, Long> pids = new LinkedHashMap<>();
    if (spec != null && !spec.isBlank()) {
      for (String part : spec.split(",")) {
        int eq = part.indexOf('=');
        pids.put(part.substring(0, eq).trim(), Long.parseLong(part.substring(eq + 1).trim()));
      }
    }
    return pids;
  }

  /**
   * CPU milliseconds this JVM's JIT compiler threads have used so far (Linux: the {@code C1/C2
   * CompilerThre*} tasks in {@code /proc/self/task}; a compiler thread that has exited no longer
   * counts). The JVM's own total compilation time adds up each compile's elapsed time, which on two
   * busy cores is several times its CPU time.
   */
  static double compilerThreadsMillis() {
    return compilerThreadsMillis(Paths.get("/proc/self/task"));
  }

  /** As {@link #compilerThreadsMillis()}, for the JVM of process {@code pid}. */
  static double compilerThreadsMillis(long pid) {
    return compilerThreadsMillis(Paths.get("/proc", Long.toString(pid), "task"));
  }

  private static double compilerThreadsMillis(Path taskDir) {
    Map<String, Double> groups = threads(taskDir).cpuMillis();
    return groups.isEmpty() ? Double.NaN : groups.getOrDefault(JIT, 0.0);
  }

  private static final String JIT = "jit";
  private static final List<String> GROUPS =
      List.of("loops", JIT, "gc", "logs", "refresh", "other");

  /**
   * What a thread of the ranker does, from its name as Linux keeps it (the first 15 characters):
   * {@code loops} (Vert.x event loops: requests, the model calls included), {@code jit}, {@code gc}
   * (ZGC's or G1's threads), {@code logs} (the ranking logger and its Kafka producer), {@code
   * refresh} (the feature cache's background refresh), {@code other}.
   */
  static String threadGroup(String comm) {
    if (comm.startsWith("vert.x-eventloo")) {
      return "loops";
    }
    if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre")) {
      return JIT;
    }
    boolean zgc =
        comm.length() > 1 && comm.charAt(0) == 'Z' && Character.isUpperCase(comm.charAt(1));
    if (zgc || comm.startsWith("GC Thread") || comm.startsWith("G1 ")) {
      return "gc";
    }
    if (comm.startsWith("ranker-ranking-") || comm.startsWith("kafka-producer-")) {
      return "logs";
    }
    if (comm.startsWith("ranker-feature-")) {
      return "refresh";
    }
    return "other";
  }

  /**
   * One reading of a process's live threads.
   *
   * @param cpuMillis CPU milliseconds by {@link #threadGroup}, every group present; empty when the
   *     process cannot be read. Threads that have ended no longer count, so a group can shrink
   *     between two readings when threads come and go.
   * @param loopsWaitMillis the milliseconds the event-loop threads ({@code loops}) have spent
   *     runnable but waiting for a core, from the scheduler's own account ({@code
   *     /proc/<pid>/task/<tid>/schedstat}, second field, nanoseconds; NaN when the kernel does not
   *     keep it or the process cannot be read). A request on a loop that waits is late by that much
   *     though no code of the ranker ran: on two cores shared with the load generator and the
   *     broker, this is the part of its latency that belongs to the machine. Not CPU time.
   */
  record Threads(Map<String, Double> cpuMillis, double loopsWaitMillis) {}

  private static Threads threads(Path taskDir) {
    Map<String, Long> ticks = new LinkedHashMap<>();
    GROUPS.forEach(g -> ticks.put(g, 0L));
    long waitNanos = 0;
    boolean waitUnread = false;
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(taskDir)) {
      for (Path t : tasks) {
        String group;
        try {
          group = threadGroup(Files.readString(t.resolve("comm")).trim());
          String stat = Files.readString(t.resolve("stat"));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          ticks.merge(group, Long.parseLong(f[11]) + Long.parseLong(f[12]), Long::sum);
        } catch (IOException | RuntimeException e) {
          continue; // the thread ended meanwhile
        }
        if (group.equals("loops")) {
          try {
            waitNanos += Long.parseLong(Files.readString(t.resolve("schedstat")).split(" ")[1]);
          } catch (IOException | RuntimeException e) {
            waitUnread |= Files.exists(t); // a live thread without the figure: the kernel has none
          }
        }
      }
    } catch (IOException e) {
      return new Threads(Map.of(), Double.NaN);
    }
    Map<String, Double> ms = new LinkedHashMap<>();
    ticks.forEach((g, n) -> ms.put(g, n * 1000.0 / 100)); // USER_HZ
    return new Threads(ms, waitUnread ? Double.NaN : waitNanos / 1e6);
  }

  /**
   * The first line of {@code /proc/stat}: user nice system idle iowait irq softirq steal, ticks.
   */
  private static long[] procStat() {
    try {
      List<String> lines = Files.readAllLines(Paths.get("/proc/stat"));
      String[] f = lines.get(0).trim().split("\\s+");
      long[] v = new long[Math.min(8, f.length - 1)];
      for (int i = 0; i < v.length; i++) {
        v[i] = Long.parseLong(f[i + 1]);
      }
      return v;
    } catch (IOException | RuntimeException e) {
      return new long[0];
    }
  }
}
