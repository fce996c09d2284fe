#!/usr/bin/env python3
"""Static checks of the CompactML DAGs with plain python3 (Airflow is not needed, nor imported):

- every DAG file parses; every DAG sets dag_id, schedule, start_date, catchup and default_args with retries;
- task ids are unique within a DAG; every task in a dependency is defined; the dependencies have no cycle;
- every task's job is a subcommand of the jar, every option it passes is one of that job's options, every
  `--set` key is a config key (or under spark.conf), and its config file exists in conf/.

The jar's side comes from `compactml jobs --json` (jobs, their options, the config keys).
Usage: check_dags.py --jobs-json FILE [--dags DIR] [--conf DIR]; exit 0 when clean, 1 with the problems.
"""
import argparse
import ast
import json
import sys
from pathlib import Path

COMMON = "compactml_common"


def constants(path):
    """Top-level NAME = <literal or NAME + literal> assignments of the common module."""
    out = {}
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = evaluate(node.value, out)
            except ValueError:
                pass
    return out


def evaluate(node, names):
    """A literal, a common constant (`c.NAME` or `NAME`), a dict with `**` merges, or a `+` of those."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr in names:
        return names[node.attr]
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return evaluate(node.left, names) + evaluate(node.right, names)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [evaluate(e, names) for e in node.elts]
    if isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                out.update(evaluate(v, names))
                continue
            try:
                out[evaluate(k, names)] = evaluate(v, names)
            except ValueError:  # a value only Airflow computes, e.g. timedelta(minutes=5): kept as its source
                out[evaluate(k, names)] = ast.unparse(v)
        return out
    raise ValueError(f"line {getattr(node, 'lineno', '?')}: not a constant: {ast.dump(node)[:80]}")


def call_name(call):
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


class DagFile:
    def __init__(self, path, common):
        self.path = path
        self.names = dict(common)
        self.tasks = {}       # variable -> (task_id, job, options, sets, config, line)
        self.edges = []       # (upstream variable, downstream variable, line)
        self.dags = []        # keyword dicts of DAG(...)
        self.problems = []
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and call_name(node) == "DAG":
                self.dags.append({k.arg: k.value for k in node.keywords})
        self.visit(tree.body)

    def problem(self, line, text):
        self.problems.append(f"{self.path.name}:{line}: {text}")

    def visit(self, body):
        for node in body:
            if isinstance(node, ast.With):
                self.visit(node.body)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                    and call_name(node.value) in ("spark_job", "drift_gate"):
                self.task(node.targets[0].id, node.value)
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                try:
                    self.names[node.targets[0].id] = evaluate(node.value, self.names)
                except ValueError:
                    pass
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.BinOp):
                self.chain(node.value)

    def task(self, var, call):
        try:
            args = [evaluate(a, self.names) for a in call.args]
            kw = {k.arg: evaluate(k.value, self.names) for k in call.keywords}
        except ValueError as e:
            self.problem(call.lineno, f"task {var}: {e}")
            return
        task_id, job = (args + [None, None])[:2]
        self.tasks[var] = (task_id, job, list(kw.get("options", [])), dict(kw.get("sets") or {}),
                           kw.get("config", self.names.get("CLUSTER_CONF")), call.lineno)

    def operands(self, node):
        if isinstance(node, ast.Name):
            return [node.id]
        if isinstance(node, ast.List):
            return [n for e in node.elts for n in self.operands(e)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            return self.operands(node.right)
        self.problem(node.lineno, f"unsupported dependency operand {ast.dump(node)[:60]}")
        return []

    def chain(self, node):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift)):
            return
        self.chain(node.left)
        for up in self.operands(node.left):
            for down in self.operands(node.right):
                self.edges.append((up, down, node.lineno))


def cycle(edges):
    graph = {}
    for up, down, _ in edges:
        graph.setdefault(up, []).append(down)
    state = {}

    def visit(n, path):
        state[n] = 1
        for m in graph.get(n, []):
            if state.get(m) == 1:
                return path + [n, m]
            if m not in state:
                found = visit(m, path + [n])
                if found:
                    return found
        state[n] = 2
        return None

    for n in list(graph):
        if n not in state:
            found = visit(n, [])
            if found:
                return found
    return None


def check(dags_dir, jobs, conf_dir):
    # a job answers to its name and to its older names (aliases), with the same options
    jobs_by_name = {n: set(j["options"]) for j in jobs["jobs"] for n in [j["name"], *j.get("aliases", [])]}
    config_keys = set(jobs["config_keys"])
    common = constants(dags_dir / f"{COMMON}.py")
    problems, summary = [], []
    if common.get("MAIN_CLASS") != jobs["main_class"]:
        problems.append(f"{COMMON}.py: MAIN_CLASS {common.get('MAIN_CLASS')!r} is not {jobs['main_class']!r}")
    if not common.get("DEFAULT_ARGS", {}).get("retries"):
        problems.append(f"{COMMON}.py: DEFAULT_ARGS has no retries")
    for path in sorted(dags_dir.glob("*_dag.py")):
        f = DagFile(path, common)
        problems += f.problems
        if len(f.dags) != 1:
            f.problem(1, f"{len(f.dags)} DAG(...) calls, expected one")
        for dag in f.dags:
            for key in ("dag_id", "schedule", "start_date", "catchup", "default_args"):
                if key not in dag:
                    f.problem(1, f"DAG sets no {key}")
        seen = {}
        for var, (task_id, job, options, sets, config, line) in f.tasks.items():
            if task_id in seen:
                f.problem(line, f"task id {task_id!r} also used on line {seen[task_id]}")
            seen[task_id] = line
            if job not in jobs_by_name:
                f.problem(line, f"task {task_id!r}: no job {job!r} in the jar (jobs: {sorted(jobs_by_name)})")
                continue
            for opt in (o for o in options if str(o).startswith("-")):
                if opt not in jobs_by_name[job]:
                    f.problem(line, f"task {task_id!r}: job {job} has no option {opt}")
            for key in ("--config", "--run-id", "--set"):
                if key not in jobs_by_name[job]:
                    f.problem(line, f"task {task_id!r}: job {job} has no option {key}")
            for key in sets:
                if key not in config_keys and not key.startswith("spark.conf."):
                    f.problem(line, f"task {task_id!r}: unknown config key {key!r}")
            if config is None or not (conf_dir / Path(config).name).is_file():
                f.problem(line, f"task {task_id!r}: config {config!r} is not in {conf_dir}")
        for up, down, line in f.edges:
            for var in (up, down):
                if var not in f.tasks:
                    f.problem(line, f"dependency on {var!r}, which is not a task")
        loop = cycle(f.edges)
        if loop:
            f.problem(1, "dependency cycle: " + " >> ".join(loop))
        problems += [p for p in f.problems if p not in problems]
        try:
            dag_id = evaluate(f.dags[0]["dag_id"], f.names) if f.dags and "dag_id" in f.dags[0] else path.stem
        except ValueError:
            dag_id = path.stem
        summary.append(f"{dag_id}: {len(f.tasks)} tasks, {len(f.edges)} dependencies")
    return problems, summary


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parent
    p.add_argument("--jobs-json", required=True, type=Path, help="output of `compactml jobs --json`")
    p.add_argument("--dags", type=Path, default=here)
    p.add_argument("--conf", type=Path, default=here.parent / "conf")
    a = p.parse_args()
    problems, summary = check(a.dags, json.loads(a.jobs_json.read_text()), a.conf)
    for line in summary:
        print(line)
    for line in problems:
        print("problem: " + line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
