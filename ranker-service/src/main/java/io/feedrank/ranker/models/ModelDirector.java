package io.feedrank.ranker.models;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides which models serve from the registry's current state (the latest record per key of the
 * compacted {@code model-registry} topic): the newest PRODUCTION version of the configured model
 * name serves production, the newest STAGING version the A/B share. A model that cannot be loaded
 * is refused (logged, counted by reason) and the serving one stays, whatever the loader threw; the
 * registry going quiet or losing records never unloads production.
 *
 * <p>A refusal holds until the record changes (a new stage or {@code updated_at}, another artifact
 * or checksum): a version re-promoted after its artifact was mended is tried again. An artifact the
 * store could not read (an I/O error) is tried again by itself too, 5 s after the failure, doubling
 * up to a minute, each time the registry's state is handed over (the listener hands it over every
 * few seconds). A staging model whose record is no longer STAGING stops serving even when its
 * successor is refused: the A/B share does not go on with a version the registry has withdrawn.
 */
public final class ModelDirector {
  private static final Logger log = LoggerFactory.getLogger(ModelDirector.class);

  private final String modelName;
  private final ModelLoader loader;
  private final ModelSlots slots;
  private final Counter swaps;
  private final Map<ModelLoader.Refusal, Counter> failures =
      new EnumMap<>(ModelLoader.Refusal.class);
  private final MultiGauge info;
  private final MultiGauge created;
  private final MultiGauge auc;
  private final Map<String, ModelVersion> records = new HashMap<>();
  private final Map<String, Refused> refused = new HashMap<>();
  private final LongSupplier nanoClock;

  /** The STAGING version last left unloaded for a share of 0, so that it is logged once. */
  private String unservedStaging;

  /** A refused record: never tried again while it is unchanged, or not before {@code retryAt}. */
  private record Refused(boolean permanent, long retryAt, long backoffNanos) {}

  static final long FIRST_RETRY_NANOS = TimeUnit.SECONDS.toNanos(5);
  static final long MAX_RETRY_NANOS = TimeUnit.MINUTES.toNanos(1);

  public ModelDirector(
      String modelName, ModelLoader loader, ModelSlots slots, MeterRegistry metrics) {
    this(modelName, loader, slots, metrics, System::nanoTime);
  }

  ModelDirector(
      String modelName,
      ModelLoader loader,
      ModelSlots slots,
      MeterRegistry metrics,
      LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
    this.modelName = modelName;
    this.loader = loader;
    this.slots = slots;
    this.swaps = Counter.builder("ranker.model.swaps").register(metrics);
    // every reason from the start, at 0: Prometheus's increase() starts from a series' first
    // scraped sample, so a counter first exported at 1 would hide the first refusal from alerts
    for (ModelLoader.Refusal r : ModelLoader.Refusal.values()) {
      failures.put(
          r,
          Counter.builder("ranker.model.load.failures")
              .description("model versions refused (the serving model stays), by reason")
              .tag("reason", r.name().toLowerCase(Locale.ROOT))
              .register(metrics));
    }
    this.info =
        MultiGauge.builder("ranker.model.info")
            .description("1 per serving model, tagged with its version")
            .register(metrics);
    this.created =
        MultiGauge.builder("ranker.model.created")
            .description("when each serving model was registered (its age is time() minus this)")
            .baseUnit("seconds")
            .register(metrics);
    this.auc =
        MultiGauge.builder("ranker.model.auc")
            .description("holdout AUC the trainer recorded for each serving model")
            .register(metrics);
  }

  /** Brings the slots in line with the registry's latest records. */
  public synchronized void onRegistry(Collection<ModelVersion> latest) {
    // this model's records only: another model's version of the same name is not this one's
    latest.stream()
        .filter(v -> modelName.equals(v.getModelName()))
        .forEach(v -> records.put(v.getVersion(), kept(v)));
    apply(ModelSlots.Variant.PRODUCTION, newest(latest, ModelStage.PRODUCTION));
    ModelVersion staging = newest(latest, ModelStage.STAGING);
    if (staging != null && !slots.servesStaging()) {
      // no user would be served by it: not loaded (an ONNX session, a two-tower's item vectors)
      if (!staging.getVersion().toString().equals(unservedStaging)) {
        unservedStaging = staging.getVersion().toString();
        log.info(
            "ranker: STAGING {}@{} not loaded: ab.staging.share is 0",
            staging.getModelName(),
            unservedStaging);
      }
    } else if (staging == null) {
      if (slots.current(ModelSlots.Variant.STAGING) != null) {
        log.info("ranker: no STAGING model in the registry any more; A/B share ends");
      }
      slots.install(ModelSlots.Variant.STAGING, null); // and its assignment, loaded or not
    } else {
      // its users are assigned to it from now, served production while it loads or if refused
      slots.expectStaging(modelName, staging.getVersion().toString());
      apply(ModelSlots.Variant.STAGING, staging);
    }
    endWithdrawnStaging(staging);
    // what the registry no longer holds will not be asked for again
    Set<String> current = new HashSet<>();
    latest.forEach(v -> current.add(identity(v)));
    refused.keySet().retainAll(current);
    // nor kept: the records of versions the registry still holds, and of the serving ones (whose
    // record the registry may have lost)
    Set<String> kept = new HashSet<>();
    latest.forEach(v -> kept.add(v.getVersion()));
    for (ModelSlots.Variant v : ModelSlots.Variant.values()) {
      ServingModel m = slots.current(v);
      if (m != null) {
        kept.add(m.version());
      }
    }
    records.keySet().retainAll(kept);
    publishInfo();
  }

  /** How many versions' records are held (a test's view). */
  synchronized int recordsHeld() {
    return records.size();
  }

  /** The records held (a test's view). */
  synchronized List<ModelVersion> heldRecords() {
    return List.copyOf(records.values());
  }

  /**
   * What the ranker keeps of a registry record: all of it but its reference profile (the drift
   * job's, KLL sketches and bins of every feature, some 300 KB a version), which nothing in the
   * ranker reads. The registry topic is compacted without tombstones, so every version ever
   * registered is held, by the listener and here, for the ranker's life. {@code v} itself when it
   * has no profile, else a copy without it ({@code v} is not changed).
   */
  static ModelVersion kept(ModelVersion v) {
    if (v.getReferenceProfile() == null) {
      return v;
    }
    return ModelVersion.newBuilder(v).clearReferenceProfile().build();
  }

  /**
   * Ends the A/B share when the staging model's own record has left STAGING (its latest record: one
   * the registry lost keeps its last stage, as production is never unloaded for a lost record); the
   * users of the {@code newest} STAGING version's share, if there is one, stay assigned to it.
   */
  private void endWithdrawnStaging(ModelVersion newest) {
    ServingModel s = slots.current(ModelSlots.Variant.STAGING);
    ModelVersion r = s == null ? null : records.get(s.version());
    if (r != null && r.getStage() != ModelStage.STAGING) {
      log.info(
          "ranker: staging model {} is {} in the registry now; A/B share ends",
          s.version(),
          r.getStage());
      slots.install(ModelSlots.Variant.STAGING, null);
      if (newest != null) {
        slots.expectStaging(modelName, newest.getVersion().toString()); // refused: not served
      }
    }
  }

  /** What a refusal depends on: a change to any of it makes the record worth trying again. */
  private static String identity(ModelVersion v) {
    return v.getModelName()
        + "@"
        + v.getVersion()
        + " "
        + v.getStage()
        + " "
        + v.getUpdatedAt().toEpochMilli()
        + " "
        + v.getArtifactUri()
        + "#"
        + v.getArtifactSha256()
        + " "
        + new java.util.TreeMap<>(v.getArtifacts())
        + " "
        + v.getFeatureSchemaVersion();
  }

  private ModelVersion newest(Collection<ModelVersion> latest, ModelStage stage) {
    return latest.stream()
        .filter(m -> modelName.equals(m.getModelName()) && m.getStage() == stage)
        .max(
            Comparator.comparing(ModelVersion::getUpdatedAt)
                .thenComparing(m -> m.getVersion().toString()))
        .orElse(null);
  }

  private void apply(ModelSlots.Variant variant, ModelVersion wanted) {
    if (wanted == null) {
      return;
    }
    ServingModel current = slots.current(variant);
    if (current != null && current.version().equals(wanted.getVersion())) {
      return;
    }
    String key = identity(wanted);
    Refused before = refused.get(key);
    long now = nanoClock.getAsLong();
    if (before != null && (before.permanent() || now - before.retryAt() < 0)) {
      return;
    }
    String id = wanted.getModelName() + "@" + wanted.getVersion();
    try {
      ServingModel m = loader.load(wanted);
      refused.remove(key);
      slots.install(variant, m);
      swaps.increment();
      log.info(
          "ranker: serving {}@{} ({}) as {}, replacing {}",
          m.name(),
          m.version(),
          m.architecture(),
          variant.label(),
          current == null ? "nothing" : current.version());
    } catch (ModelLoader.RefusedException e) {
      String again;
      if (e.transientFailure()) {
        long backoff =
            before == null
                ? FIRST_RETRY_NANOS
                : Math.min(2 * before.backoffNanos(), MAX_RETRY_NANOS);
        refused.put(key, new Refused(false, now + backoff, backoff));
        again = "trying again in " + TimeUnit.NANOSECONDS.toSeconds(backoff) + " s";
      } else {
        refused.put(key, new Refused(true, 0, 0));
        again = "not tried again until its record changes";
      }
      failures.get(e.reason()).increment();
      log.warn(
          "ranker: refused {} for {} ({}): {}; {}; still serving {}",
          id,
          variant.label(),
          e.reason(),
          e.getMessage(),
          again,
          current == null ? "no model" : current.version());
    } catch (RuntimeException | LinkageError e) {
      // not one of the loader's refusals: a bug or a native library that would not load. Refused
      // the same way (counted, until the record changes), so that the registry listener goes on
      refused.put(key, new Refused(true, 0, 0));
      failures.get(ModelLoader.Refusal.ERROR).increment();
      log.error(
          "ranker: refused {} for {} after an unexpected error; still serving {}",
          id,
          variant.label(),
          current == null ? "no model" : current.version(),
          e);
    }
  }

  private void publishInfo() {
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    List<MultiGauge.Row<?>> ages = new ArrayList<>();
    List<MultiGauge.Row<?>> aucs = new ArrayList<>();
    for (ModelSlots.Variant v : ModelSlots.Variant.values()) {
      ServingModel m = slots.current(v);
      if (m != null) {
        rows.add(
            MultiGauge.Row.of(
                Tags.of(
                    "variant", v.label(),
                    "version", m.version(),
                    "architecture", m.architecture()),
                1));
        ModelVersion r = records.get(m.version());
        if (r != null) {
          Tags t = Tags.of("variant", v.label(), "version", m.version());
          ages.add(MultiGauge.Row.of(t, r.getCreatedAt().toEpochMilli() / 1000.0));
          Double a = r.getMetrics().get("auc");
          if (a != null) {
            aucs.add(MultiGauge.Row.of(t, a));
          }
        }
      }
    }
    info.register(rows, true);
    created.register(ages, true);
    auc.register(aucs, true);
  }
}
