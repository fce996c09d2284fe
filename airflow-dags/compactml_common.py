"""What every CompactML DAG shares: where the jar and its configs are, the jobs it runs, and how one job
becomes one SparkSubmitOperator task. Job names are the jar's subcommands (`compactml jobs --json`);
check_dags.py checks every task against that list."""
from datetime import timedelta

# where the deployment puts the shaded jar and the conf/ directory of the release
JAR = "/opt/compactml/compactml-jobs-0.1.0-SNAPSHOT-all.jar"
MAIN_CLASS = "io.compactml.jobs.Main"
CONF_DIR = "/opt/compactml/conf"
CLUSTER_CONF = CONF_DIR + "/cluster.conf"
SPARK_CONN_ID = "spark_default"

# the jobs (subcommands of io.compactml.jobs.Main)
EVALUATE = "evaluate"
CALIBRATE = "calibrate"
QUANTIZE = "quantize"
IMPORTANCE = "importance"
PRUNE = "prune"
TEACHER_OUTPUTS = "teacher-outputs"
DISTILL = "distill"
PUBLISH = "publish"
VERIFY = "verify"
MONITOR = "monitor"

# `monitor` exits 3 when the window drifted, 0 when not (DRIFT_EXIT_CODE of the jar)
DRIFT_EXIT_CODE = 3
# what a drift gate exits with when there is no drift: Airflow then marks it skipped, and its downstream tasks too
NO_DRIFT_SKIP_CODE = 99

# One run id keys every row all tasks of a DAG run write (CompactML accepts [A-Za-z0-9._-]); a task retried by
# Airflow reruns under the same id and replaces its own rows.
RUN_ID = "{{ dag.dag_id }}-{{ ts_nodash }}"

# one BLAS thread per task slot on every executor (see the README)
SPARK_CONF = {"spark.executorEnv.OMP_NUM_THREADS": "1"}

# Exit code 2 is a usage or config error that a retry cannot fix, 1 a runtime failure worth retrying; the
# operator does not tell them apart, so retries are few and spaced.
DEFAULT_ARGS = {
    "owner": "compactml",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "depends_on_past": False,
}


def spark_job(task_id, job, options=(), sets=None, config=CLUSTER_CONF, **kwargs):
    """One CompactML job as a SparkSubmitOperator: `spark-submit --class MAIN_CLASS JAR <job> --config <config>
    --run-id RUN_ID <options> --set k=v ...`."""
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    args = [job, "--config", config, "--run-id", RUN_ID, *options]
    for key, value in (sets or {}).items():
        args += ["--set", f"{key}={value}"]
    return SparkSubmitOperator(
        task_id=task_id,
        application=JAR,
        java_class=MAIN_CLASS,
        conn_id=SPARK_CONN_ID,
        conf=SPARK_CONF,
        application_args=args,
        name=f"compactml-{task_id}",
        **kwargs,
    )


def drift_gate(task_id, job, options=(), sets=None, config=CLUSTER_CONF, **kwargs):
    """`monitor` as a gate: a BashOperator running the same spark-submit as spark_job, whose exit code 3 (drift)
    lets the downstream tasks run, 0 (no drift) marks the task and its downstream skipped (skip_on_exit_code), and
    any other code fails it."""
    from airflow.operators.bash import BashOperator
    import shlex

    args = [job, "--config", config, "--run-id", RUN_ID, *options]
    for key, value in (sets or {}).items():
        args += ["--set", f"{key}={value}"]
    submit = " ".join(
        ["spark-submit", "--class", MAIN_CLASS]
        + [f"--conf {shlex.quote(f'{k}={v}')}" for k, v in SPARK_CONF.items()]
        + [JAR]
        + [shlex.quote(str(a)) for a in args]
    )
    script = (f"{submit}; rc=$?; if [ $rc -eq 0 ]; then exit {NO_DRIFT_SKIP_CODE}; "
              f"elif [ $rc -eq {DRIFT_EXIT_CODE} ]; then exit 0; else exit $rc; fi")
    return BashOperator(task_id=task_id, bash_command=script, skip_on_exit_code=NO_DRIFT_SKIP_CODE, **kwargs)
