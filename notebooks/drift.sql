-- Queries of the drift notebook (compactml_drift.ipynb) over the `drift` table `compactml monitor` writes.
-- Run them with `compactml sql --file notebooks/drift.sql`.

-- name: drift_latest
-- The latest monitor run: every tensor's PSI, JS distance and int8 saturation rate, and the predictions.
SELECT model_name, version, window, rows, tensor_index, tensor, metric, round(value, 5) AS value,
       round(reference, 5) AS reference, round(threshold, 5) AS threshold, drifted
FROM drift
WHERE run_id = (SELECT run_id FROM drift ORDER BY created_at DESC LIMIT 1)
ORDER BY tensor_index, metric;

-- name: drift_over_time
-- PSI of every tensor (and of the predicted classes) per monitor run, oldest first: one line per tensor to plot.
SELECT model_name, created_at, run_id, window, tensor_index, tensor, round(value, 5) AS psi, drifted
FROM drift
WHERE metric IN ('psi', 'prediction_psi')
ORDER BY model_name, created_at, tensor_index;

-- name: drifted_windows
-- Every window with an alarm, and how many of its metrics crossed their threshold.
SELECT model_name, version, window, run_id, count(*) AS alarms, max(created_at) AS at
FROM drift
GROUP BY model_name, version, window, run_id
HAVING sum(CASE WHEN drifted THEN 1 ELSE 0 END) > 0
ORDER BY at DESC;
