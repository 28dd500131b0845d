package io.feedrank.ranker.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.feedrank.events.ModelStage;
import io.feedrank.events.ModelVersion;
import io.feedrank.features.FeatureSchema;
import io.feedrank.features.vector.ModelInputs;
import io.feedrank.models.ArtifactStore;
import io.feedrank.models.Checksums;
import io.feedrank.models.FileArtifactStore;
import io.feedrank.ranker.TestModelsAccess;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading and choosing models with real ONNX Runtime sessions and a real artifact directory. */
class ModelLoadingTest {
  @TempDir Path dir;

  FileArtifactStore store() {
    return new FileArtifactStore(dir);
  }

  ModelLoader loader() {
    return loader(store());
  }

  ModelLoader loader(ArtifactStore store) {
    return new ModelLoader(store, 1, 1000, Duration.ofMinutes(1), Duration.ofSeconds(5), 1L << 30);
  }

  ModelVersion.Builder record(String version, ModelStage stage, long updated) {
    return ModelVersion.newBuilder()
        .setModelName("m")
        .setVersion(version)
        .setStage(stage)
        .setArchitecture("mlp")
        .setCreatedAt(Instant.ofEpochMilli(updated))
        .setUpdatedAt(Instant.ofEpochMilli(updated))
        .setArtifactUri("file:/nowhere")
        .setArtifactSha256("")
        .setFeatureSchemaVersion(FeatureSchema.VERSION);
  }

  ModelVersion stored(String version, ModelStage stage, long updated, byte[] onnx)
      throws Exception {
    URI uri = store().put("run-" + version, "model.onnx", onnx);
    return record(version, stage, updated)
        .setArtifactUri(uri.toString())
        .setArtifactSha256(Checksums.sha256(onnx))
        .build();
  }

  ModelLoader.Refusal refusal(ModelVersion mv) {
    return catchThrowableOfType(ModelLoader.RefusedException.class, () -> loader().load(mv))
        .reason();
  }

  @Test
  void refusesWhatCannotServeAndSaysWhy() throws Exception {
    byte[] good = TestModelsAccess.mlp(1);
    assertThat(
            refusal(
                ModelVersion.newBuilder(stored("a", ModelStage.PRODUCTION, 1, good))
                    .setFeatureSchemaVersion(FeatureSchema.VERSION + 1)
                    .build()))
        .isEqualTo(ModelLoader.Refusal.INCOMPATIBLE);
    assertThat(
            refusal(
                record("b", ModelStage.PRODUCTION, 1)
                    .setArtifactUri(dir.resolve("gone").toUri().toString())
                    .build()))
        .isEqualTo(ModelLoader.Refusal.MISSING);
    assertThat(
            refusal(
                ModelVersion.newBuilder(stored("c", ModelStage.PRODUCTION, 1, good))
                    .setArtifactSha256("00".repeat(32))
                    .build()))
        .isEqualTo(ModelLoader.Refusal.CHECKSUM);
    assertThat(refusal(stored("d", ModelStage.PRODUCTION, 1, "junk".getBytes())))
        .isEqualTo(ModelLoader.Refusal.INVALID);
    // a tower is not a full model: it has no 'score' output
    assertThat(refusal(stored("e", ModelStage.PRODUCTION, 1, TestModelsAccess.userTower(2))))
        .isEqualTo(ModelLoader.Refusal.INVALID);
    // a graph that cannot take what its metadata says it takes fails the smoke test's two rows
    assertThat(
            refusal(
                stored(
                    "g", ModelStage.PRODUCTION, 1, TestModelsAccess.logisticClaimingPerRequest(3))))
        .isEqualTo(ModelLoader.Refusal.INVALID);
    ServingModel ok = loader().load(stored("f", ModelStage.PRODUCTION, 1, good));
    assertThat(ok.version()).isEqualTo("f");
    ok.retire();
    assertThat(ok.closed()).isTrue();
  }

  @Test
  void loadsATwoTowerModelFromItsTowerArtifactsAndRefusesOneWithoutThem() throws Exception {
    byte[] user = TestModelsAccess.userTower(3);
    byte[] item = TestModelsAccess.itemTower(3);
    Map<String, String> a = new HashMap<>();
    a.put(ModelInputs.ROLE_USER_TOWER, store().put("tt", "user.onnx", user).toString());
    a.put(ModelInputs.ROLE_USER_TOWER + ModelInputs.SHA256_SUFFIX, Checksums.sha256(user));
    ModelVersion partial =
        ModelVersion.newBuilder(
                stored("t1", ModelStage.PRODUCTION, 1, TestModelsAccess.fullTwoTower(3)))
            .setArchitecture("two_tower")
            .setArtifacts(new HashMap<>(a))
            .build();
    assertThat(refusal(partial)).isEqualTo(ModelLoader.Refusal.MISSING);
    a.put(ModelInputs.ROLE_ITEM_TOWER, store().put("tt", "item.onnx", item).toString());
    a.put(ModelInputs.ROLE_ITEM_TOWER + ModelInputs.SHA256_SUFFIX, Checksums.sha256(item));
    ServingModel m = loader().load(ModelVersion.newBuilder(partial).setArtifacts(a).build());
    assertThat(m.architecture()).isEqualTo("two_tower");
    m.retire();
  }

  /**
   * With an A/B share of 0 (the default) no user is served by a staging model: it is not loaded,
   * holding an ONNX session and memory for nothing, nor reported as serving.
   */
  @Test
  void aStagingModelIsNotLoadedWhenTheShareIsZero() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    ModelSlots slots = new ModelSlots(0);
    List<String> read = new java.util.concurrent.CopyOnWriteArrayList<>();
    ArtifactStore counting =
        failing(store(), uri -> read.add(uri.getPath().replaceAll(".*/run-([^/]+)/.*", "$1")));
    ModelDirector d = new ModelDirector("m", loader(counting), slots, metrics);
    ModelVersion p1 = stored("p1", ModelStage.PRODUCTION, 10, TestModelsAccess.mlp(1));
    ModelVersion s1 = stored("s1", ModelStage.STAGING, 20, TestModelsAccess.mlp(2));
    d.onRegistry(List.of(p1, s1));
    d.onRegistry(List.of(p1, s1));
    assertThat(read).containsExactly("p1");
    // the records of versions the registry no longer holds are not kept, the serving one's is
    assertThat(d.recordsHeld()).isEqualTo(2); // p1, s1
    d.onRegistry(List.of(stored("p2", ModelStage.PRODUCTION, 30, TestModelsAccess.mlp(3))));
    assertThat(d.recordsHeld()).isEqualTo(1); // p2: p1 replaced, s1 gone
    d.onRegistry(List.of());
    assertThat(d.recordsHeld()).isEqualTo(1); // p2 serves on, its record lost by the registry
    assertThat(slots.current(ModelSlots.Variant.PRODUCTION).version()).isEqualTo("p2");
    assertThat(slots.current(ModelSlots.Variant.STAGING)).isNull();
    assertThat(metrics.find("ranker.model.info").tag("variant", "staging").gauge()).isNull();
    slots.clear();
  }

  @Test
  void theNewestProductionServesStagingComesAndGoesAndARefusedModelIsTriedOnce() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    ModelSlots slots = new ModelSlots(0.5);
    ModelDirector d = new ModelDirector("m", loader(), slots, metrics);
    // exported at 0 before any refusal, so that an alert sees the first one as an increase
    assertThat(refusalCounts(metrics))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "incompatible", 0.0,
                "missing", 0.0,
                "checksum", 0.0,
                "invalid", 0.0,
                "too_large", 0.0,
                "error", 0.0));
    ModelVersion p1 = stored("p1", ModelStage.PRODUCTION, 10, TestModelsAccess.mlp(1));
    ModelVersion p2 = stored("p2", ModelStage.PRODUCTION, 20, TestModelsAccess.mlp(2));
    ModelVersion other =
        ModelVersion.newBuilder(stored("x", ModelStage.PRODUCTION, 30, TestModelsAccess.mlp(3)))
            .setModelName("another-model")
            .build();
    d.onRegistry(List.of(p1, p2, other));
    assertThat(slots.current(ModelSlots.Variant.PRODUCTION).version()).isEqualTo("p2");

    ModelVersion s1 = stored("s1", ModelStage.STAGING, 40, TestModelsAccess.mlp(4));
    d.onRegistry(List.of(p1, p2, s1));
    assertThat(slots.current(ModelSlots.Variant.STAGING).version()).isEqualTo("s1");
    ServingModel staged = slots.current(ModelSlots.Variant.STAGING);
    d.onRegistry(
        List.of(p1, p2, ModelVersion.newBuilder(s1).setStage(ModelStage.REJECTED).build()));
    assertThat(slots.current(ModelSlots.Variant.STAGING)).isNull();
    assertThat(staged.closed()).isTrue();

    ModelVersion bad = stored("p3", ModelStage.PRODUCTION, 50, "junk".getBytes());
    d.onRegistry(List.of(p1, p2, bad));
    d.onRegistry(List.of(p1, p2, bad));
    assertThat(slots.current(ModelSlots.Variant.PRODUCTION).version()).isEqualTo("p2");
    assertThat(refusalCounts(metrics))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "incompatible", 0.0,
                "missing", 0.0,
                "checksum", 0.0,
                "invalid", 1.0,
                "too_large", 0.0,
                "error", 0.0));
    // the registry losing every record does not unload production
    d.onRegistry(List.of());
    assertThat(slots.current(ModelSlots.Variant.PRODUCTION).version()).isEqualTo("p2");
    slots.clear();
  }

  /**
   * An artifact is refused by its size before a byte of it is read: at the limit it loads, one byte
   * over it is refused. A 3 GiB artifact (a sparse file) is refused too, where reading it used to
   * throw OutOfMemoryError ("Required array size too large") out of the loader and end the registry
   * listener's thread.
   */
  @Test
  void anArtifactOverTheSizeLimitIsRefusedBeforeItIsRead() throws Exception {
    byte[] good = TestModelsAccess.mlp(1);
    ModelVersion mv = stored("a", ModelStage.PRODUCTION, 1, good);
    ModelLoader atLimit =
        new ModelLoader(
            store(), 1, 1000, Duration.ofMinutes(1), Duration.ofSeconds(5), good.length);
    ServingModel m = atLimit.load(mv);
    assertThat(m.version()).isEqualTo("a");
    m.retire();
    ModelLoader under =
        new ModelLoader(
            store(), 1, 1000, Duration.ofMinutes(1), Duration.ofSeconds(5), good.length - 1);
    ModelLoader.RefusedException e =
        catchThrowableOfType(ModelLoader.RefusedException.class, () -> under.load(mv));
    assertThat(e.reason()).isEqualTo(ModelLoader.Refusal.TOO_LARGE);
    assertThat(e.getMessage())
        .contains(good.length + " bytes")
        .contains("model.artifact.max.bytes (" + (good.length - 1) + ")");

    Path huge = Files.createDirectories(dir.resolve("huge")).resolve("model.onnx");
    long threeGib = 3L << 30;
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
      f.setLength(threeGib); // sparse: no disk blocks written
    }
    ModelVersion big =
        record("b", ModelStage.PRODUCTION, 2)
            .setArtifactUri(huge.toUri().toString())
            .setArtifactSha256("00".repeat(32))
            .build();
    e = catchThrowableOfType(ModelLoader.RefusedException.class, () -> loader().load(big));
    assertThat(e.reason()).isEqualTo(ModelLoader.Refusal.TOO_LARGE);
    assertThat(e.getMessage()).contains(threeGib + " bytes");
  }

  /**
   * A registry record may name any file: one out of the artifact store (by its path, by {@code ..}
   * or through a link in the store) is refused as not in the store ({@code missing}), even a valid
   * model whose checksum matches, and production stays. The ranker used to load it, and to read
   * whatever file a record named.
   */
  @Test
  void anArtifactOutOfTheStoreIsRefusedAndTheServingModelStays() throws Exception {
    Path root = dir.resolve("store");
    FileArtifactStore files = new FileArtifactStore(root);
    byte[] good = TestModelsAccess.mlp(1);
    URI inStore = files.put("run-p1", "model.onnx", good);
    Path outside = Files.write(dir.resolve("outside.onnx"), TestModelsAccess.mlp(2));
    String sha = Checksums.sha256(Files.readAllBytes(outside));
    Path link =
        Files.createSymbolicLink(
            Files.createDirectories(root.resolve("run-p4")).resolve("model.onnx"), outside);
    String dotDot = inStore.toString().replace("run-p1/model.onnx", "../outside.onnx");
    ModelLoader loader =
        new ModelLoader(files, 1, 1000, Duration.ofMinutes(1), Duration.ofSeconds(5), 1L << 30);
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    ModelSlots slots = new ModelSlots(0);
    ModelDirector d = new ModelDirector("m", loader, slots, metrics);
    ModelVersion p1 =
        record("p1", ModelStage.PRODUCTION, 1)
            .setArtifactUri(inStore.toString())
            .setArtifactSha256(Checksums.sha256(good))
            .build();
    d.onRegistry(List.of(p1));
    List<String> uris =
        List.of(
            outside.toUri().toString(),
            dotDot,
            link.toUri().toString(),
            "file:///proc/self/pagemap");
    for (int i = 0; i < uris.size(); i++) {
      ModelVersion elsewhere =
          record("p" + (i + 2), ModelStage.PRODUCTION, 2 + i)
              .setArtifactUri(uris.get(i))
              .setArtifactSha256(sha)
              .build();
      ModelLoader.RefusedException e =
          catchThrowableOfType(ModelLoader.RefusedException.class, () -> loader.load(elsewhere));
      assertThat(e.reason()).as(uris.get(i)).isEqualTo(ModelLoader.Refusal.MISSING);
      assertThat(e.getMessage()).as(uris.get(i)).contains("not in the store");
      d.onRegistry(List.of(p1, elsewhere));
      assertThat(slots.current(ModelSlots.Variant.PRODUCTION).version()).isEqualTo("p1");
    }
    assertThat(refusalCounts(metrics)).containsEntry("missing", (double) uris.size());
    slots.clear();
  }

  /**
   * A file may hold more than its size says: {@code /proc/self/pagemap} says 0 bytes and holds 8
   * for every page of the address space. In a store whose root is /proc/self it is refused as
   * {@code too_large} once more than the limit (1 MiB here) has been read, not read on.
   */
  @Test
  void anArtifactHoldingMoreThanItsSizeSaysIsRefusedOnceTheLimitIsRead() throws Exception {
    Path pagemap = Path.of("/proc/self/pagemap");
    assertThat(Files.size(pagemap)).as("what stat says of it").isZero();
    int mib = 1 << 20;
    ModelLoader loader =
        new ModelLoader(
            new FileArtifactStore(Path.of("/proc/self")),
            1,
            1000,
            Duration.ofMinutes(1),
            Duration.ofSeconds(5),
            mib);
    ModelVersion mv =
        record("a", ModelStage.PRODUCTION, 1)
            .setArtifactUri(pagemap.toUri().toString())
            .setArtifactSha256("00".repeat(32))
            .build();
    ModelLoader.RefusedException e =
        catchThrowableOfType(ModelLoader.RefusedException.class, () -> loader.load(mv));
    assertThat(e.reason()).isEqualTo(ModelLoader.Refusal.TOO_LARGE);
    assertThat(e.getMessage())
        .contains("holds more than " + mib + " bytes (its size said 0)")
        .contains("model.artifact.max.bytes (" + mib + ")");
  }

  /**
   * The limit is on what a model holds: a two-tower's towers together. At their sum it loads; one
   * byte under it, the item tower, read second, is refused by its size, each tower being under the
   * limit alone (a model used to hold twice the limit).
   */
  @Test
  void aTwoTowerModelsTowersShareTheSizeLimit() throws Exception {
    byte[] user = TestModelsAccess.userTower(3);
    byte[] item = TestModelsAccess.itemTower(3);
    Map<String, String> a = new HashMap<>();
    a.put(ModelInputs.ROLE_USER_TOWER, store().put("tt", "user.onnx", user).toString());
    a.put(ModelInputs.ROLE_USER_TOWER + ModelInputs.SHA256_SUFFIX, Checksums.sha256(user));
    a.put(ModelInputs.ROLE_ITEM_TOWER, store().put("tt", "item.onnx", item).toString());
    a.put(ModelInputs.ROLE_ITEM_TOWER + ModelInputs.SHA256_SUFFIX, Checksums.sha256(item));
    ModelVersion mv =
        record("t1", ModelStage.PRODUCTION, 1).setArchitecture("two_tower").setArtifacts(a).build();
    int sum = user.length + item.length;
    ServingModel m =
        new ModelLoader(store(), 1, 1000, Duration.ofMinutes(1), Duration.ofSeconds(5), sum)
            .load(mv);
    assertThat(m.architecture()).isEqualTo("two_tower");
    m.retire();
    assertThat(Math.max(user.length, item.length)).isLessThan(sum - 1);
    ModelLoader under =
        new ModelLoader(store(), 1, 1000, Duration.ofMinutes(1), Duration.ofSeconds(5), sum - 1);
    ModelLoader.RefusedException e =
        catchThrowableOfType(ModelLoader.RefusedException.class, () -> under.load(mv));
    assertThat(e.reason()).isEqualTo(ModelLoader.Refusal.TOO_LARGE);
    assertThat(e.getMessage())
        .contains("item.onnx is " + item.length + " bytes")
        .contains("with the " + user.length + " bytes of the model's other artifacts")
        .contains("model.artifact.max.bytes (" + (sum - 1) + ")");
  }

  /**
   * Every version ever registered is held for the ranker's life (the registry is compacted without
   * tombstones), each record with the reference profile the drift job reads and the ranker never
   * does: the director holds them without it, and leaves the records it is given as they were.
   */
  @Test
  void theDirectorHoldsNoReferenceProfile() throws Exception {
    ModelDirector d =
        new ModelDirector("m", loader(), new ModelSlots(0), new SimpleMeterRegistry());
    List<ModelVersion> given = new java.util.ArrayList<>();
    for (int v = 0; v < 50; v++) {
      given.add(
          record("v" + v, v % 2 == 0 ? ModelStage.ARCHIVED : ModelStage.REJECTED, v)
              .setReferenceProfile(profile(300_000))
              .build());
    }
    d.onRegistry(given);
    assertThat(d.heldRecords()).hasSize(50);
    assertThat(d.heldRecords())
        .filteredOn(r -> r.getReferenceProfile() != null)
        .extracting(ModelVersion::getVersion)
        .as("versions held with their reference profile")
        .isEmpty();
    // what the ranker reads of a record is held as it was
    assertThat(d.heldRecords())
        .extracting(
            r -> r.getVersion() + " " + r.getStage() + " " + r.getUpdatedAt().toEpochMilli())
        .containsExactlyInAnyOrderElementsOf(
            given.stream()
                .map(
                    r ->
                        r.getVersion() + " " + r.getStage() + " " + r.getUpdatedAt().toEpochMilli())
                .toList());
    assertThat(given)
        .filteredOn(r -> r.getReferenceProfile() == null)
        .extracting(ModelVersion::getVersion)
        .as("records given whose reference profile went")
        .isEmpty();
  }

  /** A reference profile of one numeric feature whose sketch is {@code sketchBytes} long. */
  static io.feedrank.events.ReferenceProfile profile(int sketchBytes) {
    return io.feedrank.events.ReferenceProfile.newBuilder()
        .setN(1000)
        .setFeatures(
            List.of(
                io.feedrank.events.FeatureProfile.newBuilder()
                    .setName("user.ctr_7d")
                    .setKind(io.feedrank.events.DriftKind.NUMERIC)
                    .setSketch(java.nio.ByteBuffer.wrap(new byte[sketchBytes]))
                    .build()))
        .build();
  }

  /**
   * An artifact store is an interface: an object-store client throws unchecked exceptions (the AWS
   * SDK's are). Whatever the loader throws, the director refuses that version once, counts it as
   * {@code error}, keeps the serving model and returns normally to its caller, the registry
   * listener.
   */
  @Test
  void anUnexpectedErrorWhileLoadingRefusesTheVersionAndTheServingModelStays() throws Exception {
    ModelVersion p1 = stored("p1", ModelStage.PRODUCTION, 10, TestModelsAccess.mlp(1));
    java.util.concurrent.atomic.AtomicInteger reads =
        new java.util.concurrent.atomic.AtomicInteger();
    FileArtifactStore files = store();
    ArtifactStore flaky =
        new ArtifactStore() {
          @Override
          public URI put(String runId, String name, byte[] bytes) throws java.io.IOException {
            return files.put(runId, name, bytes);
          }

          @Override
          public byte[] get(URI uri) throws java.io.IOException {
            return get(uri, Integer.MAX_VALUE - 8);
          }

          @Override
          public byte[] get(URI uri, int maxBytes) throws java.io.IOException {
            if (uri.getPath().contains("run-p2")) {
              reads.incrementAndGet();
              throw new java.io.UncheckedIOException(
                  new java.io.IOException("connection reset by the object store"));
            }
            return files.get(uri, maxBytes);
          }

          @Override
          public Path localCopy(URI uri) throws java.io.IOException {
            return files.localCopy(uri);
          }
        };
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    ModelSlots slots = new ModelSlots(0);
    ModelDirector d = new ModelDirector("m", loader(flaky), slots, metrics);
    d.onRegistry(List.of(p1));
    ModelVersion p2 = stored("p2", ModelStage.PRODUCTION, 20, TestModelsAccess.mlp(2));
    d.onRegistry(List.of(p1, p2));
    d.onRegistry(List.of(p1, p2));
    assertThat(slots.current(ModelSlots.Variant.PRODUCTION).version()).isEqualTo("p1");
    assertThat(reads).as("the failed version is tried once").hasValue(1);
    assertThat(refusalCounts(metrics)).containsEntry("error", 1.0).containsEntry("missing", 0.0);
    slots.clear();
  }

  /**
   * The artifact store fails to read an artifact (an I/O error) twice: the version is tried again 5
   * s after the first failure and 10 s after the second, not on every state the listener hands over
   * in between, and then serves.
   */
  @Test
  void anArtifactTheStoreCouldNotReadIsTriedAgainWithABackoff() throws Exception {
    FileArtifactStore files = store();
    AtomicInteger failuresLeft = new AtomicInteger(2);
    AtomicInteger reads = new AtomicInteger();
    ArtifactStore blinking =
        failing(
            files,
            uri -> {
              reads.incrementAndGet();
              if (failuresLeft.getAndDecrement() > 0) {
                throw new java.io.IOException("503 from the object store");
              }
            });
    long[] now = {0};
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    ModelSlots slots = new ModelSlots(0);
    ModelDirector d = new ModelDirector("m", loader(blinking), slots, metrics, () -> now[0]);
    ModelVersion p1 = stored("p1", ModelStage.PRODUCTION, 10, TestModelsAccess.mlp(1));
    d.onRegistry(List.of(p1));
    assertThat(slots.current(ModelSlots.Variant.PRODUCTION)).isNull();
    now[0] += ModelDirector.FIRST_RETRY_NANOS - 1;
    d.onRegistry(List.of(p1));
    assertThat(reads).as("not before the backoff").hasValue(1);
    now[0] += 1;
    d.onRegistry(List.of(p1)); // fails again: the next wait is twice as long
    now[0] += 2 * ModelDirector.FIRST_RETRY_NANOS - 1;
    d.onRegistry(List.of(p1));
    assertThat(reads).hasValue(2);
    assertThat(slots.current(ModelSlots.Variant.PRODUCTION)).isNull();
    now[0] += 1;
    d.onRegistry(List.of(p1));
    assertThat(reads).hasValue(3);
    assertThat(slots.current(ModelSlots.Variant.PRODUCTION).version()).isEqualTo("p1");
    assertThat(refusalCounts(metrics)).containsEntry("missing", 2.0);
    slots.clear();
  }

  /**
   * A refusal for a corrupt artifact is not retried while the record stays as it was, however long;
   * once the artifact is mended and the version promoted again (a new {@code updated_at}), it
   * loads.
   */
  @Test
  void aRefusedVersionIsTriedAgainWhenItsRecordChanges() throws Exception {
    long[] now = {0};
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    ModelSlots slots = new ModelSlots(0);
    ModelDirector d = new ModelDirector("m", loader(), slots, metrics, () -> now[0]);
    byte[] good = TestModelsAccess.mlp(1);
    ModelVersion mended = stored("p1", ModelStage.PRODUCTION, 10, good);
    ModelVersion corrupt =
        ModelVersion.newBuilder(mended)
            .setArtifactSha256(Checksums.sha256("other".getBytes()))
            .build();
    d.onRegistry(List.of(corrupt));
    now[0] += TimeUnit.HOURS.toNanos(1);
    d.onRegistry(List.of(corrupt));
    assertThat(refusalCounts(metrics)).containsEntry("checksum", 1.0);
    assertThat(slots.current(ModelSlots.Variant.PRODUCTION)).isNull();
    // the same bytes and checksum again, but re-promoted: the refusal was for the older record
    d.onRegistry(
        List.of(ModelVersion.newBuilder(corrupt).setUpdatedAt(Instant.ofEpochMilli(20)).build()));
    assertThat(refusalCounts(metrics)).containsEntry("checksum", 2.0);
    d.onRegistry(
        List.of(ModelVersion.newBuilder(mended).setUpdatedAt(Instant.ofEpochMilli(30)).build()));
    assertThat(slots.current(ModelSlots.Variant.PRODUCTION).version()).isEqualTo("p1");
    slots.clear();
  }

  /**
   * The staging model is withdrawn (REJECTED) and its successor is refused: the A/B share ends
   * rather than go on serving the withdrawn version.
   */
  @Test
  void aWithdrawnStagingModelStopsServingWhenItsSuccessorIsRefused() throws Exception {
    ModelSlots slots = new ModelSlots(0.5);
    ModelDirector d = new ModelDirector("m", loader(), slots, new SimpleMeterRegistry());
    ModelVersion p1 = stored("p1", ModelStage.PRODUCTION, 10, TestModelsAccess.mlp(1));
    ModelVersion s8 = stored("s8", ModelStage.STAGING, 20, TestModelsAccess.mlp(2));
    d.onRegistry(List.of(p1, s8));
    ServingModel staged = slots.current(ModelSlots.Variant.STAGING);
    assertThat(staged.version()).isEqualTo("s8");
    ModelVersion s9 = stored("s9", ModelStage.STAGING, 30, "junk".getBytes());
    // s8 still STAGING beside a refused s9: it keeps its share
    d.onRegistry(List.of(p1, s8, s9));
    assertThat(slots.current(ModelSlots.Variant.STAGING).version()).isEqualTo("s8");
    // another model's record of the same version name is not this model's s8 withdrawn
    ModelVersion othersS8 =
        ModelVersion.newBuilder(s8)
            .setModelName("another-model")
            .setStage(ModelStage.REJECTED)
            .build();
    d.onRegistry(List.of(p1, s8, s9, othersS8));
    assertThat(slots.current(ModelSlots.Variant.STAGING).version()).isEqualTo("s8");
    d.onRegistry(
        List.of(p1, ModelVersion.newBuilder(s8).setStage(ModelStage.REJECTED).build(), s9));
    assertThat(slots.current(ModelSlots.Variant.STAGING)).isNull();
    assertThat(staged.closed()).isTrue();
    assertThat(slots.current(ModelSlots.Variant.PRODUCTION).version()).isEqualTo("p1");
    // s9, refused, is the registry's STAGING version: its share's users are assigned to it and
    // served production, and their leases say so
    long user = 0;
    while (!ModelSlots.inStagingShare(user, ModelSlots.salt("m", "s9"), 0.5)) {
      user++;
    }
    try (ModelSlots.Lease l = slots.lease(user)) {
      assertThat(l.assigned()).isEqualTo(ModelSlots.Variant.STAGING);
      assertThat(l.model().version()).isEqualTo("p1");
    }
    d.onRegistry(List.of(p1)); // no STAGING version any more: nobody is assigned to one
    try (ModelSlots.Lease l = slots.lease(user)) {
      assertThat(l.assigned()).isEqualTo(ModelSlots.Variant.PRODUCTION);
    }
    slots.clear();
  }

  interface ReadCheck {
    void check(URI uri) throws java.io.IOException;
  }

  /** {@code files}, with {@code check} run before each read (it may throw). */
  static ArtifactStore failing(FileArtifactStore files, ReadCheck check) {
    return new ArtifactStore() {
      @Override
      public URI put(String runId, String name, byte[] bytes) throws java.io.IOException {
        return files.put(runId, name, bytes);
      }

      @Override
      public byte[] get(URI uri) throws java.io.IOException {
        return get(uri, Integer.MAX_VALUE - 8);
      }

      @Override
      public byte[] get(URI uri, int maxBytes) throws java.io.IOException {
        check.check(uri);
        return files.get(uri, maxBytes);
      }

      @Override
      public Path localCopy(URI uri) throws java.io.IOException {
        return files.localCopy(uri);
      }
    };
  }

  /** {@code ranker.model.load.failures} by its reason tag. */
  static Map<String, Double> refusalCounts(SimpleMeterRegistry metrics) {
    Map<String, Double> out = new HashMap<>();
    metrics
        .find("ranker.model.load.failures")
        .counters()
        .forEach(c -> out.put(c.getId().getTag("reason"), c.count()));
    return out;
  }

  /**
   * DESIGN §6: the old session is closed, so reloads do not grow native memory. 50 swaps through
   * the director (the path a registry record takes) of a model of about 7.7 MB of weights: after 10
   * swaps (allocator arenas settle), the next 40 add less than 20 models' worth to the process's
   * resident memory outside the Java heap. Sessions left open would add 40 models' worth.
   */
  @Test
  void swappingModelsDoesNotGrowNativeMemory() throws Exception {
    byte[] onnx = TestModelsAccess.largeMlp(5, 30_000);
    long modelBytes = 2L * 30_000 * 32 * Float.BYTES;
    URI uri = store().put("large", "model.onnx", onnx);
    String sha = Checksums.sha256(onnx);
    ModelSlots slots = new ModelSlots(0);
    ModelDirector d = new ModelDirector("m", loader(), slots, new SimpleMeterRegistry());
    long before = 0;
    for (int v = 1; v <= 50; v++) {
      d.onRegistry(
          List.of(
              record("v" + v, ModelStage.PRODUCTION, v)
                  .setArtifactUri(uri.toString())
                  .setArtifactSha256(sha)
                  .build()));
      assertThat(slots.current(ModelSlots.Variant.PRODUCTION).version()).isEqualTo("v" + v);
      if (v == 10) {
        before = residentOutsideHeap();
      }
    }
    long grown = residentOutsideHeap() - before;
    slots.clear();
    assertThat(grown)
        .as("resident bytes outside the heap added by 40 swaps of a %d-byte model", modelBytes)
        // half of what 40 open sessions add; the rest of the JVM moves this figure too (once 85 MB,
        // 11 models' worth, with other test classes' threads still winding down in it)
        .isLessThan(20 * modelBytes);
  }

  /** VmRSS minus the heap's committed bytes, after a collection. */
  static long residentOutsideHeap() throws Exception {
    System.gc();
    long rssKb = 0;
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        rssKb = Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    assertThat(rssKb).as("VmRSS in /proc/self/status").isPositive();
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
    return rssKb * 1024 - heap;
  }
}
