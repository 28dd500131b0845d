package io.feedrank.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A benchmark's result file, {@code target/bench/NAME.json}: {@code {"name", "date", "machine",
 * "runs", "figures"}} where each figure is the median of the runs' values of the same key.
 */
public final class BenchReport {
  private final String name;
  private final List<Map<String, Double>> runs = new ArrayList<>();
  private final Map<String, Object> notes = new LinkedHashMap<>();

  public BenchReport(String name) {
    this.name = name;
  }

  public void addRun(Map<String, Double> run) {
    runs.add(new LinkedHashMap<>(run));
  }

  public void note(String key, Object value) {
    notes.put(key, value);
  }

  /** Median over runs of each key present in every run (mean of the two middle values if even). */
  public Map<String, Double> figures() {
    Map<String, Double> out = new LinkedHashMap<>();
    if (runs.isEmpty()) {
      return out;
    }
    for (String key : runs.get(0).keySet()) {
      double[] v =
          runs.stream().filter(r -> r.containsKey(key)).mapToDouble(r -> r.get(key)).toArray();
      if (v.length == runs.size()) {
        out.put(key, median(v));
      }
    }
    return out;
  }

  static double median(double[] values) {
    double[] s = values.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  /** {@code $FEEDRANK_HOME/target/bench}, where every benchmark writes unless told otherwise. */
  public static Path defaultDir() {
    return java.nio.file.Paths.get(
        System.getenv().getOrDefault("FEEDRANK_HOME", "."), "target", "bench");
  }

  /** Writes {@code dir/NAME.json} and returns its path. */
  public Path write(Path dir) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("name", name);
    doc.put("date", Instant.now().toString());
    doc.put("machine", Machine.describe());
    doc.put("runs", runs);
    doc.put("figures", figures());
    if (!notes.isEmpty()) {
      doc.put("notes", notes);
    }
    try {
      Files.createDirectories(dir);
      Path file = dir.resolve(name + ".json");
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), doc);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("could not write the bench report to " + dir, e);
    }
  }
}
