"""Compression of one trained model, weekly: evaluate the source, then int8 quantization, pruning and
distillation side by side, each published and verified from object storage. The source model and its name
come from the DAG's params (trigger with a conf to compress another model)."""
from datetime import datetime

from airflow import DAG

import compactml_common as c

SOURCE = {"model.path": "{{ params.model_path }}", "model.name": "{{ params.model_name }}"}

with DAG(
    dag_id="compactml_compression",
    description="Quantize, prune and distill a trained model; publish and verify each result",
    schedule="@weekly",
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args=c.DEFAULT_ARGS,
    params={"model_path": "s3a://compactml/models/fmnist-mlp/baseline/model.zip", "model_name": "fmnist-mlp"},
    tags=["compactml"],
) as dag:
    evaluate = c.spark_job("evaluate_source", c.EVALUATE, sets=SOURCE)

    calibrate = c.spark_job("calibrate", c.CALIBRATE, sets=SOURCE)
    quantize = c.spark_job("quantize", c.QUANTIZE, sets=SOURCE)
    publish_int8 = c.spark_job("publish_int8", c.PUBLISH, sets={**SOURCE, "publish.model": "int8"})
    verify_int8 = c.spark_job("verify_int8", c.VERIFY, sets={**SOURCE, "verify.model": "{{ params.model_name }}-int8"})

    importance = c.spark_job("importance", c.IMPORTANCE, sets=SOURCE)
    prune = c.spark_job("prune", c.PRUNE, sets={**SOURCE, "prune.target-sparsity": "0.9"})
    publish_pruned = c.spark_job("publish_pruned", c.PUBLISH, sets={**SOURCE, "publish.model": "pruned"})
    verify_pruned = c.spark_job("verify_pruned", c.VERIFY,
                                sets={**SOURCE, "verify.model": "{{ params.model_name }}-pruned"})

    teacher_outputs = c.spark_job("teacher_outputs", c.TEACHER_OUTPUTS, sets=SOURCE)
    distill = c.spark_job("distill", c.DISTILL, sets=SOURCE)
    publish_student = c.spark_job("publish_student", c.PUBLISH, sets={**SOURCE, "publish.model": "student"})
    verify_student = c.spark_job("verify_student", c.VERIFY,
                                 sets={**SOURCE, "verify.model": "{{ params.model_name }}-student"})

    evaluate >> [calibrate, importance, teacher_outputs]
    calibrate >> quantize >> publish_int8 >> verify_int8
    importance >> prune >> publish_pruned >> verify_pruned
    teacher_outputs >> distill >> publish_student >> verify_student
