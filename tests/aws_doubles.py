"""AWS's own test doubles for the SageMaker Autopilot tests: botocore's Stubber on a real
SageMaker client (every request and response checked against the service's model) and moto
for S3. Only the AWS services are replaced: the adapter, its ledger and the harness run as
they do against an account.

``autopilot(env)`` (a context manager) plants fake credentials, starts moto with a bucket,
and routes the adapters' SageMaker client to one stubbed client; the helpers below queue the
answers of one Autopilot lifecycle."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import boto3
from botocore.stub import ANY, Stubber

REGION = "us-east-1"
BUCKET = "bench-bucket"
ROLE = "arn:aws:iam::123456789012:role/autopilot"
FAKE_SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIAFAKEPLANTEDKEY0001",
    "AWS_SECRET_ACCESS_KEY": "planted/Secret+Access+Key/do-not-write-0001",
    "AWS_SESSION_TOKEN": "PlantedSessionTokenThatMustNeverAppearInAnyFile0001",
}
T0 = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
PARAMS = {"role_arn": ROLE, "bucket": BUCKET, "region": REGION, "poll_min_s": 0.01,
          "poll_max_s": 0.05}  # fmt: skip


def plant_credentials(monkeypatch) -> None:
    for k, v in FAKE_SECRETS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for k in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(k, raising=False)


@contextmanager
def autopilot(monkeypatch):
    """(stubber, s3 client) with moto serving S3 and the SageMaker client stubbed."""
    from moto import mock_aws

    from automl_bench_adapters import aws_session

    plant_credentials(monkeypatch)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        sm = boto3.client("sagemaker", region_name=REGION)
        stubber = Stubber(sm)
        real = aws_session.client
        monkeypatch.setattr(aws_session, "client",
                            lambda service, region: sm if service == "sagemaker"
                            else real(service, region))  # fmt: skip
        with stubber:
            yield stubber, s3


def job_description(name: str, status: str, secondary: str = "Starting", best: bool = False,
                    failure: str | None = None) -> dict:  # fmt: skip
    d = {
        "AutoMLJobName": name, "AutoMLJobArn": f"arn:aws:sagemaker:{REGION}:1:automl-job/{name}",
        "AutoMLJobInputDataConfig": [{"ChannelType": "training", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/x/train/"}}}],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/x/output/"}, "RoleArn": ROLE,
        "CreationTime": T0, "LastModifiedTime": T0, "AutoMLJobStatus": status,
        "AutoMLJobSecondaryStatus": secondary,
    }  # fmt: skip
    if best:
        d["BestCandidate"] = candidate("best-candidate", "tr-1")
    if failure:
        d["FailureReason"] = failure
    return d


def candidate(name: str, training_job: str) -> dict:
    return {
        "CandidateName": name, "CandidateStatus": "Completed", "ObjectiveStatus": "Succeeded",
        "CreationTime": T0, "LastModifiedTime": T0,
        "FinalAutoMLJobObjectiveMetric": {"MetricName": "Accuracy", "Value": 0.9},
        "CandidateSteps": [
            {"CandidateStepType": "AWS::SageMaker::ProcessingJob",
             "CandidateStepArn": "arn:aws:sagemaker:us-east-1:1:processing-job/pp",
             "CandidateStepName": "pp"},
            {"CandidateStepType": "AWS::SageMaker::TrainingJob",
             "CandidateStepArn": f"arn:aws:sagemaker:us-east-1:1:training-job/{training_job}",
             "CandidateStepName": training_job}],
        "InferenceContainers": [{"Image": "123.dkr.ecr.us-east-1.amazonaws.com/autogluon:1",
                                 "ModelDataUrl": f"s3://{BUCKET}/x/output/model.tar.gz",
                                 "Environment": {"MODEL_NAME": name}}],
    }  # fmt: skip


def queue_search(stubber, states=("InProgress", "Completed"), training_s=(100, 50)) -> None:
    """Create, then one describe per state (the last with the best candidate), then the
    candidates and the billed compute of their steps."""
    stubber.add_response("create_auto_ml_job_v2", {"AutoMLJobArn": "arn:aws:sagemaker:x"},
                         {"AutoMLJobName": ANY, "AutoMLJobInputDataConfig": ANY,
                          "OutputDataConfig": ANY, "AutoMLProblemTypeConfig": ANY,
                          "RoleArn": ROLE})  # fmt: skip
    for i, s in enumerate(states):
        last = i == len(states) - 1
        stubber.add_response("describe_auto_ml_job_v2",
                             job_description("job", s, "Completed" if last else "Training",
                                             best=last))  # fmt: skip
    queue_usage(stubber, training_s)


def queue_usage(stubber, training_s=(100, 50)) -> None:
    stubber.add_response("list_candidates_for_auto_ml_job",
                         {"Candidates": [candidate("best-candidate", "tr-1"),
                                         candidate("second", "tr-2")]})  # fmt: skip
    stubber.add_response("describe_processing_job", processing("pp", 60))
    for i, secs in enumerate(training_s, 1):
        stubber.add_response("describe_training_job", training(f"tr-{i}", secs))


def processing(name: str, seconds: float) -> dict:
    return {
        "ProcessingJobName": name, "ProcessingJobArn": f"arn:aws:sagemaker:x:1:processing-job/{name}",
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.4xlarge",
                                                  "VolumeSizeInGB": 50}},
        "AppSpecification": {"ImageUri": "img"}, "ProcessingJobStatus": "Completed",
        "CreationTime": T0, "ProcessingStartTime": T0,
        "ProcessingEndTime": T0 + dt.timedelta(seconds=seconds),
    }  # fmt: skip


def training(name: str, billable: int, count: int = 1) -> dict:
    return {
        "TrainingJobName": name, "TrainingJobArn": f"arn:aws:sagemaker:x:1:training-job/{name}",
        "ModelArtifacts": {"S3ModelArtifacts": f"s3://{BUCKET}/m"},
        "TrainingJobStatus": "Completed", "SecondaryStatus": "Completed",
        "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "img"},
        "ResourceConfig": {"InstanceType": "ml.m5.4xlarge", "InstanceCount": count,
                           "VolumeSizeInGB": 50},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600}, "CreationTime": T0,
        "BillableTimeInSeconds": billable,
    }  # fmt: skip


def transform_description(name: str, status: str, seconds: float = 200) -> dict:
    return {
        "TransformJobName": name, "TransformJobArn": f"arn:aws:sagemaker:x:1:transform-job/{name}",
        "TransformJobStatus": status, "ModelName": name, "CreationTime": T0,
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                           "S3Uri": f"s3://{BUCKET}/t"}}},
        "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
        "TransformStartTime": T0, "TransformEndTime": T0 + dt.timedelta(seconds=seconds),
    }  # fmt: skip


def queue_predict(stubber) -> None:
    """The model, the transform job and its end; then the release of each resource."""
    stubber.add_response("create_model", {"ModelArn": "arn:aws:sagemaker:x:1:model/m"},
                         {"ModelName": ANY, "ExecutionRoleArn": ROLE, "Containers": ANY})
    stubber.add_response("create_transform_job", {"TransformJobArn": "arn:aws:sagemaker:x"})
    stubber.add_response("describe_transform_job", transform_description("job", "Completed"))
    queue_release(stubber)


def queue_release(stubber, transform: bool = True, model: bool = True,
                  job_status: str = "Completed") -> None:  # fmt: skip
    if transform:
        stubber.add_response("describe_transform_job", transform_description("job", "Completed"))
    if model:
        stubber.add_response("delete_model", {})
    stubber.add_response("describe_auto_ml_job_v2", job_description("job", job_status))
    if job_status == "InProgress":
        stubber.add_response("stop_auto_ml_job", {})


def transform_output(proba_rows, n_classes: int) -> str:
    """What the model's transform writes for the keys labels,probabilities."""
    labels = str([f"c{k}" for k in range(n_classes)])
    return "".join(f'"{labels}","{list(map(float, row))}"\n' for row in proba_rows)
