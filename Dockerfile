# syntax=docker/dockerfile:1
# One multi-stage Dockerfile for every feedrank image (docker-compose.yml builds each target):
#   app   — the cli distribution; the service's command picks the component
#           (streams | ranker | train --listen | simulate ...)
#   flink — the official Flink image with the drift job's shaded jar in usrlib (application mode)
# .dockerignore keeps build output (target/), .git and local state out of the build context.

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
# One reactor run, as ./feedrank builds: cli, flink-drift and the modules they need are packaged,
# then each module's runtime dependencies are copied to its target/dependency. The sibling
# modules (0.1.0-SNAPSHOT, never installed) resolve to the jars this same run packaged, so cli's
# copy holds their jars as well as the third-party ones. A second Maven run without -am could
# not resolve them. Only cli's copy is kept: it is the application's whole runtime class path,
# the cli jar aside.
# The trainer records the commit it was built from in every run and model (trainer-job's pom asks
# git, and .git is not in the context): FEEDRANK_COMMIT=$(git rev-parse HEAD) docker compose build
ARG FEEDRANK_COMMIT=unknown
RUN ./mvnw -q -B -Dmaven.test.skip=true -Dspotless.check.skip=true -pl cli,flink-drift -am \
      -Dfeedrank.build.commit="${FEEDRANK_COMMIT}" \
      package dependency:copy-dependencies -DincludeScope=runtime \
 && mkdir -p /out/lib \
 && cp cli/target/dependency/*.jar /out/lib/ \
 && cp cli/target/cli-*.jar /out/lib/ \
 && cp flink-drift/target/flink-drift-*-job.jar /out/flink-drift-job.jar \
 && ls /out/lib/avro-schemas-*.jar /out/lib/streams-features-*.jar /out/lib/ranker-service-*.jar \
      /out/lib/trainer-job-*.jar /out/lib/flink-drift-*.jar /out/lib/cli-*.jar > /dev/null

FROM eclipse-temurin:17-jre AS app
# ONNX Runtime 1.29 crashes the JVM on long command lines unless its telemetry is off
ENV ORT_DISABLE_TELEMETRY=1 \
    TMPDIR=/tmp \
    DJL_CACHE_DIR=/var/cache/djl \
    ENGINE_CACHE_DIR=/var/cache/djl \
    FEEDRANK_HOME=/data
# uid and gid 10001 (infra/k8s's runAsUser, runAsGroup and fsGroup). The mount points of
# docker-compose.yml's named volumes exist here, owned by that user: Docker fills a new named
# volume from the image's directory, ownership included, so streams-features' state and the
# artifact store are writable by the non-root user (a path the image lacks would be root's)
RUN groupadd --system --gid 10001 feedrank \
 && useradd --system --uid 10001 --gid feedrank feedrank \
 && mkdir -p /var/cache/djl /data/target /data/streams-state /data/artifacts \
 && chown -R feedrank:feedrank /var/cache/djl /data
COPY --from=build /out/lib /opt/feedrank/lib
USER 10001:10001
WORKDIR /data
# An OutOfMemoryError ends the JVM (exit code 3), and Kubernetes or compose's restart policy starts
# it again: run on, a service with some of its threads dead serves or writes nothing while its
# process and ports look alive
ENTRYPOINT ["java", "-Xss2m", "-XX:+ExitOnOutOfMemoryError", "-Dai.djl.offline=true", "-cp", "/opt/feedrank/lib/*", "io.feedrank.cli.Main"]
CMD ["--help"]

FROM flink:2.2.1-java17 AS flink
# the compose file's checkpoint volume mounts here: owned by the image's flink user (uid 9999),
# which runs the job manager and task managers
USER root
RUN mkdir -p /flink/checkpoints \
 && chown flink:flink /flink/checkpoints
USER flink
COPY --from=build /out/flink-drift-job.jar /opt/flink/usrlib/flink-drift-job.jar
