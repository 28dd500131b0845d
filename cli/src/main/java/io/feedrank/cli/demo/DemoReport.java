package io.feedrank.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's report: what happened in each phase and the figures that show the loop worked. Kept as
 * ordered maps so the JSON reads in the order of the run; {@link #markdown()} renders the same
 * content for people.
 */
public final class DemoReport {
  public String status = "RUNNING";
  public String failedPhase;
  public String error;
  public String startedAt;
  public String finishedAt;
  public double wallSeconds;
  public final Map<String, Object> eventTime = new LinkedHashMap<>();
  public final List<Map<String, Object>> phases = new ArrayList<>();
  public final Map<String, Object> events = new LinkedHashMap<>();
  public final Map<String, Object> features = new LinkedHashMap<>();
  public final List<Map<String, Object>> models = new ArrayList<>();
  public final Map<String, Object> drift = new LinkedHashMap<>();
  public final Map<String, Object> retrain = new LinkedHashMap<>();
  public final Map<String, Object> ranker = new LinkedHashMap<>();

  /** The q-quantile (nearest rank) of {@code values}; NaN when empty. */
  static double quantile(double[] values, double q) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] s = values.clone();
    Arrays.sort(s);
    int rank = (int) Math.ceil(q * s.length);
    return s[Math.max(0, Math.min(s.length - 1, rank - 1))];
  }

  void phase(String name, double seconds, String outcome) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("phase", name);
    p.put("seconds", round(seconds, 1));
    p.put("outcome", outcome);
    phases.add(p);
  }

  static double round(double v, int digits) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return v;
    }
    double f = Math.pow(10, digits);
    return Math.round(v * f) / f;
  }

  /** Writes {@code report.json} and {@code report.md} into {@code dir}. */
  void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    json.writeValue(dir.resolve("report.json").toFile(), this);
    Files.writeString(dir.resolve("report.md"), markdown());
  }

  /** The report without its title: what the command prints at the end. */
  public String markdownSummary() {
    String m = markdown();
    return m.substring(m.indexOf('\n') + 1).strip();
  }

  @SuppressWarnings("unchecked")
  String markdown() {
    StringBuilder b = new StringBuilder();
    b.append("# feedrank demo report\n\n");
    b.append("Status: **").append(status).append("**");
    if (failedPhase != null) {
      b.append(" in phase `").append(failedPhase).append("`: ").append(error);
    }
    b.append(
        String.format(
            Locale.ROOT,
            "  \nWall time: %.1f s (%s → %s)%n%n",
            wallSeconds,
            startedAt,
            finishedAt));
    if (!eventTime.isEmpty()) {
      b.append("Event time is simulated faster than the wall clock: ")
          .append(eventTime.get("from"))
          .append(" → ")
          .append(eventTime.get("to"))
          .append(
              String.format(
                  Locale.ROOT,
                  " (about %.0f× wall time while serving).%n%n",
                  (double) eventTime.getOrDefault("acceleration", 0.0)));
    }
    b.append("## Phases\n\n| phase | seconds | outcome |\n|---|---:|---|\n");
    for (Map<String, Object> p : phases) {
      b.append("| ")
          .append(p.get("phase"))
          .append(" | ")
          .append(p.get("seconds"))
          .append(" | ")
          .append(p.get("outcome"))
          .append(" |\n");
    }
    section(b, "Events", events);
    section(b, "Features in Redis", features);
    if (!models.isEmpty()) {
      b.append(
          "\n## Models\n\n| version | architecture | trigger | AUC | log loss | P@10 | NDCG@10 | logistic baseline AUC | stage now | decision |\n|---|---|---|---:|---:|---:|---:|---:|---|---|\n");
      for (Map<String, Object> m : models) {
        b.append("| ")
            .append(m.get("version"))
            .append(" | ")
            .append(m.get("architecture"))
            .append(" | ")
            .append(m.get("trigger"))
            .append(" | ")
            .append(m.get("auc"))
            .append(" | ")
            .append(m.get("logloss"))
            .append(" | ")
            .append(m.get("p_at_10"))
            .append(" | ")
            .append(m.get("ndcg_at_10"))
            .append(" | ")
            .append(m.get("baseline_logistic_auc"))
            .append(" | ")
            .append(m.get("stage"))
            .append(" | ")
            .append(m.get("decision"))
            .append(": ")
            .append(m.get("reason"))
            .append(" |\n");
      }
    }
    if (!drift.isEmpty()) {
      b.append("\n## Drift episode\n\n");
      for (Map.Entry<String, Object> e : drift.entrySet()) {
        if (!e.getKey().equals("evidence")) {
          b.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
        }
      }
      Object ev = drift.get("evidence");
      if (ev instanceof List<?> list && !list.isEmpty()) {
        b.append(
            "\n| feature | kind | PSI | KS | KS p | chi² p | consecutive windows |\n|---|---|---:|---:|---:|---:|---:|\n");
        for (Object o : list) {
          Map<String, Object> m = (Map<String, Object>) o;
          b.append("| ")
              .append(m.get("feature"))
              .append(" | ")
              .append(m.get("kind"))
              .append(" | ")
              .append(m.get("psi"))
              .append(" | ")
              .append(m.get("ks_statistic"))
              .append(" | ")
              .append(m.get("ks_p_value"))
              .append(" | ")
              .append(m.get("chi2_p_value"))
              .append(" | ")
              .append(m.get("consecutive_windows"))
              .append(" |\n");
        }
      }
    }
    section(b, "Retrain", retrain);
    section(b, "Ranker (client side, real HTTP)", ranker);
    return b.toString();
  }

  private static void section(StringBuilder b, String title, Map<String, Object> m) {
    if (m.isEmpty()) {
      return;
    }
    b.append("\n## ").append(title).append("\n\n");
    m.forEach((k, v) -> b.append("- ").append(k).append(": ").append(v).append('\n'));
  }
}
