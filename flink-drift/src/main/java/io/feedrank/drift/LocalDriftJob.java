package io.feedrank.drift;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drift job on a MiniCluster this object owns ({@code ./feedrank drift}), so that a stop ends
 * both: {@link #stop} takes a savepoint (or cancels), then closes the cluster and waits for it,
 * which deletes what it put in {@code java.io.tmpdir} (its RPC jar, its working directory). With
 * {@code env.execute} the cluster was the environment's, shut down asynchronously when the job
 * ended, and a JVM stopped by a signal exited first, leaving ~21 MB behind at every run.
 */
public final class LocalDriftJob implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalDriftJob.class);

  private final MiniCluster cluster;
  private final JobID job;
  private final Path uploads;

  private LocalDriftJob(MiniCluster cluster, JobID job, Path uploads) {
    this.cluster = cluster;
    this.job = job;
    this.uploads = uploads;
  }

  /**
   * Returns {@code c} when the job can run with it in this JVM, on a MiniCluster beside the rest of
   * feedrank ({@link #start}: {@code ./feedrank drift}; {@code ./feedrank up} and the demo run it
   * on a local environment of their own). Refuses {@code delivery.guarantee=exactly-once}: the
   * transactional writer of flink-connector-kafka 5.0.0-2.2 calls a method of its kafka-clients
   * (4.2) that the 4.3 of this class path no longer has, and the job failed at its first checkpoint
   * with {@code NoSuchMethodError: TransactionalRequestResult.await()}. The job jar carries 4.2's
   * classes: exactly once is for the job on a Flink cluster.
   *
   * @throws IllegalArgumentException naming the key, when the job would fail that way
   */
  public static DriftConfig inThisJvm(DriftConfig c) {
    if (c.exactlyOnce()) {
      throw new IllegalArgumentException(
          "delivery.guarantee=exactly-once needs the job jar on a Flink cluster (README, Drift:"
              + " Delivery): in this JVM, with kafka-clients 4.3, the Kafka connector's"
              + " transactional writer fails at the first checkpoint (NoSuchMethodError:"
              + " TransactionalRequestResult.await()). Here the job runs at-least-once, the"
              + " default");
    }
    return c;
  }

  /**
   * Starts a MiniCluster configured by {@code flink} (with {@link LocalCheckpoints#configure}, from
   * the snapshot it names) and submits the job of {@code c} to it.
   *
   * @throws IllegalArgumentException when {@code c} cannot run in this JVM ({@link #inThisJvm})
   */
  public static LocalDriftJob start(Configuration flink, DriftConfig c, String name)
      throws Exception {
    inThisJvm(c);
    Configuration conf = new Configuration(flink);
    if (!conf.contains(RestOptions.BIND_PORT)) {
      conf.set(RestOptions.BIND_PORT, "0"); // not Flink's 8081
    }
    // the REST endpoint's upload directory, by default java.io.tmpdir/flink-web-upload, which it
    // never deletes: one of this run's own, deleted on close, or here by a start that fails after
    // making it (the job's build included)
    Path uploads = null;
    MiniCluster cluster = null;
    try {
      if (!conf.contains(WebOptions.UPLOAD_DIR)) {
        uploads = Files.createTempDirectory("feedrank-drift-web-");
        conf.set(WebOptions.UPLOAD_DIR, uploads.toString());
      }
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
      DriftMain.build(env, c);
      StreamGraph graph = env.getStreamGraph();
      graph.setJobName(name);
      graph.setSavepointRestoreSettings(SavepointRestoreSettings.fromConfiguration(conf));
      cluster =
          new MiniCluster(
              new MiniClusterConfiguration.Builder()
                  .setConfiguration(conf)
                  .setNumTaskManagers(1)
                  .setNumSlotsPerTaskManager(c.parallelism())
                  .build());
      cluster.start();
      JobID id = cluster.submitJob(graph).get().getJobID();
      return new LocalDriftJob(cluster, id, uploads);
    } catch (Exception | Error e) {
      if (cluster != null) {
        cluster.close();
      }
      deleteTree(uploads);
      throw e;
    }
  }

  /** Completes when the job ends: stopped, cancelled or failed. */
  public CompletableFuture<JobResult> result() {
    return cluster.requestJobResult(job);
  }

  /**
   * Stops the job with a savepoint into the configured savepoint directory (sinks flushed, the open
   * windows kept in it, nothing to replay), or, when that does not complete within {@code timeout},
   * cancels it (its last retained checkpoint is then what the next start restores, replaying what
   * came after it); then closes the cluster.
   *
   * @return the savepoint written, if the stop took one
   */
  public Optional<String> stop(Duration timeout) {
    Optional<String> savepoint = Optional.empty();
    try {
      savepoint =
          Optional.of(
              cluster
                  .stopWithSavepoint(job, null, false, SavepointFormatType.CANONICAL)
                  .get(timeout.toMillis(), TimeUnit.MILLISECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn(
          "drift: stop with a savepoint failed ({}); cancelling, the next start restores the last"
              + " retained checkpoint",
          e.toString());
      try {
        cluster.cancelJob(job).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      } catch (Exception ce) {
        log.warn("drift: cancelling the job: {}", ce.toString());
      }
    }
    try {
      result().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("drift: waiting for the job to end: {}", e.toString());
    }
    close();
    return savepoint;
  }

  /** Closes the cluster and waits for it (cancelling the job, if it still runs). */
  @Override
  public void close() {
    try {
      cluster.close();
    } catch (Exception e) {
      log.warn("drift: closing the MiniCluster: {}", e.toString());
    }
    deleteTree(uploads);
  }

  private static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      log.warn("drift: deleting {}: {}", dir, e.toString());
    }
  }
}
