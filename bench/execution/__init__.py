"""Execution: runs jobs as isolated worker processes under enforced limits, locally or on a
Dask cluster, and holds what a job writes and measures.

What it owns, by module:
- the job types every executor shares (``jobs``: Limits, WorkItem, Outcome) and the
  executor protocol the run orchestration calls (``protocol``: run with its start, done,
  admit and gate callbacks, close);
- the executors: ``local_executor`` (slots on this machine) and ``dask_executor`` with its
  node side (``node_job``, ``launcher_pool``);
- slot planning (``slots``), per-job enforcement (``enforcement``: wall time phase by
  phase, ``phase_deadline``; memory; cores), the process tree (``proctree``), which
  processes are a run's (``ownership``), a job's environment variables (``job_env``);
- starting workers: the launcher's server (``launcher``), its client (``launcher_client``),
  the launcher the CLI starts early (``launcher_prestart``), the Linux process controls both
  sides use (``process_control``), and the worker itself (``worker``);
- what a job writes and measures: predictions, trajectory, inference, the machine
  fingerprint, contention (the CPU share a job got, ``run --exclusive``'s gate), the run
  directory lock.

It may import planning, data and the top-level errors, paths, yamlio and timeline modules;
never results, report, race, run or cli (a higher stage's needs come in as callbacks: see
``protocol``). No module here imports another in a cycle (import-linter checks both).
"""
