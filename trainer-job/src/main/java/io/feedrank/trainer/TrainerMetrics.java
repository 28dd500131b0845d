package io.feedrank.trainer;

import com.sun.net.httpserver.HttpServer;
import io.feedrank.trainer.registry.Promotion;
import io.feedrank.trainer.runs.RunRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The trainer's metrics, on {@code GET /metrics} when a port is configured: runs by status and
 * registry decision ({@code trainer.runs}), their wall time ({@code trainer.run.duration}), the
 * holdout AUC of the versions trained by this process ({@code trainer.model.auc} by version,
 * architecture and decision; the newest 50), and the retrain commands the listener skipped ({@code
 * trainer.commands.skipped}, by reason: {@code other_model}, another model's; {@code superseded},
 * for a version a promotion has replaced since), and the partitions runs read after records of
 * their range had been deleted ({@code trainer.data.trimmed.partitions}: retention ran ahead of the
 * range).
 */
public final class TrainerMetrics implements AutoCloseable {
  static final int VERSIONS_KEPT = 50;

  /** The decisions the registry makes on a run's candidate ({@code Promotion.decide}). */
  static final List<String> RUN_DECISIONS =
      List.of(Promotion.DECISION_PROMOTED, Promotion.DECISION_STAGED, Promotion.DECISION_REJECTED);

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final DistributionSummary duration;
  private final MultiGauge auc;
  private final Counter otherModelCommands;
  private final Counter supersededCommands;
  private final Counter trimmedPartitions;
  private final Map<String, RunRecord.ModelRun> versions = new LinkedHashMap<>();
  private final HttpServer server;

  public TrainerMetrics(String host, int port) {
    this.duration =
        DistributionSummary.builder("trainer.run.duration")
            .baseUnit("seconds")
            .description("wall time of a training run")
            .register(registry);
    this.auc =
        MultiGauge.builder("trainer.model.auc")
            .description("holdout AUC of each version this trainer registered")
            .register(registry);
    this.otherModelCommands = skippedCommands("other_model");
    this.supersededCommands = skippedCommands("superseded");
    this.trimmedPartitions =
        Counter.builder("trainer.data.trimmed.partitions")
            .description(
                "partitions of training-examples runs read with records of their range deleted")
            .register(registry);
    // zero series, so that increase() sees the first run of each kind: a counter first scraped at 1
    // has no increase. Every status without a decision, and a successful run's every decision
    for (String status :
        List.of(RunRecord.SUCCEEDED, RunRecord.FAILED, RunRecord.REFUSED, RunRecord.CANCELLED)) {
      runs(status, "none");
    }
    for (String decision : RUN_DECISIONS) {
      runs(RunRecord.SUCCEEDED, decision);
    }
    if (port <= 0) {
      server = null;
      return;
    }
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("trainer metrics: cannot listen on " + host + ":" + port, e);
    }
    server.createContext(
        "/metrics",
        exchange -> {
          byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
  }

  private Counter skippedCommands(String reason) {
    return Counter.builder("trainer.commands.skipped")
        .description("retrain commands the listener skipped, by reason")
        .tags("reason", reason)
        .register(registry);
  }

  private Counter runs(String status, String decision) {
    return Counter.builder("trainer.runs")
        .description("training runs by status and the registry's decision on their model")
        .tags("status", status, "decision", decision)
        .register(registry);
  }

  /** Counts a finished run and publishes its registered model's AUC. */
  public synchronized void record(RunRecord run) {
    RunRecord.ModelRun registered = run.registeredModel().orElse(null);
    String decision =
        registered == null || registered.decision == null ? "none" : registered.decision;
    runs(run.status, decision).increment();
    if (run.data != null && run.data.trimmedPartitions != null) {
      trimmedPartitions.increment(run.data.trimmedPartitions.size());
    }
    if (run.startedAt != null && run.finishedAt != null) {
      duration.record(
          Duration.between(Instant.parse(run.startedAt), Instant.parse(run.finishedAt)).toMillis()
              / 1000.0);
    }
    if (registered != null && registered.metrics.get("auc") != null) {
      versions.put(registered.version, registered);
      while (versions.size() > VERSIONS_KEPT) {
        versions.remove(versions.keySet().iterator().next());
      }
      List<MultiGauge.Row<?>> rows = new ArrayList<>();
      versions.forEach(
          (v, m) ->
              rows.add(
                  MultiGauge.Row.of(
                      Tags.of(
                          "version",
                          v,
                          "architecture",
                          m.architecture,
                          "decision",
                          m.decision == null ? "none" : m.decision),
                      m.metrics.get("auc"))));
      auc.register(rows, true);
    }
  }

  /**
   * Counts a run known by its status alone: its ended record could not be saved (no decision,
   * duration or AUC to publish).
   */
  public synchronized void record(String status) {
    runs(status, "none").increment();
  }

  /** Counts the retrain commands the listener skips as another model's. */
  public Counter otherModelCommands() {
    return otherModelCommands;
  }

  /**
   * Counts the retrain commands the listener skips because another version has replaced theirs in
   * production since they were issued.
   */
  public Counter supersededCommands() {
    return supersededCommands;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** The port of {@code /metrics}, or 0 when off. */
  public int port() {
    return server == null ? 0 : server.getAddress().getPort();
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
    }
    registry.close();
  }
}
