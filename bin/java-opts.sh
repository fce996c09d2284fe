# Sourced by the bin/ scripts: the JVM flags every CompactML or Spark JVM started by hand needs on Java 17.
# Spark 3.5's own module list (spark-submit's launcher adds it by itself; SparkContext adds it to executors).
# shellcheck disable=SC2034
SPARK_JAVA17_OPTS="-XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED
 --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
 --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED
 --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
 --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
 --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
 --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED
 --add-opens=java.base/sun.util.calendar=ALL-UNNAMED --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED
 -Djdk.reflect.useDirectMethodHandle=false"
# One BLAS (OpenMP) thread per Spark task slot: DL4J workers run one per core already; more threads thrash.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"

COMPACTML_VERSION="0.1.0-SNAPSHOT"
COMPACTML_JAR="$ROOT/jobs/target/compactml-jobs-$COMPACTML_VERSION-all.jar"

# Builds the shaded jar and the classpath files next to it when one is missing.
compactml_build_if_missing() {
  local f
  for f in "$COMPACTML_JAR" "$@"; do
    if [[ ! -f "$f" ]]; then
      echo "compactml: building $COMPACTML_JAR (first run only) ..." >&2
      (cd "$ROOT" && mvn -B -q -DskipTests package -pl jobs -am) >&2
      return
    fi
  done
}
