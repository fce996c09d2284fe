-- The SQL of compactml_results.ipynb, one named query per block. The notebook runs them by name; the end-to-end
-- test runs every one of them (`compactml sql --file notebooks/queries.sql`) against the tables a demo run
-- wrote, so a renamed column breaks the build, not the notebook. "The latest run" is the run id of the newest
-- row of `runs`.

-- name: runs
-- Every job run, newest first: how long it took and why it failed.
SELECT run_id, job, status, started_at,
       round(unix_timestamp(ended_at) - unix_timestamp(started_at)) AS seconds,
       error
FROM runs
ORDER BY started_at DESC;

-- name: models_of_latest_run
-- Every model the latest run evaluated, one row each: accuracy, size and latency (the newest value of each).
SELECT model_name,
       max_by(technique, created_at) AS technique,
       max_by(value, created_at) FILTER (WHERE metric = 'accuracy') AS accuracy,
       max_by(value, created_at) FILTER (WHERE metric = 'size_bytes') AS size_bytes,
       max_by(value, created_at) FILTER (WHERE metric = 'latency_single_p50_ms') AS latency_single_p50_ms
FROM evaluations
WHERE run_id = (SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1)
GROUP BY model_name
ORDER BY size_bytes;

-- name: training_curves
-- Loss and validation accuracy per epoch of every model trained in the latest run (source and students).
SELECT model_name, epoch, train_loss, val_loss, val_accuracy, samples_per_sec
FROM training_history
WHERE run_id = (SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1)
ORDER BY model_name, epoch;

-- name: activation_ranges
-- Per activation tensor: the observed range on the calibration set and the clip range each method chose.
SELECT q.tensor_index, q.tensor, q.method, c.min AS observed_min, c.max AS observed_max,
       q.clip_min, q.clip_max, q.scale, q.zero_point
FROM quant_params q
JOIN calibration_stats c
  ON q.run_id = c.run_id AND q.model_sha256 = c.model_sha256 AND q.tensor_index = c.tensor_index
WHERE q.kind = 'activation'
ORDER BY q.run_id, q.tensor_index, q.method;

-- name: layer_sensitivity
-- Accuracy lost when one layer alone is quantized: the layers to keep in float first (weight_bits: its width;
-- with quantize.mixed-bits, also each lower width with the other layers quantized).
SELECT run_id, method, layer, weight_bits, layer_name, accuracy, accuracy_drop, sqnr_db
FROM layer_sensitivity
ORDER BY run_id, accuracy_drop DESC;

-- name: importance_by_layer
-- Distribution of the importance scores of every weight tensor, per criterion; half_overlap is how much the
-- pruned set chosen from each half of the data agrees.
SELECT criterion, layer, layer_name, tensor, count, mean, p50, p90, p99, max, half_overlap
FROM param_importance
ORDER BY criterion, layer, tensor;

-- name: sparsity_by_layer
-- Target and reached sparsity per layer of every pruned model, and the units left by structured pruning.
SELECT model_name, run_id, layer, layer_name, weights, target_sparsity, actual_sparsity, units_before,
       units_after, excluded
FROM sparsity
ORDER BY model_name, run_id, layer;

-- name: distillation_candidates
-- Every student trained: accuracy next to its teacher's, size relative to the teacher, the chosen one.
SELECT student, candidate, temperature, alpha, accuracy, teacher_accuracy,
       round(accuracy - teacher_accuracy, 4) AS accuracy_vs_teacher,
       round(params / teacher_params, 4) AS size_vs_teacher, chosen
FROM distill_candidates
ORDER BY run_id, accuracy DESC;

-- name: published_artifacts
-- What is published for serving, newest first.
SELECT model_name, version, technique, size_bytes, published_at, uri
FROM artifacts
ORDER BY published_at DESC;

-- name: candidates_of_latest_run
-- Every candidate of the latest pipeline run: accuracy against size, the Pareto front, the verdict.
-- Regression plans fill mse, mse_increase (relative to the source's) and r2 instead of the accuracy columns.
SELECT candidate, model_name, format, accuracy, accuracy_drop_points, mse, mse_increase, r2, size_bytes,
       round(source_size_bytes / size_bytes, 2) AS times_smaller, latency_single_p50_ms, meets_constraints,
       pareto_optimal, chosen, decision
FROM candidates
WHERE run_id = (SELECT run_id FROM candidates ORDER BY created_at DESC LIMIT 1)
ORDER BY size_bytes;
