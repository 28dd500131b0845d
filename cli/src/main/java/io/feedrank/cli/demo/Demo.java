package io.feedrank.cli.demo;

import io.feedrank.avro.Topics;
import io.feedrank.events.DeadLetter;
import io.feedrank.events.DriftEvidence;
import io.feedrank.events.DriftReport;
import io.feedrank.events.ModelVersion;
import io.feedrank.events.OnlineCtrReport;
import io.feedrank.events.RetrainCommand;
import io.feedrank.events.RetrainReason;
import io.feedrank.features.redis.RedisConnections;
import io.feedrank.ranker.models.ModelSlots;
import io.feedrank.ranker.models.ServingModel;
import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.SimulatorConfig;
import io.feedrank.trainer.data.DataRange;
import io.feedrank.trainer.registry.Promotion;
import io.feedrank.trainer.runs.RunRecord;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * The closed loop, phase by phase, on the local stack: history → first model → serving → drift →
 * detection and one retrain command → retrain and decision → hot swap → report. Each phase is
 * bounded; a phase that does not reach its outcome ends the demo with a {@link Failure} naming it.
 */
public final class Demo {
  /** A phase that did not reach its outcome. */
  public static final class Failure extends RuntimeException {
    private final String phase;

    Failure(String phase, String message, Throwable cause) {
      super(message, cause);
      this.phase = phase;
    }

    public String phase() {
      return phase;
    }
  }

  /** A phase's work: its outcome in a line. */
  interface Step {
    String run() throws Exception;
  }

  private final DemoConfig c;
  private final PrintWriter out;
  private final boolean tty;
  private final DemoReport report = new DemoReport();
  private volatile boolean cancelled;
  // the thread running the phases, which cancel() interrupts; null once they ended
  private final Object phasesLock = new Object();
  private Thread phasesThread;
  private Step start = this::startPlatform;
  private Platform platform;
  private Traffic traffic;
  private RankingClient client;
  private TopicReader topics;
  private Instant historyStart;
  private Instant scenarioStart;
  private RunRecord firstRun;
  private RetrainCommand command;
  private RunRecord retrainRun;

  /** The client's failed requests when the retrain began: the swap is judged on those after. */
  private long failedBeforeRetrain;

  private long servingStartedNanos;
  private int phaseNumber;
  private static final int PHASES = 8;

  public Demo(DemoConfig config, PrintWriter out, boolean tty) {
    this.c = config;
    this.out = out;
    this.tty = tty;
  }

  private java.util.function.Consumer<Platform> inspector = p -> {};

  /** Called with the running platform after the last phase, before it is stopped (for tests). */
  public Demo inspectBeforeStop(java.util.function.Consumer<Platform> f) {
    this.inspector = f;
    return this;
  }

  /** For tests: {@code start} is the first phase, in place of starting the platform. */
  Demo startPlatformWith(Step start) {
    this.start = start;
    return this;
  }

  public DemoReport report() {
    return report;
  }

  /**
   * Asks a running demo to stop (Ctrl-C); the current phase fails as cancelled. Interrupts the
   * thread in the phases: a training run stops only on an interrupt, at its next batch, and the
   * first model trains on that thread for up to a minute, past what ./feedrank demo's shutdown hook
   * waits before the JVM halts with no report.
   */
  public void cancel() {
    cancelled = true;
    synchronized (phasesLock) {
      if (phasesThread != null) {
        phasesThread.interrupt();
      }
    }
  }

  /** Runs every phase; the report is written in every case, the failure rethrown. */
  public DemoReport run() throws Exception {
    long t0 = System.nanoTime();
    report.startedAt = Instant.now().toString();
    synchronized (phasesLock) {
      phasesThread = Thread.currentThread();
    }
    boolean interrupted = false;
    try {
      phase("start the platform", start);
      phase("stationary history", this::history);
      phase("first model", this::firstModel);
      phase("serving", this::serving);
      phase("drift and detection", this::drift);
      phase("retrain", this::retrain);
      phase("hot swap", this::hotSwap);
      phase("report", this::summarize);
      report.status = "SUCCEEDED";
      inspector.accept(platform);
      return report;
    } catch (Failure f) {
      interrupted = endPhases();
      driftDiagnostics();
      report.status = cancelled ? "CANCELLED" : "FAILED";
      report.failedPhase = f.phase();
      report.error = f.getMessage();
      throw f;
    } finally {
      interrupted |= endPhases();
      try {
        report.finishedAt = Instant.now().toString();
        report.wallSeconds = DemoReport.round((System.nanoTime() - t0) / 1e9, 1);
        stopEverything();
        report.write(c.dir());
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /**
   * Ends the phases: cancel() interrupts no more, and the interrupt it sent is cleared, returned to
   * be restored once everything is stopped and the report written. Under it, the closes that wait
   * for their threads (the ranker's, the traffic's producers) would give up at once and leave them
   * running.
   */
  private boolean endPhases() {
    synchronized (phasesLock) {
      phasesThread = null;
      return Thread.interrupted();
    }
  }

  private void phase(String name, Step step) {
    phaseNumber++;
    line(String.format(Locale.ROOT, "[%d/%d] %s ...", phaseNumber, PHASES, name));
    long t0 = System.nanoTime();
    String outcome;
    try {
      if (cancelled) {
        throw new Failure(name, "cancelled", null);
      }
      outcome = step.run();
    } catch (Failure f) {
      report.phase(name, (System.nanoTime() - t0) / 1e9, "FAILED: " + f.getMessage());
      throw f;
    } catch (Exception e) {
      report.phase(name, (System.nanoTime() - t0) / 1e9, "FAILED: " + e.getMessage());
      throw new Failure(name, cancelled ? "cancelled" : String.valueOf(e.getMessage()), e);
    }
    double s = (System.nanoTime() - t0) / 1e9;
    report.phase(name, s, outcome);
    line(String.format(Locale.ROOT, "      done in %.1f s: %s", s, outcome));
  }

  // ---- phases

  private String startPlatform() throws Exception {
    // every run starts from nothing: state of an earlier run (streams stores and checkpoints of a
    // broker that no longer exists, old runs) would not match the new stack
    for (String sub : List.of("stack", "streams-state", "artifacts", "flink-checkpoints")) {
      deleteTree(c.dir().resolve(sub));
    }
    // midnight UTC 12 to 36 hours ago: the whole run (~11 event-time hours) stays in the past, and
    // the history always covers the same hours of the day, so with the seeded simulator every run
    // trains its first model on the same examples (started at the last full hour instead, the
    // first model's margin over the logistic baseline varied from +0.024 to +0.0095 with the hour)
    historyStart = Instant.now().minus(12, ChronoUnit.HOURS).truncatedTo(ChronoUnit.DAYS);
    SimulatorConfig sc =
        SimulatorConfig.defaults(c.seed(), historyStart)
            .withPopulation(c.users(), c.items())
            .withEventsPerEventSecond(c.eventsPerEventSecond())
            .withScenario(
                c.scenario(), historyStart.plus(3650, ChronoUnit.DAYS), c.scenarioStrength());
    InteractionSimulator sim = new InteractionSimulator(sc);
    Map<String, String> drift = new HashMap<>();
    drift.put("window.ms", Long.toString(c.window().toMillis()));
    // impressions of the feed client reach Kafka a moment after the simulated stream's newest
    // events; at ~100× event time a moment of wall time is minutes of event time
    drift.put("out.of.orderness.ms", Long.toString(c.window().toMillis()));
    // the cooldown is event time: at ~130× a 1-hour cooldown would pass within one training run
    drift.put("cooldown.ms", Long.toString(Duration.ofHours(12).toMillis()));
    // event time runs ahead of the wall clock here, by days in a long demo (see the streams keys
    // below): the drift job takes event times ahead of the clock, as streams does
    drift.put("max.ahead.of.clock.ms", Long.toString(Long.MAX_VALUE));
    if (c.ctrMinImpressions() > 0) {
      drift.put("ctr.window.ms", Long.toString(c.ctrWindow().toMillis()));
      drift.put("ctr.min.impressions", Long.toString(c.ctrMinImpressions()));
      drift.put("ctr.baseline.windows", Integer.toString(DemoConfig.CTR_BASELINE_WINDOWS));
    }
    Map<String, String> trainer = new HashMap<>();
    trainer.put("architectures", c.architectures());
    trainer.put("max.epochs", Integer.toString(c.maxEpochs()));
    trainer.put("data.window.ms", Long.toString(c.retrainWindow().toMillis()));
    trainer.put("retrain.settle.ms", Long.toString(c.retrainSettle().toMillis()));
    trainer.put("min.examples", "5000");
    trainer.put("export.verify.rows", "2000");
    Map<String, String> ranker = new HashMap<>();
    ranker.put("port", Integer.toString(c.rankerPort()));
    // the demo's own traffic starts at once, readiness or not: a warm-up would only compete with it
    ranker.put("warmup.requests", "0");
    platform =
        Platform.start(
            new Platform.Settings(
                c.dir(),
                0,
                0,
                0,
                c.partitions(),
                // event time runs ahead of the wall clock here, by days in a long demo: streams
                // judges events by stream time and record timestamps only, not by the clock
                Map.of("validation.max.ahead.of.clock.ms", Long.toString(Long.MAX_VALUE)),
                drift,
                ranker,
                trainer,
                new EventClock(sim::eventTime),
                0,
                true),
            s -> status("starting " + s));
    // run() closes everything in order, the traffic before the platform, and ./feedrank demo's
    // hook waits for it: the platform's own hook would close the broker under the traffic
    platform.detachShutdownHook();
    topics = new TopicReader(platform.clientConfig());
    traffic = new Traffic(sim, platform.clientConfig());
    report.eventTime.put("from", historyStart.toString());
    report.eventTime.put("events_per_event_second", c.eventsPerEventSecond());
    return String.format(
        Locale.ROOT,
        "Kafka %s, registry %s, Redis %s, ranker http://127.0.0.1:%d; stack up in %.1f s",
        platform.stack().bootstrapServers(),
        platform.stack().registryUrl(),
        platform.stack().redisUri(),
        platform.ranker().port(),
        platform.stack().startupTime().toMillis() / 1000.0);
  }

  private String history() {
    var stats = traffic.history(c.historyEvents(), () -> cancelled);
    long bad = traffic.badRecords(c.badRecordsPerKind());
    status("history published; waiting for streams-features");
    awaitCaughtUp("streams-features to process the history");
    return String.format(
        Locale.ROOT,
        "%,d interactions (event time %s → %s) and %,d malformed records published at %,.0f events/s;"
            + " streams-features caught up",
        stats.interactions(),
        stats.firstEventTime(),
        stats.lastEventTime(),
        bad,
        stats.eventsPerSecond());
  }

  private String firstModel() {
    Instant to = traffic.eventTime().plusMillis(1);
    status("training on " + historyStart + " → " + to);
    firstRun = platform.trainer().trainOnce(new DataRange(historyStart, to), "demo: first model");
    RunRecord.ModelRun m = best(firstRun);
    if (!Promotion.DECISION_PROMOTED.equals(m.decision)) {
      throw new IllegalStateException(
          "the first model was not promoted: " + m.decision + ": " + m.decisionReason);
    }
    awaitServing(m.version, "the ranker to load " + m.version);
    return String.format(
        Locale.ROOT,
        "%s (%s) AUC %.4f vs logistic baseline %.4f on %,d held-out examples: %s; the ranker serves it",
        m.version,
        m.architecture,
        m.metrics.get("auc"),
        firstRun.baselines.get("logistic").get("auc"),
        firstRun.counts.getOrDefault("test", 0L),
        m.decision);
  }

  private String serving() {
    traffic.startBackground(c.trafficRate());
    client =
        new RankingClient(
            "http://127.0.0.1:" + platform.ranker().port(),
            traffic.simulator(),
            platform.clientConfig(),
            c.candidates(),
            c.topK(),
            c.rankRate(),
            c.seed() + 17);
    client.start();
    servingStartedNanos = System.nanoTime();
    Instant e0 = traffic.eventTime();
    platform.listen();
    long end = System.nanoTime() + c.servingTime().toNanos();
    long step = Duration.ofSeconds(tty ? 1 : 10).toNanos();
    for (long next = System.nanoTime(); System.nanoTime() < end && !cancelled; next += step) {
      pause(Duration.ofNanos(Math.max(0, Math.min(end, next) - System.nanoTime())));
      RankingClient.Snapshot s = client.snapshot();
      status(
          String.format(
              Locale.ROOT,
              "serving: %,d requests, p50 %.1f ms, event time %s",
              s.requests(),
              s.quantile(0.5),
              traffic.eventTime()));
    }
    if (c.ctrMinImpressions() > 0) {
      // a PERFORMANCE_DROP compares the production version's CTR with its own first windows
      String v = best(firstRun).version;
      await(
          "the drift job's CTR baseline of " + v,
          () -> baselineWindows(v) >= DemoConfig.CTR_BASELINE_WINDOWS ? Boolean.TRUE : null,
          () ->
              String.format(
                  Locale.ROOT,
                  "serving: %d of %d CTR windows of %d min with %d+ impressions for the baseline;"
                      + " event time %s",
                  baselineWindows(v),
                  DemoConfig.CTR_BASELINE_WINDOWS,
                  c.ctrWindow().toMinutes(),
                  c.ctrMinImpressions(),
                  traffic.eventTime()));
    }
    double acceleration =
        Duration.between(e0, traffic.eventTime()).toMillis()
            / (double) Duration.ofNanos(System.nanoTime() - servingStartedNanos).toMillis();
    report.eventTime.put("acceleration", DemoReport.round(acceleration, 0));
    RankingClient.Snapshot s = client.snapshot();
    if (s.ok() == 0) {
      // what the client saw: with no error at all (a request still in flight), "null" told nothing
      throw new IllegalStateException(
          String.format(
              Locale.ROOT,
              "no successful ranking response: %d requests ended (4xx %d, 5xx %d, transport"
                  + " errors %d), client failures %d; the last error: %s",
              s.requests(),
              s.clientErrors(),
              s.serverErrors(),
              s.transportErrors(),
              s.clientFailures(),
              s.lastError() == null ? "none (no request ended)" : s.lastError()));
    }
    long logs = topics.count(Topics.RANKING_LOGS);
    if (logs == 0) {
      throw new IllegalStateException("the ranker wrote no ranking-logs");
    }
    return String.format(
        Locale.ROOT,
        "%,d ranking requests (p50 %.1f ms, p99 %.1f ms), %,d ranking-logs; event time runs ~%.0f× wall time",
        s.requests(),
        s.quantile(0.5),
        s.quantile(0.99),
        logs,
        acceleration);
  }

  /**
   * The drift job's closed CTR windows of version {@code v} as served to the production variant
   * with enough impressions to be judged.
   */
  private long baselineWindows(String v) {
    return topics.read(Topics.ONLINE_CTR, OnlineCtrReport.class).stream()
        .filter(
            w ->
                v.equals(w.getModelVersion())
                    && "production".equals(w.getVariant())
                    && w.getImpressions() >= c.ctrMinImpressions())
        .count();
  }

  private String drift() {
    scenarioStart = traffic.eventTime();
    traffic.simulator().startScenarioAt(scenarioStart);
    report.drift.put("scenario", c.scenario().name());
    report.drift.put("strength", c.scenarioStrength());
    report.drift.put("started_at_event_time", scenarioStart.toString());
    if (c.scenario() == io.feedrank.simulator.Scenario.CATEGORY_SHIFT) {
      report.drift.put("trending_categories", traffic.simulator().trendingCategories());
    }
    command =
        await(
            "a retrain command from the drift job",
            () -> {
              List<RetrainCommand> cs = topics.read(Topics.RETRAIN_COMMANDS, RetrainCommand.class);
              return cs.isEmpty() ? null : cs.get(0);
            },
            () -> "waiting for the drift job; event time " + traffic.eventTime());
    Instant issued = command.getIssuedAt();
    if (issued.isBefore(scenarioStart)) {
      throw new IllegalStateException(
          "a retrain command was issued before the drift started (false alarm): "
              + command.getMessage());
    }
    // a PERFORMANCE_DROP judges the CTR windows, every other reason the drift windows
    Duration window =
        command.getReason() == RetrainReason.PERFORMANCE_DROP ? c.ctrWindow() : c.window();
    long windows =
        (long)
            Math.ceil(
                Duration.between(scenarioStart, issued).toMillis() / (double) window.toMillis());
    report.drift.put("command_id", command.getCommandId());
    report.drift.put("reason", command.getReason().name());
    report.drift.put("issued_at_event_time", issued.toString());
    report.drift.put("windows_to_detect", windows);
    report.drift.put(
        "detection_delay_event_minutes",
        DemoReport.round(Duration.between(scenarioStart, issued).toMillis() / 60_000.0, 1));
    report.drift.put("message", command.getMessage());
    List<Map<String, Object>> evidence = new ArrayList<>();
    for (DriftEvidence e : command.getEvidence()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("feature", e.getFeature());
      m.put("kind", e.getKind().name());
      m.put("psi", DemoReport.round(e.getPsi(), 4));
      m.put(
          "ks_statistic",
          e.getKsStatistic() == null ? null : DemoReport.round(e.getKsStatistic(), 4));
      m.put("ks_p_value", e.getKsPValue());
      m.put("chi2_p_value", e.getChi2PValue());
      m.put("consecutive_windows", e.getConsecutiveWindows());
      evidence.add(m);
    }
    report.drift.put("evidence", evidence);
    return String.format(
        Locale.ROOT,
        "%s started at %s; retrain command %s after %d window(s) of %d min: %s",
        c.scenario(),
        scenarioStart,
        command.getCommandId(),
        windows,
        window.toMinutes(),
        command.getMessage());
  }

  private String retrain() {
    // the run promotes its model before it ends, and the ranker may swap before this phase sees
    // the end: the hot swap's failed requests are those from here on
    failedBeforeRetrain = client.snapshot().failedRequests();
    String id = command.getCommandId();
    retrainRun =
        await(
            "the trainer to finish the run of command " + id,
            () ->
                platform.trainer().runs().list().stream()
                    .filter(r -> id.equals(r.commandId) && !RunRecord.RUNNING.equals(r.status))
                    .findFirst()
                    .orElse(null),
            () ->
                "trainer: "
                    + platform.trainer().runs().list().stream()
                        .filter(r -> id.equals(r.commandId))
                        .map(r -> r.id + " " + r.status)
                        .findFirst()
                        .orElse(
                            "waiting "
                                + c.retrainSettle().toMinutes()
                                + " event-time minutes after the command for the new regime's"
                                + " data (retrain.settle.ms); event time "
                                + traffic.eventTime()));
    if (!RunRecord.SUCCEEDED.equals(retrainRun.status)) {
      throw new IllegalStateException(
          "the retrain run "
              + retrainRun.id
              + " ended "
              + retrainRun.status
              + ": "
              + retrainRun.error);
    }
    RunRecord.ModelRun m = best(retrainRun);
    report.retrain.put("run_id", retrainRun.id);
    report.retrain.put("command_id", id);
    report.retrain.put("settle_event_minutes", c.retrainSettle().toMinutes());
    report.retrain.put("data_from", retrainRun.dataFrom);
    report.retrain.put("data_to", retrainRun.dataTo);
    report.retrain.put("version", m.version);
    report.retrain.put("decision", m.decision);
    report.retrain.put("reason", m.decisionReason);
    registryRecord(m.version)
        .map(ModelVersion::getComparison)
        .ifPresent(
            cmp -> {
              Map<String, Object> x = new LinkedHashMap<>();
              x.put("against_version", cmp.getAgainstVersion());
              x.put("metric", cmp.getMetric());
              x.put("candidate", DemoReport.round(cmp.getCandidateValue(), 4));
              x.put("production", DemoReport.round(cmp.getProductionValue(), 4));
              x.put("delta", DemoReport.round(cmp.getDelta(), 4));
              x.put("holdout_examples", cmp.getHoldoutExamples());
              report.retrain.put("comparison", x);
            });
    return String.format(
        Locale.ROOT, "%s (%s): %s — %s", m.version, retrainRun.id, m.decision, m.decisionReason);
  }

  private String hotSwap() {
    RunRecord.ModelRun m = best(retrainRun);
    if (!Promotion.DECISION_PROMOTED.equals(m.decision)) {
      pause(Duration.ofSeconds(3));
      return "no swap: "
          + m.version
          + " was "
          + m.decision
          + " and production stays "
          + best(firstRun).version;
    }
    awaitServing(m.version, "the ranker to swap to " + m.version);
    await(
        "feed responses from " + m.version,
        () -> m.version.equals(client.lastVersion()) ? Boolean.TRUE : null,
        () -> "client still sees " + client.lastVersion());
    long seen = client.ok();
    await(
        "500 more responses after the swap",
        () -> client.ok() >= seen + Math.min(500, (long) (c.rankRate() * 5)) ? Boolean.TRUE : null,
        () -> "responses after the swap: " + (client.ok() - seen));
    RankingClient.Snapshot s = client.snapshot();
    requireNoFailedRequests(failedBeforeRetrain, s);
    return String.format(
        Locale.ROOT,
        "the ranker serves %s; swaps seen by the client %s; no failed request since the retrain"
            + " began",
        m.version,
        s.swaps());
  }

  /**
   * Fails unless the client saw no failed request (4xx, 5xx, transport error) beyond the {@code
   * failedBefore} it had when the retrain began: a swap under traffic must fail none.
   */
  static void requireNoFailedRequests(long failedBefore, RankingClient.Snapshot now) {
    long failed = now.failedRequests() - failedBefore;
    if (failed > 0) {
      throw new IllegalStateException(
          String.format(
              Locale.ROOT,
              "%d failed requests since the retrain began, which promotes the new model (%d 4xx,"
                  + " %d 5xx, %d transport errors in the whole run); the client's last error: %s",
              failed,
              now.clientErrors(),
              now.serverErrors(),
              now.transportErrors(),
              now.lastError()));
    }
  }

  private String summarize() throws Exception {
    client.stop();
    traffic.stopBackground();
    awaitCaughtUp("streams-features to process every event");
    report.eventTime.put("to", traffic.eventTime().toString());
    long in = topics.count(Topics.INTERACTIONS);
    long examples = topics.count(Topics.TRAINING_EXAMPLES);
    List<DeadLetter> dlq = topics.read(Topics.INTERACTIONS_DLQ, DeadLetter.class);
    Map<String, Long> byCode = new TreeMap<>();
    dlq.forEach(d -> byCode.merge(d.getErrorCode(), 1L, Long::sum));
    RankingClient.Snapshot s = client.snapshot();
    long feedImpressions = s.impressionsAndClicks().values().stream().mapToLong(v -> v[0]).sum();
    report.events.put("interactions_in", in);
    report.events.put("of_which_feed_impressions", feedImpressions);
    report.events.put("malformed_sent", traffic.badSent());
    report.events.put("training_examples", examples);
    report.events.put("dead_letters", dlq.size());
    report.events.put("dead_letters_by_code", byCode);
    report.events.put("in_equals_examples_plus_dlq", in == examples + dlq.size());

    try (UnifiedJedis redis =
        RedisConnections.connect(platform.stack().redisUri(), Duration.ofSeconds(5))) {
      report.features.put("user_hashes", countKeys(redis, "fr:u:*"));
      report.features.put("item_hashes", countKeys(redis, "fr:i:*"));
    }

    for (RunRecord run : List.of(firstRun, retrainRun)) {
      RunRecord.ModelRun m = best(run);
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("version", m.version);
      x.put("architecture", m.architecture);
      x.put("run_id", run.id);
      x.put("trigger", run.trigger);
      x.put("examples", run.counts.get("examples"));
      x.put("training_examples", run.counts.get("train"));
      for (String k : List.of("auc", "logloss", "p_at_10", "ndcg_at_10")) {
        x.put(k, DemoReport.round(m.metrics.getOrDefault(k, Double.NaN), 4));
      }
      x.put("baseline_logistic_auc", DemoReport.round(run.baselines.get("logistic").get("auc"), 4));
      // its stage now, from the registry (the first model is ARCHIVED once the retrain replaces
      // it), beside the one its run decided
      x.put("stage", registryRecord(m.version).map(v -> v.getStage().name()).orElse(m.stage));
      x.put("stage_at_decision", m.stage);
      x.put("decision", m.decision);
      x.put("reason", m.decisionReason);
      report.models.add(x);
    }

    List<DriftReport> reports = topics.read(Topics.DRIFT_REPORTS, DriftReport.class);
    Map<String, Long> driftedBefore = new TreeMap<>();
    Map<String, Long> driftedAfter = new TreeMap<>();
    for (DriftReport r : reports) {
      if (r.getDrifted()) {
        (r.getWindowStart().isBefore(scenarioStart) ? driftedBefore : driftedAfter)
            .merge(r.getFeature(), 1L, Long::sum);
      }
    }
    List<RetrainCommand> commands = topics.read(Topics.RETRAIN_COMMANDS, RetrainCommand.class);
    report.drift.put("drift_reports", reports.size());
    report.drift.put("drifted_windows_before_the_shift", driftedBefore);
    report.drift.put("drifted_windows_after_the_shift", driftedAfter);
    report.drift.put("alerts", topics.count(Topics.ALERTS));
    report.drift.put(
        "retrain_commands", commands.stream().map(RetrainCommand::getCommandId).distinct().count());
    // the drift job's own count (closed windows only; impressions joined to responses by id)
    Map<String, long[]> jobCtr = new TreeMap<>();
    for (OnlineCtrReport w : topics.read(Topics.ONLINE_CTR, OnlineCtrReport.class)) {
      long[] t =
          jobCtr.computeIfAbsent(w.getModelVersion() + " " + w.getVariant(), k -> new long[2]);
      t[0] += w.getImpressions();
      t[1] += w.getClicks();
    }
    Map<String, String> jobCtrText = new LinkedHashMap<>();
    jobCtr.forEach((k, v) -> jobCtrText.put(k, ctrText(v)));
    report.drift.put("online_ctr_by_version_and_variant", jobCtrText);

    report.ranker.put("requests", s.requests());
    report.ranker.put("ok", s.ok());
    report.ranker.put("http_4xx", s.clientErrors());
    report.ranker.put("http_5xx", s.serverErrors());
    report.ranker.put("transport_errors", s.transportErrors());
    report.ranker.put("client_failures", s.clientFailures());
    report.ranker.put("impressions_not_sent", s.impressionsNotSent());
    report.ranker.put("latency_p50_ms", DemoReport.round(s.quantile(0.5), 2));
    report.ranker.put("latency_p99_ms", DemoReport.round(s.quantile(0.99), 2));
    report.ranker.put("latency_max_ms", DemoReport.round(s.quantile(1.0), 2));
    report.ranker.put("candidates_per_request", c.candidates());
    report.ranker.put("fallbacks", s.fallbacks());
    report.ranker.put("responses_by_version", s.byVersion());
    Map<String, String> ctr = new LinkedHashMap<>();
    s.impressionsAndClicks().forEach((k, v) -> ctr.put(k, ctrText(v)));
    report.ranker.put("online_ctr_by_version", ctr);
    report.ranker.put("swaps", s.swaps());
    if (s.lastError() != null) {
      report.ranker.put("last_error", s.lastError());
    }
    if (in != examples + dlq.size()) {
      throw new IllegalStateException(
          "counts do not balance: "
              + in
              + " in, "
              + examples
              + " examples + "
              + dlq.size()
              + " dead letters");
    }
    return String.format(
        Locale.ROOT,
        "%,d in = %,d training examples + %,d dead letters; %d 5xx",
        in,
        examples,
        dlq.size(),
        s.serverErrors());
  }

  // ---- helpers

  /** {impressions, clicks} as "CTR (clicks / impressions)". */
  private static String ctrText(long[] impressionsAndClicks) {
    long[] v = impressionsAndClicks;
    return String.format(
        Locale.ROOT,
        "%.4f (%,d clicks / %,d impressions)",
        v[1] / (double) Math.max(1, v[0]),
        v[1],
        v[0]);
  }

  /** On a failure: the drifted windows so far, with their statistics (best effort). */
  private void driftDiagnostics() {
    if (topics == null) {
      return;
    }
    try {
      List<String> drifted = new ArrayList<>();
      for (DriftReport r : topics.read(Topics.DRIFT_REPORTS, DriftReport.class)) {
        if (r.getDrifted()) {
          drifted.add(
              String.format(
                  Locale.ROOT,
                  "%s [%s, %s) n=%d sample=%d psi=%.3f ks=%s chi2p=%s vs %s",
                  r.getFeature(),
                  r.getWindowStart(),
                  r.getWindowEnd(),
                  r.getN(),
                  r.getSampleSize(),
                  r.getPsi(),
                  r.getKsStatistic(),
                  r.getChi2PValue(),
                  r.getReferenceVersion()));
        }
      }
      report.drift.put("drifted_windows", drifted);
    } catch (RuntimeException e) {
      report.drift.put("drifted_windows", "unreadable: " + e.getMessage());
    }
  }

  private static void deleteTree(java.nio.file.Path p) throws java.io.IOException {
    if (!java.nio.file.Files.exists(p)) {
      return;
    }
    try (var paths = java.nio.file.Files.walk(p)) {
      for (java.nio.file.Path x : paths.sorted(Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.delete(x);
      }
    }
  }

  private static long countKeys(UnifiedJedis redis, String pattern) {
    long n = 0;
    String cursor = ScanParams.SCAN_POINTER_START;
    ScanParams p = new ScanParams().match(pattern).count(1000);
    do {
      ScanResult<String> r = redis.scan(cursor, p);
      n += r.getResult().size();
      cursor = r.getCursor();
    } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
    return n;
  }

  private Optional<ModelVersion> registryRecord(String version) {
    return platform.trainer().registry().versions(modelName()).stream()
        .filter(v -> v.getVersion().equals(version))
        .findFirst();
  }

  private String modelName() {
    return "feed-ranker";
  }

  /** The model the run registered (the best network by holdout AUC). */
  private static RunRecord.ModelRun best(RunRecord run) {
    return run.registeredModel()
        .orElseThrow(() -> new IllegalStateException("run " + run.id + " registered no model"));
  }

  private void awaitServing(String version, String what) {
    await(
        what,
        () -> {
          ServingModel m = platform.ranker().slots().current(ModelSlots.Variant.PRODUCTION);
          return m != null && m.version().equals(version) ? Boolean.TRUE : null;
        },
        () -> "waiting for the ranker to load " + version);
  }

  private void awaitCaughtUp(String what) {
    long[] lag = {-1};
    await(
        what,
        () -> (lag[0] = platform.featuresLag()) == 0 ? Boolean.TRUE : null,
        () -> String.format(Locale.ROOT, "streams-features lag %,d records", lag[0]));
  }

  /** Polls {@code probe} until it returns non-null, within the configured timeout. */
  private <T> T await(String what, Supplier<T> probe, Supplier<String> progress) {
    long deadline = System.nanoTime() + c.timeout().toNanos();
    long nextStatus = 0;
    while (true) {
      if (cancelled) {
        throw new IllegalStateException("cancelled while waiting for " + what);
      }
      T v = probe.get();
      if (v != null) {
        return v;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "timed out after "
                + c.timeout().toSeconds()
                + " s waiting for "
                + what
                + clientError());
      }
      if (System.nanoTime() > nextStatus) {
        status(progress.get());
        nextStatus = System.nanoTime() + Duration.ofSeconds(tty ? 1 : 10).toNanos();
      }
      pause(Duration.ofMillis(500));
    }
  }

  /**
   * The feed client's last error, if any, for a phase that timed out: its traffic is what the
   * serving, drift (CTR) and swap phases wait on, and a client failing every request leaves them
   * waiting for something else.
   */
  private String clientError() {
    String e = client == null ? null : client.snapshot().lastError();
    return e == null ? "" : "; the feed client's last error: " + e;
  }

  private void pause(Duration d) {
    try {
      Thread.sleep(Math.max(0, d.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cancelled = true;
    }
  }

  private synchronized void line(String s) {
    if (tty) {
      out.print("\r\033[K");
    }
    out.println(s);
    out.flush();
  }

  private synchronized void status(String s) {
    if (tty) {
      out.print("\r\033[K      " + s);
    } else {
      out.println("      " + s);
    }
    out.flush();
  }

  private void stopEverything() {
    if (client != null) {
      client.close();
    }
    if (traffic != null) {
      traffic.close();
    }
    if (platform != null) {
      platform.close();
    }
  }
}
