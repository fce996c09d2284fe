"""Nightly re-evaluation of what is being served: each published artifact (the LATEST version of the source
model and of its int8, pruned and student variants) is read back from object storage, its checksums checked,
loaded with the serving loader and evaluated on the current evaluation set, then compared with its manifest.
A failed task means the artifact or the data drifted from what was published."""
from datetime import datetime

from airflow import DAG

import compactml_common as c

with DAG(
    dag_id="compactml_reevaluation",
    description="Verify and re-evaluate every published CompactML artifact",
    schedule="@daily",
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args=c.DEFAULT_ARGS,
    params={"model_name": "fmnist-mlp"},
    tags=["compactml", "monitoring"],
) as dag:
    verify_float = c.spark_job("verify_float", c.VERIFY, sets={"verify.model": "{{ params.model_name }}"})
    verify_int8 = c.spark_job("verify_int8", c.VERIFY, sets={"verify.model": "{{ params.model_name }}-int8"})
    verify_pruned = c.spark_job("verify_pruned", c.VERIFY, sets={"verify.model": "{{ params.model_name }}-pruned"})
    verify_student = c.spark_job("verify_student", c.VERIFY,
                                 sets={"verify.model": "{{ params.model_name }}-student"})

    verify_float >> [verify_int8, verify_pruned, verify_student]
