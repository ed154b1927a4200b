"""What an Autopilot job evaluated and what AWS bills for it, read from the service's own
answers: the candidates (``ListCandidatesForAutoMLJob``) and the compute of each candidate's
steps. A training job is billed ``BillableTimeInSeconds`` x its instance count (managed spot
training bills less than it ran); processing and transform jobs from their start to their
end time on their instances. Prices are not in the answers: the harness prices each piece
from its price table (service, instance type)."""

from __future__ import annotations

SERVICE = "sagemaker"


def candidates(sm, job_name: str) -> list[dict]:
    """Every candidate of the job (all pages)."""
    found, token = [], None
    while True:
        page = sm.list_candidates_for_auto_ml_job(
            AutoMLJobName=job_name, **({"NextToken": token} if token else {}))
        found += page.get("Candidates", [])
        token = page.get("NextToken")
        if not token:
            return found


def billed(sm, found: list[dict]) -> list[dict]:
    """One billed piece per distinct step of the candidates (steps shared by candidates,
    such as the data processing job, are counted once)."""
    seen, out = set(), []
    for cand in found:
        for step in cand.get("CandidateSteps", []):
            kind, name = step["CandidateStepType"], step["CandidateStepName"]
            if (kind, name) in seen:
                continue
            seen.add((kind, name))
            piece = _step(sm, kind, name)
            if piece is not None:
                out.append(piece)
    return out


def _step(sm, kind: str, name: str) -> dict | None:
    if kind == "AWS::SageMaker::TrainingJob":
        d = sm.describe_training_job(TrainingJobName=name)
        res = d["ResourceConfig"]
        count = int(res.get("InstanceCount") or 1)
        return _piece("training", name, res.get("InstanceType"), count,
                      float(d.get("BillableTimeInSeconds") or 0) * count)
    if kind == "AWS::SageMaker::ProcessingJob":
        d = sm.describe_processing_job(ProcessingJobName=name)
        res = d["ProcessingResources"]["ClusterConfig"]
        return _piece("processing", name, res["InstanceType"], int(res["InstanceCount"]),
                      _seconds(d, "ProcessingStartTime", "ProcessingEndTime")
                      * int(res["InstanceCount"]))  # fmt: skip
    if kind == "AWS::SageMaker::TransformJob":
        return transform(sm.describe_transform_job(TransformJobName=name))
    return None


def transform(d: dict) -> dict:
    """The billed piece of a described transform job."""
    res = d["TransformResources"]
    count = int(res["InstanceCount"])
    return _piece("transform", d["TransformJobName"], res["InstanceType"], count,
                  _seconds(d, "TransformStartTime", "TransformEndTime") * count)


def _seconds(d: dict, start: str, end: str) -> float:
    if d.get(start) is None or d.get(end) is None:
        return 0.0
    return max(0.0, (d[end] - d[start]).total_seconds())


def _piece(kind: str, name: str, instance_type, count: int, instance_seconds: float) -> dict:
    """``seconds``: instance-seconds billed (seconds x instances)."""
    return {"service": SERVICE, "kind": kind, "name": name, "instance_type": instance_type,
            "instance_count": count, "seconds": round(instance_seconds, 3)}


def leaderboard(found: list[dict]) -> list[dict]:
    """One row per candidate: name, status and its objective metric's value."""
    rows = []
    for c in found:
        metric = c.get("FinalAutoMLJobObjectiveMetric") or {}
        rows.append({"model": c["CandidateName"], "status": c.get("CandidateStatus"),
                     "metric": metric.get("MetricName"), "value": metric.get("Value")})
    return rows


def expected(params: dict, budget_s: float, transform_s: float) -> tuple[list[dict], str]:
    """The pieces a job is expected to be billed before it runs (see
    ``SageMakerAutopilot.expected_billing``): the search's instances for the whole budget and
    one transform instance, with the assumption in words."""
    kind = params.get("estimate_instance_type") or "ml.m5.2xlarge"
    count = int(params.get("estimate_instances") or 1)
    transform = params.get("transform_instance_type") or "ml.m5.xlarge"
    pieces = [_piece("training", "search", kind, count, budget_s * count),
              _piece("transform", "predict", transform, 1, transform_s)]
    return pieces, (f"the budget x {count} {kind} (params estimate_instances, "
                    f"estimate_instance_type) + {transform_s:g} s of 1 {transform} "
                    "for the batch transform")
