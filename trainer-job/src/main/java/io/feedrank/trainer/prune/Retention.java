package io.feedrank.trainer.prune;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.trainer.runs.FileRunStore;
import io.feedrank.trainer.runs.RunRecord;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Which files of the artifact store a prune keeps and which it deletes, as a pure function of the
 * registry's state, the runs' records and the files (their paths and ages); {@link ArtifactPruner}
 * gathers those and deletes.
 *
 * <p>Kept versions: every one in PRODUCTION, STAGING or CANDIDATE (not decided yet); the version a
 * {@code registry rollback} goes back to (the {@code parent_version} of a production version),
 * whatever its stage; and the {@code keepArchived} newest ARCHIVED ones by {@code updated_at}
 * (rollback targets an operator may promote). A file is kept when a kept version names it ({@code
 * artifact_uri} or a URI of {@code artifacts}), when it is a run's record ({@code run.json}, a few
 * KB: the run history stays), when it is the reference profile of a run with a kept version, when
 * it was modified after {@code cutoff}, when its run is in flight (RUNNING, its record saved after
 * {@code inFlightSince}: a run writes its artifacts before it registers them), or when its run
 * registered versions this registry does not hold (another model's run sharing the store), or when
 * it is not in a run's directory (the store's root, a directory without {@code run.json}: not the
 * trainer's). Every other file is deleted: the artifacts of REJECTED versions, of older ARCHIVED
 * ones, and of runs that FAILED, were CANCELLED or REFUSED.
 */
public final class Retention {
  /**
   * How long after its record's last save a RUNNING run is taken to be in flight, whatever the
   * grace period (a longer one extends it). A run saves its record at its start, after reading its
   * examples and after each network it trains, so a live run's record is no older than its longest
   * step, one network's training (some 200 s for 3 epochs of a million examples, BENCHMARKS.md); a
   * run cut short (a crash, a killed pod) leaves its record RUNNING for ever, and its files then go
   * once it is this old. A bound, not a liveness check: no process holds anything for its run.
   */
  public static final Duration RUN_IN_FLIGHT = Duration.ofHours(24);

  /** The reference profile a run writes next to its model files (TrainingJob). */
  public static final String REFERENCE_PROFILE = "reference_profile.avro";

  /**
   * A file of the store: its real path; the run whose directory it is in ({@code <root>/<runId>/}
   * holding a {@code run.json}), null for any other file, which is never deleted; its age.
   */
  public record StoredFile(Path path, String runId, Instant modified, long bytes) {}

  /** What a run's record says: its status, when it was last saved, the versions it registered. */
  public record RunState(String id, String status, Instant savedAt, Set<String> versions) {}

  /** Every file, kept (with why) or deleted; the versions kept. */
  public record Plan(
      Set<String> keptVersions, Map<StoredFile, String> keep, List<StoredFile> delete) {
    public long deleteBytes() {
      return delete.stream().mapToLong(StoredFile::bytes).sum();
    }
  }

  private Retention() {}

  /** The versions whose artifacts are kept (see the class's doc). */
  public static Set<String> keptVersions(List<ModelVersion> versions, int keepArchived) {
    if (keepArchived < 0) {
      throw new IllegalArgumentException("keep archived must be ≥ 0, was " + keepArchived);
    }
    Set<String> keep = new HashSet<>();
    for (ModelVersion v : versions) {
      ModelStage s = v.getStage();
      if (s == ModelStage.PRODUCTION || s == ModelStage.STAGING || s == ModelStage.CANDIDATE) {
        keep.add(v.getVersion());
      }
      if (s == ModelStage.PRODUCTION && v.getParentVersion() != null) {
        keep.add(v.getParentVersion()); // what registry rollback goes back to
      }
    }
    versions.stream()
        .filter(v -> v.getStage() == ModelStage.ARCHIVED)
        .sorted(
            Comparator.comparing(ModelVersion::getUpdatedAt)
                .thenComparing(ModelVersion::getVersion)
                .reversed())
        .limit(keepArchived)
        .forEach(v -> keep.add(v.getVersion()));
    return keep;
  }

  /** The artifact URIs a version names: its model and every artifact of its map (not checksums). */
  public static List<URI> uris(ModelVersion v) {
    List<URI> out = new ArrayList<>();
    out.add(URI.create(v.getArtifactUri()));
    v.getArtifacts()
        .forEach(
            (role, uri) -> {
              if (!role.endsWith(ModelInputs.SHA256_SUFFIX)) {
                out.add(URI.create(uri));
              }
            });
    return out;
  }

  /**
   * @param resolve the path of a URI as the files' paths are spelled (real paths), or null when it
   *     names no file
   * @param cutoff files modified after it are kept
   * @param inFlightSince the files of RUNNING runs whose record was saved after it are kept
   */
  public static Plan plan(
      List<ModelVersion> versions,
      List<RunState> runs,
      List<StoredFile> files,
      int keepArchived,
      Instant cutoff,
      Instant inFlightSince,
      Function<URI, Path> resolve) {
    Set<String> kept = keptVersions(versions, keepArchived);
    Set<String> known = new HashSet<>();
    Set<String> runsWithKept = new HashSet<>();
    Map<Path, String> referenced = new HashMap<>();
    for (ModelVersion v : versions) {
      known.add(v.getVersion());
      if (kept.contains(v.getVersion())) {
        runsWithKept.add(v.getRunId());
        for (URI u : uris(v)) {
          Path p = resolve.apply(u);
          if (p != null) {
            referenced.put(p, "named by " + v.getStage() + " " + v.getVersion());
          }
        }
      }
    }
    Map<String, String> runsLeftAlone = new HashMap<>();
    for (RunState r : runs) {
      if (RunRecord.RUNNING.equals(r.status()) && r.savedAt().isAfter(inFlightSince)) {
        runsLeftAlone.put(r.id(), "run in flight");
      } else if (!r.versions().isEmpty() && !known.containsAll(r.versions())) {
        runsLeftAlone.put(r.id(), "run registered versions not in this model's registry");
      }
    }
    Map<StoredFile, String> keep = new LinkedHashMap<>();
    List<StoredFile> delete = new ArrayList<>();
    for (StoredFile f : files) {
      String name = f.path().getFileName().toString();
      String why;
      if (referenced.containsKey(f.path())) {
        why = referenced.get(f.path());
      } else if (f.runId() == null) {
        why = "not in a run's directory";
      } else if (name.equals(FileRunStore.RUN_FILE)) {
        why = "run record";
      } else if (f.modified().isAfter(cutoff)) {
        why = "younger than the grace period";
      } else if (runsLeftAlone.containsKey(f.runId())) {
        why = runsLeftAlone.get(f.runId());
      } else if (name.equals(REFERENCE_PROFILE) && runsWithKept.contains(f.runId())) {
        why = "reference profile of a run with a kept version";
      } else {
        delete.add(f);
        continue;
      }
      keep.put(f, why);
    }
    return new Plan(kept, keep, delete);
  }
}
