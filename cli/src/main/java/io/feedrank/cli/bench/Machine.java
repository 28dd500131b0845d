package io.feedrank.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The machine a benchmark ran on, as BENCHMARKS.md records it. */
public final class Machine {

  public static Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("memory_gib", memTotalGib());
    m.put("cpu", cpuModel());
    m.put(
        "os",
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " "
            + System.getProperty("os.arch"));
    m.put(
        "java",
        System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    m.put("java_max_heap_mib", Runtime.getRuntime().maxMemory() / (1024 * 1024));
    return m;
  }

  private static double memTotalGib() {
    for (String line : lines("/proc/meminfo")) {
      if (line.startsWith("MemTotal:")) {
        long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
        return Math.round(kib / 1024.0 / 1024.0 * 10) / 10.0;
      }
    }
    return -1;
  }

  private static String cpuModel() {
    for (String line : lines("/proc/cpuinfo")) {
      if (line.startsWith("model name")) {
        return line.substring(line.indexOf(':') + 1).trim();
      }
    }
    return System.getProperty("os.arch");
  }

  private static List<String> lines(String file) {
    try {
      return Files.readAllLines(Paths.get(file));
    } catch (IOException e) {
      return List.of();
    }
  }

  private Machine() {}
}
