package io.feedrank.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleConsumer;
import org.junit.jupiter.api.Test;

/** The benchmark's accounting of where the cores went. */
class CpuUseTest {

  @Test
  void aProcessSpinningIsChargedAtLeastWhatItsThreadSpent() {
    Map<String, Long> pids = new LinkedHashMap<>();
    pids.put("self", ProcessHandle.current().pid());
    pids.put("gone", Long.MAX_VALUE); // no such process: reported as unknown, not as zero
    CpuUse before = CpuUse.read(pids);
    double spentMs = spin();
    Map<String, Double> used = CpuUse.read(pids).since(before);

    // the whole process includes this thread (the OS counts in ticks of 10 ms)
    assertThat(used.get("self")).isGreaterThanOrEqualTo(spentMs - 20);
    // and the machine, whose busy time excludes idle and steal, includes the process
    assertThat(used.get(CpuUse.MACHINE_BUSY)).isGreaterThanOrEqualTo(spentMs - 20);
    assertThat(used.get(CpuUse.STEAL)).isGreaterThanOrEqualTo(0);
    assertThat(used.get("gone")).isNaN();
  }

  /**
   * A thread named {@code name} that {@link #spin spins}, hands {@code spent} the milliseconds it
   * used, counts {@code spun} down, and then stays alive until {@code exit}: a thread that has
   * exited is no longer in {@code /proc/<pid>/task}, so its figures count only while it lives.
   */
  static Thread spinner(
      String name, DoubleConsumer spent, CountDownLatch spun, CountDownLatch exit) {
    return new Thread(
        () -> {
          spent.accept(spin());
          spun.countDown();
          try {
            exit.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        },
        name);
  }

  /** Spins this thread for at least 300 ms of its CPU time; returns the milliseconds it used. */
  static double spin() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long t0 = threads.getCurrentThreadCpuTime();
    double sink = 0;
    while (threads.getCurrentThreadCpuTime() - t0 < 300_000_000L) {
      for (int i = 0; i < 100_000; i++) {
        sink += Math.sqrt(i + sink);
      }
    }
    assertThat(sink).isPositive(); // the work is used, so it is done
    return (threads.getCurrentThreadCpuTime() - t0) / 1e6;
  }

  @Test
  void pidsTravelToTheLoadGeneratorAsOneProperty() {
    Map<String, Long> pids = new LinkedHashMap<>();
    pids.put("ranker", 4242L);
    pids.put("redis", 17L);
    assertThat(CpuUse.format(pids)).isEqualTo("ranker=4242,redis=17");
    assertThat(CpuUse.parse(CpuUse.format(pids))).containsExactlyEntriesOf(pids);
    assertThat(CpuUse.parse(null)).isEmpty();
    assertThat(CpuUse.parse(" ")).isEmpty();
  }

  @Test
  void theRankersThreadsAreGroupedByWhatTheyDo() {
    Map<String, String> groups = new LinkedHashMap<>();
    groups.put("vert.x-eventloo", "loops");
    groups.put("C2 CompilerThre", "jit");
    groups.put("C1 CompilerThre", "jit");
    groups.put("ZWorker", "gc");
    groups.put("ZDirector", "gc");
    groups.put("GC Thread#1", "gc");
    groups.put("G1 Conc#0", "gc");
    groups.put("ranker-ranking-", "logs");
    groups.put("kafka-producer-", "logs");
    groups.put("ranker-feature-", "refresh");
    groups.put("Zookeeper", "other");
    groups.put("vert.x-worker-t", "other");
    groups.put("main", "other");
    groups.forEach((comm, group) -> assertThat(CpuUse.threadGroup(comm)).as(comm).isEqualTo(group));
  }

  /**
   * A thread named as an event loop, spinning, is charged to the loops of the process named ranker,
   * and the groups together do not exceed the process. The thread stays alive until read: a thread
   * that has exited is no longer in {@code /proc/<pid>/task}, so reading while it may be exiting
   * would race with its end.
   */
  @Test
  void aThreadIsChargedToItsGroup() throws Exception {
    Map<String, Long> pids = Map.of(CpuUse.BY_THREAD, ProcessHandle.current().pid());
    double[] spentMs = new double[1];
    CountDownLatch spun = new CountDownLatch(1);
    CountDownLatch exit = new CountDownLatch(1);
    Thread loop = spinner("vert.x-eventloop-thread-7", ms -> spentMs[0] = ms, spun, exit);
    CpuUse before = CpuUse.read(pids);
    loop.start();
    Map<String, Double> used;
    try {
      assertThat(spun.await(60, TimeUnit.SECONDS)).isTrue();
      // parked: the kernel has charged all it ran (a thread still running between the latch and
      // its park has time not yet in its /proc stat, which a loaded machine can stretch)
      await().atMost(Duration.ofSeconds(10)).until(() -> loop.getState() == Thread.State.WAITING);
      used = CpuUse.read(pids).since(before);
    } finally {
      exit.countDown();
      loop.join();
    }
    assertThat(spentMs[0]).isGreaterThanOrEqualTo(300);
    // the thread's time is counted in ticks of 10 ms
    assertThat(used.get("ranker_loops")).isGreaterThanOrEqualTo(spentMs[0] - 20);
    double groups =
        used.entrySet().stream()
            .filter(e -> e.getKey().startsWith("ranker_"))
            .mapToDouble(Map.Entry::getValue)
            .sum();
    // each thread's time and the process's are rounded to 10 ms ticks apart, and a few threads
    // ran (this one, the spinner, the JIT); a group counted twice would add 300 ms
    assertThat(groups).isLessThanOrEqualTo(used.get("ranker") + 50);
  }

  /**
   * One more event loop spinning than there are cores: whatever the scheduler does, while the first
   * ones take their 300 ms of CPU at least one waits, so the loops' run-queue time grows by at
   * least about 300 ms, and by no more than every loop waiting for the whole time.
   */
  @Test
  void loopsWaitingForACoreAreCounted() throws Exception {
    Map<String, Long> pids = Map.of(CpuUse.BY_THREAD, ProcessHandle.current().pid());
    int n = Runtime.getRuntime().availableProcessors() + 1;
    CountDownLatch spun = new CountDownLatch(n);
    CountDownLatch exit = new CountDownLatch(1);
    List<Thread> loops = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      loops.add(spinner("vert.x-eventloop-thread-" + i, ms -> {}, spun, exit));
    }
    CpuUse before = CpuUse.read(pids);
    long t0 = System.nanoTime();
    loops.forEach(Thread::start);
    try {
      assertThat(spun.await(60, TimeUnit.SECONDS)).isTrue();
      double wallMs = (System.nanoTime() - t0) / 1e6;
      Map<String, Double> used = CpuUse.read(pids).since(before);
      double waitMs = used.get(CpuUse.WAIT_PREFIX + "ranker_loops");
      // each loop was runnable from its start until it had spun: running (its CPU, in ticks of 10
      // ms) or waiting; so the waits add up to at most the loops' wall time less their CPU time
      assertThat(waitMs)
          .isGreaterThanOrEqualTo(250)
          .isLessThanOrEqualTo(n * wallMs - used.get("ranker_loops") + 10 * n);
    } finally {
      exit.countDown();
      for (Thread t : loops) {
        t.join();
      }
    }
  }

  /** The JIT's threads use CPU while compiling, never more than the compiles' elapsed time. */
  @Test
  void theJitThreadsCpuIsBoundedByTheCompilesElapsedTime() {
    double cpu = CpuUse.compilerThreadsMillis();
    long elapsed =
        java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
    assertThat(cpu).isGreaterThan(0).isLessThanOrEqualTo(elapsed + 50.0);
  }

  /** Read by pid, this JVM's compiler threads are the same tasks; they only ever add CPU time. */
  @Test
  void theJitThreadsOfAProcessReadByPidAreThoseOfProcSelf() {
    double before = CpuUse.compilerThreadsMillis();
    double byPid = CpuUse.compilerThreadsMillis(ProcessHandle.current().pid());
    double after = CpuUse.compilerThreadsMillis();
    assertThat(byPid).isGreaterThan(0).isBetween(before, after);
    assertThat(CpuUse.compilerThreadsMillis(Long.MAX_VALUE)).isNaN();
  }
}
