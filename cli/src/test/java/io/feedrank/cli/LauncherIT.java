package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./feedrank} launcher script, run as it is, with this checkout's Maven wrapper and root
 * pom, on a stand-in checkout: a parent inheriting the root pom (its plugin versions, and the JUnit
 * and AssertJ test dependencies every module has), a {@code lib} module and a {@code cli} module
 * whose {@code io.feedrank.cli.Main} uses it and prints its class path. The real reactor takes
 * minutes to build; the stand-in a few seconds per Maven run, and what the launcher does with it is
 * the same: build {@code cli} and what it needs, write the class path file, run Main.
 */
class LauncherIT {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final String BUILDING = "feedrank: building";

  @TempDir Path checkout;

  record Run(int exit, List<String> out, String err) {}

  /**
   * The class path file holds cli's runtime class path, no test-scope jar (it held every scope: the
   * plugin reads {@code includeScope}, not {@code mdep.includeScope}), and the launcher builds
   * again when the file would be wrong: after a change to itself or to {@code .mvn}, and when a jar
   * it names is gone (java failed with NoClassDefFoundError after {@code rm -rf lib/target}).
   */
  @Test
  void writesTheRuntimeClassPathAndBuildsAgainWhenItsBuildChangedOrAJarIsGone() throws Exception {
    standIn(checkout);
    Path classPathFile = checkout.resolve("cli/target/feedrank.classpath");
    Path stamp = checkout.resolve("target/.feedrank-built");
    // what cli's runtime needs, and no more: lib's jar and slf4j-api (a compile dependency without
    // dependencies of its own), the one this test runs with, as the root pom pins one version
    List<String> runtime =
        List.of(
            checkout.resolve("lib/target/standin-lib-0.1.0-SNAPSHOT.jar").toString(),
            onThisClassPath("slf4j-api-"));

    Run first = launch();
    assertThat(first.exit()).as(first.err()).isZero();
    assertThat(first.err()).contains(BUILDING);
    List<String> written = Arrays.asList(Files.readString(classPathFile).trim().split(":"));
    assertThat(written).containsExactlyInAnyOrderElementsOf(runtime);
    assertThat(first.out().get(0)).isEqualTo("lib");
    assertThat(first.out().get(1).split(":"))
        .containsExactly(
            Stream.concat(
                    Stream.of(checkout.resolve("cli/target/classes").toString()), written.stream())
                .toArray(String[]::new));

    Run again = launch();
    assertThat(again.err()).doesNotContain(BUILDING);
    assertThat(again.out()).isEqualTo(first.out());

    for (String changed : List.of("feedrank", ".mvn/maven.config")) {
      Files.setLastModifiedTime(
          checkout.resolve(changed),
          FileTime.fromMillis(Files.getLastModifiedTime(stamp).toMillis() + 1_000));
      Run after = launch();
      assertThat(after.exit()).as(after.err()).isZero();
      assertThat(after.err()).as("after a change to " + changed).contains(BUILDING);
    }

    deleteTree(checkout.resolve("lib/target"));
    Run withoutLib = launch();
    assertThat(withoutLib.err()).contains(BUILDING).doesNotContain("NoClassDefFoundError");
    assertThat(withoutLib.exit()).isZero();
    assertThat(withoutLib.out()).isEqualTo(first.out());
  }

  /**
   * A source saved while the launcher's build runs, after Maven compiled its module, is built by
   * the next launch: the stamp the launcher compares sources with was touched after the build,
   * newer than that source, and every later launch ran the old classes. The wrapper here saves
   * Lib.java once, right after the first build.
   *
   * <p>Then two launches at once that both find the build stale (./feedrank up --stack-only and
   * ./feedrank streams after a git pull) build once: the second waits for the first's build, then
   * finds it done. Both ran a Maven reactor on the same target/ folders, one packaging a jar the
   * other read. (One test for both: each stand-in build is a Maven run of its own.)
   */
  @Test
  void buildsAgainASourceSavedWhileItBuiltAndOnceForTwoLaunchesAtOnce() throws Exception {
    standIn(checkout);
    write(
        checkout.resolve("saved-during-build"),
        "package standin; public final class Lib { public static String name() { return"
            + " \"saved\"; } }");
    wrapMaven(
        "s=\"$d/saved-during-build\"; if [ -f \"$s\" ]; then"
            + " cat \"$s\" > \"$d/lib/src/main/java/standin/Lib.java\"; rm \"$s\"; fi");

    Run first = launch();
    assertThat(first.exit()).as(first.err()).isZero();
    assertThat(first.out().get(0)).isEqualTo("lib");
    Run next = launch();
    assertThat(next.exit()).as(next.err()).isZero();
    assertThat(next.err()).as("the launch after Lib.java was saved").contains(BUILDING);
    assertThat(next.out().get(0)).isEqualTo("saved");
    assertThat(launch().err()).doesNotContain(BUILDING);

    Files.delete(checkout.resolve("target/.feedrank-built"));
    Files.delete(checkout.resolve("mvnw.calls"));
    ExecutorService launchers = Executors.newFixedThreadPool(2);
    try {
      for (Future<Run> f :
          launchers.invokeAll(List.<Callable<Run>>of(this::launch, this::launch))) {
        Run run = f.get();
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).isEqualTo(next.out());
      }
    } finally {
      launchers.shutdownNow();
    }
    assertThat(Files.readAllLines(checkout.resolve("mvnw.calls"))).as("Maven runs").hasSize(1);
  }

  /**
   * Puts a wrapper in place of the stand-in's {@code mvnw}: it notes each run in {@code mvnw.calls}
   * (a line each), runs the real wrapper and, once that succeeded, {@code then} (a shell command;
   * {@code $d} is the checkout). The real one moves to {@code real/}, with the properties it reads
   * beside it, keeping its name, from which it names the Maven command it runs.
   */
  void wrapMaven(String then) throws Exception {
    String properties = ".mvn/wrapper/maven-wrapper.properties";
    Files.createDirectories(checkout.resolve("real").resolve(properties).getParent());
    Files.copy(checkout.resolve(properties), checkout.resolve("real").resolve(properties));
    Files.move(checkout.resolve("mvnw"), checkout.resolve("real/mvnw"));
    executable(
        checkout.resolve("mvnw"),
        "d=\"$(dirname \"$0\")\"; echo run >> \"$d/mvnw.calls\"\n"
            + "\"$d/real/mvnw\" \"$@\" || exit\n"
            + then);
  }

  /**
   * {@code ./feedrank ranker --help} (-h, -V, --version, anywhere among its options) prints a page
   * of text on the default options: the ranker's fixed heap, pre-touched, took 1.5 GB to print it.
   * The ranker itself keeps its options.
   */
  @Test
  void theRankersHelpAndVersionRunWithoutItsHeap() throws Exception {
    ExitOnOutOfMemoryTest.launcherCheckout(checkout);
    List<String> heap = List.of("-Xms1536m", "-Xmx1536m", "-XX:+AlwaysPreTouch");
    assertThat(ExitOnOutOfMemoryTest.javaArgs(checkout, Map.of(), "ranker", "--port", "9000"))
        .containsAll(heap);
    for (List<String> help :
        List.of(
            List.of("ranker", "--help"),
            List.of("ranker", "-h"),
            List.of("ranker", "--port", "9000", "-V"),
            List.of("ranker", "--version"))) {
      assertThat(ExitOnOutOfMemoryTest.javaArgs(checkout, Map.of(), help.toArray(String[]::new)))
          .as(help.toString())
          .doesNotContainAnyElementsOf(heap)
          .containsSequence(help);
    }
  }

  /**
   * The launcher refuses a java other than 17 or 21 before it builds or runs anything (a JDK 25
   * built and ran, and the trainer failed on its first profile: datasketches-memory 3.0.2 accepts
   * only Java 8, 11, 17 and 21), reading {@code java -version} as JDKs print it. The java here
   * prints a version line and does nothing else; the wrapper here only says it was run, which is
   * how far an accepted java gets.
   */
  @Test
  void refusesAJavaOtherThan17Or21BeforeBuilding(@TempDir Path jdk) throws Exception {
    Files.copy(
        ROOT.resolve("feedrank"), checkout.resolve("feedrank"), StandardCopyOption.COPY_ATTRIBUTES);
    executable(checkout.resolve("mvnw"), "echo 'stand-in build' >&2; exit 1");
    for (String refused :
        List.of(
            "openjdk version \"25.0.3\" 2026-04-21 LTS",
            "openjdk version \"22\" 2024-03-19",
            "openjdk version \"18.0.2\" 2022-07-19",
            "openjdk version \"11.0.21\" 2023-10-17",
            "java version \"1.8.0_392\"")) {
      Run run = withJava(jdk, refused);
      assertThat(run.exit()).as(refused).isEqualTo(2);
      assertThat(run.err())
          .startsWith("feedrank: needs a JDK 17 or 21, found " + jdk.resolve("bin/java"))
          .contains(refused, "Unsupported JDK Major Version")
          .doesNotContain("stand-in build");
    }
    Run none = run(checkout, Map.of("JAVA_HOME", jdk.resolve("none").toString()), "./feedrank");
    assertThat(none.exit()).isEqualTo(2);
    assertThat(none.err()).contains("needs a JDK 17 or 21").doesNotContain("stand-in build");

    for (String accepted :
        List.of(
            "openjdk version \"17.0.15\" 2025-04-15",
            "openjdk version \"21\" 2023-09-19",
            "openjdk version \"21.0.5\" 2024-10-15 LTS")) {
      Run run = withJava(jdk, accepted);
      assertThat(run.err()).as(accepted).doesNotContain("needs a JDK").contains("stand-in build");
    }
  }

  /**
   * The build refuses them too (the root pom's enforcer rule), its message saying why. The enforcer
   * reads the {@code java.version} of Maven's JVM, given here as a JDK would report it.
   */
  @Test
  void theBuildRefusesAJavaOtherThan17Or21() throws Exception {
    standIn(checkout);
    Map<String, Boolean> isRefused =
        Map.of("25.0.3", true, "22", true, "18.0.2", true, "21.0.5", false);
    for (Map.Entry<String, Boolean> v : isRefused.entrySet()) {
      Run run =
          run(
              checkout,
              Map.of("JAVA_HOME", System.getProperty("java.home")),
              "./mvnw",
              "-q",
              "-N",
              "validate",
              "-Dspotless.check.skip=true",
              "-Djava.version=" + v.getKey());
      String output = String.join("\n", run.out()) + run.err();
      if (v.getValue()) {
        assertThat(run.exit()).as(v.getKey()).isNotZero();
        assertThat(output).as(v.getKey()).contains("feedrank needs JDK 17 or 21: datasketches");
      } else {
        assertThat(run.exit()).as(v.getKey() + ": " + output).isZero();
      }
    }
  }

  /** Runs the launcher of {@code checkout} with a JDK whose java prints {@code versionLine}. */
  Run withJava(Path jdk, String versionLine) throws Exception {
    executable(
        jdk.resolve("bin/java"),
        "if [ \"$1\" = -version ]; then echo '"
            + versionLine.replace("'", "'\\''")
            + "' >&2; echo 'OpenJDK Runtime Environment' >&2; exit 0; fi; exit 3");
    return run(checkout, Map.of("JAVA_HOME", jdk.toString()), "./feedrank");
  }

  static void executable(Path file, String script) throws Exception {
    write(file, "#!/bin/sh\n" + script + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  /** The checkout's launcher and wrapper, and a stand-in reactor that inherits its root pom. */
  static void standIn(Path dir) throws Exception {
    for (String file : List.of("feedrank", "mvnw")) {
      Files.copy(ROOT.resolve(file), dir.resolve(file), StandardCopyOption.COPY_ATTRIBUTES);
    }
    try (Stream<Path> mvn = Files.walk(ROOT.resolve(".mvn"))) {
      for (Path p : mvn.toList()) {
        Path to = dir.resolve(ROOT.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to);
        }
      }
    }
    String parent =
        "<parent><groupId>io.feedrank</groupId><artifactId>%s</artifactId>"
            + "<version>0.1.0-SNAPSHOT</version><relativePath>%s</relativePath></parent>";
    write(
        dir.resolve("pom.xml"),
        pom(
            parent.formatted("feedrank-parent", dir.relativize(ROOT.resolve("pom.xml")))
                + "<artifactId>standin</artifactId><packaging>pom</packaging>"
                + "<modules><module>lib</module><module>cli</module></modules>"));
    write(
        dir.resolve("lib/pom.xml"),
        pom(parent.formatted("standin", "../pom.xml") + "<artifactId>standin-lib</artifactId>"));
    write(
        dir.resolve("lib/src/main/java/standin/Lib.java"),
        "package standin; public final class Lib { public static String name() { return \"lib\";"
            + " } }");
    write(
        dir.resolve("cli/pom.xml"),
        pom(
            parent.formatted("standin", "../pom.xml")
                + "<artifactId>standin-cli</artifactId><dependencies>"
                + "<dependency><groupId>io.feedrank</groupId><artifactId>standin-lib</artifactId>"
                + "<version>0.1.0-SNAPSHOT</version></dependency>"
                + "<dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId>"
                + "</dependency></dependencies>"));
    write(
        dir.resolve("cli/src/main/java/io/feedrank/cli/Main.java"),
        "package io.feedrank.cli; public final class Main { public static void main(String[] a) {"
            + " System.out.println(standin.Lib.name());"
            + " System.out.println(System.getProperty(\"java.class.path\")); } }");
  }

  static String pom(String body) {
    return "<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><modelVersion>4.0.0</modelVersion>"
        + body
        + "</project>";
  }

  static void write(Path file, String text) throws Exception {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
  }

  /** The jar of this JVM's class path whose file name starts with {@code prefix}. */
  static String onThisClassPath(String prefix) {
    return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(p -> Path.of(p).getFileName().toString().startsWith(prefix))
        .findFirst()
        .orElseThrow();
  }

  /** Runs {@code ./feedrank} in the stand-in checkout with this JVM's JDK, Maven offline. */
  Run launch() throws Exception {
    return run(checkout, Map.of("JAVA_HOME", System.getProperty("java.home")), "./feedrank");
  }

  /** Runs {@code command} in {@code dir}, Maven offline, with {@code env} over this environment. */
  static Run run(Path dir, Map<String, String> env, String... command) throws Exception {
    Path out = Files.createTempFile(dir.getParent(), "launcher-", ".out");
    Path err = Files.createTempFile(dir.getParent(), "launcher-", ".err");
    ProcessBuilder b =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    Map<String, String> e = b.environment();
    for (String inherited :
        List.of("MAVEN_ARGS", "MAVEN_OPTS", "MAVEN_BASEDIR", "FEEDRANK_JAVA_OPTS", "JAVA_HOME")) {
      e.remove(inherited);
    }
    e.put("MAVEN_ARGS", "-o");
    e.putAll(env);
    Process p = b.start();
    // a build of the stand-in takes seconds; minutes on two cores other builds share
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      throw new AssertionError(command[0] + " ran over 10 minutes: " + Files.readString(err));
    }
    try {
      return new Run(
          p.exitValue(),
          Files.readAllLines(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.delete(out);
      Files.delete(err);
    }
  }

  static void deleteTree(Path dir) throws Exception {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
