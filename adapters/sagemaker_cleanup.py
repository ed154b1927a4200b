"""Stopping and deleting what a SageMaker Autopilot job created, one ledger entry at a
time (the ``cleaner`` of :mod:`automl_bench_adapters.sagemaker_autopilot`'s ledger entries;
see :mod:`automl_bench_adapters.remote_ledger`). Each call returns one line saying what it
did; a resource already gone is reported as such, never as an error."""

from __future__ import annotations

from automl_bench_adapters import aws_session

RUNNING = ("InProgress", "Stopping")


def clean(entry: dict) -> str:
    params = entry.get("params") or {}
    region = params.get("region")
    kind, name = entry["kind"], entry["name"]
    if kind == "s3_prefix":
        return _delete_prefix(aws_session.client("s3", region), params["bucket"],
                              params["prefix"])  # fmt: skip
    sm = aws_session.client("sagemaker", region)
    if kind == "automl_job":
        return _stop(sm, "auto_ml_job_v2", "AutoMLJobName", name, "AutoMLJobStatus",
                     sm.stop_auto_ml_job)  # fmt: skip
    if kind == "transform_job":
        return _stop(sm, "transform_job", "TransformJobName", name, "TransformJobStatus",
                     sm.stop_transform_job)  # fmt: skip
    if kind == "model":
        return _gone_or(lambda: sm.delete_model(ModelName=name), "deleted")
    if kind == "endpoint":
        return _gone_or(lambda: sm.delete_endpoint(EndpointName=name), "deleted")
    raise ValueError(f"unknown resource kind {kind!r}")


def _stop(sm, what: str, key: str, name: str, status_key: str, stop) -> str:
    try:
        status = getattr(sm, f"describe_{what}")(**{key: name})[status_key]
    except Exception as e:  # noqa: BLE001 - botocore's ClientError, checked below
        if _not_found(e):
            return "never created (not found)"
        raise
    if status not in RUNNING:
        return f"already ended ({status}); nothing to stop"
    if status == "Stopping":
        return "already stopping"
    stop(**{key: name})
    return "stopped"


def _gone_or(call, said: str) -> str:
    try:
        call()
    except Exception as e:  # noqa: BLE001
        if _not_found(e):
            return "already gone (not found)"
        raise
    return said


def _not_found(e: Exception) -> bool:
    code = getattr(e, "response", {}).get("Error", {}).get("Code", "")
    text = str(getattr(e, "response", {}).get("Error", {}).get("Message", ""))
    return code in ("ResourceNotFound", "ValidationException", "NoSuchBucket") and (
        code != "ValidationException" or "not" in text.lower() and "found" in text.lower()
        or "could not find" in text.lower())


def _delete_prefix(s3, bucket: str, prefix: str) -> str:
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    return f"deleted {deleted} object(s)" if deleted else "no objects left"
