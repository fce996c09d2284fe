"""Hourly drift monitoring of a served model, and recalibration when it drifts: `monitor` compares the last hour
of the inference log `serve` writes with the model's calibration statistics (PSI, JS distance, int8 saturation
rate per tensor, the predicted-class distribution). No drift: the gate and everything after it are skipped. Drift:
recalibrate the source model on the logged inputs, quantize, publish a new int8 version (which `serve` picks up from
LATEST) and verify it."""
from datetime import datetime

from airflow import DAG

import compactml_common as c

# the inference log as a calibration data set: its Parquet files, features as served (no scaling), no labels
LOG_AS_CALIBRATION = {
    "data.calibration.name": "inference-log",
    "data.calibration.uri": "{{ params.inference_log }}",
    "data.calibration.format": "parquet",
    "data.calibration.label": "",
    "data.calibration.scaling": "none",
}

with DAG(
    dag_id="compactml_monitoring",
    description="Drift of a served CompactML model; recalibrate, quantize and publish on drift",
    schedule="@hourly",
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args=c.DEFAULT_ARGS,
    params={
        "served_model": "fmnist-mlp-int8",
        "source_model_path": "s3a://compactml/models/fmnist-mlp/baseline/model.zip",
        "inference_log": "s3a://compactml/warehouse/inference_log",
    },
    tags=["compactml", "monitoring"],
) as dag:
    drift = c.drift_gate(
        "monitor",
        c.MONITOR,
        sets={
            "monitor.model": "{{ params.served_model }}",
            "monitor.window-start": "{{ data_interval_start }}",
            "monitor.window-end": "{{ data_interval_end }}",
        },
    )
    recalibrate = c.spark_job(
        "recalibrate", c.CALIBRATE, sets={"model.path": "{{ params.source_model_path }}", **LOG_AS_CALIBRATION})
    quantize = c.spark_job("quantize", c.QUANTIZE, sets={"model.path": "{{ params.source_model_path }}"})
    publish = c.spark_job(
        "publish_int8",
        c.PUBLISH,
        sets={"model.path": "{{ params.source_model_path }}", "publish.model": "int8"},
    )
    verify = c.spark_job("verify_int8", c.VERIFY, sets={"verify.model": "{{ params.served_model }}"})

    drift >> recalibrate >> quantize >> publish >> verify
