package io.feedrank.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The benchmark's accounting of where the cores went. */
class CpuUseTest {

  @Test
  void aProcessSpinningIsChargedAtLeastWhatItsThreadSpent() {
    Map<String, Long> pids = new LinkedHashMap<>();
    pids.put("self", ProcessHandle.current().pid());
    pids.put("gone", Long.MAX_VALUE); // no such process: reported as unknown, not as zero
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    CpuUse before = CpuUse.read(pids);
    long thread0 = threads.getCurrentThreadCpuTime();
    double sink = 0;
    while (threads.getCurrentThreadCpuTime() - thread0 < 300_000_000L) {
      for (int i = 0; i < 100_000; i++) {
        sink += Math.sqrt(i + sink);
      }
    }
    double spentMs = (threads.getCurrentThreadCpuTime() - thread0) / 1e6;
    Map<String, Double> used = CpuUse.read(pids).since(before);

    assertThat(sink).isPositive();
    // the whole process includes this thread (the OS counts in ticks of 10 ms)
    assertThat(used.get("self")).isGreaterThanOrEqualTo(spentMs - 20);
    // and the machine, whose busy time excludes idle and steal, includes the process
    assertThat(used.get(CpuUse.MACHINE_BUSY)).isGreaterThanOrEqualTo(spentMs - 20);
    assertThat(used.get(CpuUse.STEAL)).isGreaterThanOrEqualTo(0);
    assertThat(used.get("gone")).isNaN();
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
