"""Amazon SageMaker Autopilot (AWS), a managed AutoML service, through boto3.

Setup (``prepare``, timed apart from the budget): the training rows go to
``s3://BUCKET/PREFIX/NAME/train.csv`` (CSV with a header; labels written as ``c0``..``cK``,
the class codes, so Autopilot sees a label column of strings whatever the task's labels).

Fit: ``CreateAutoMLJobV2`` with a ``TabularJobConfig`` (``MulticlassClassification``, or
``BinaryClassification`` for two classes; ``Mode`` AUTO by default: data under 100 MB gets
ENSEMBLING, AutoGluon inside the service); the budget is ``MaxAutoMLJobRuntimeInSeconds``
(at least 1) and caps ``MaxRuntimePerTrainingJobInSeconds``; ``MaxCandidates`` at most 750.
The job is polled with backoff and stopped (``StopAutoMLJob``) if the service has not ended
it ``stop_margin`` x the budget after the budget. After it ends: the best candidate, the
number of candidates (``ListCandidatesForAutoMLJob``) and the billed compute of every
candidate's steps: a training job's ``BillableTimeInSeconds`` x its instance count,
processing and transform jobs from their start and end times.

Predict: a model from the best candidate's inference containers, asked for the keys
``labels,probabilities`` (``SAGEMAKER_INFERENCE_OUTPUT`` on the last container,
``SAGEMAKER_INFERENCE_INPUT`` on those before it), a batch transform job over the test rows
(no header), the output read back into one probability column per class in ``classes_``
order. Then the model, the transform job and every S3 object of the job are deleted (see
:mod:`automl_bench_adapters.remote` for the ledger that makes this survive a kill).

Parameters of the definition: ``role_arn`` (an IAM role SageMaker assumes), ``bucket``,
``region``, ``prefix`` (folder in the bucket), ``mode`` (AUTO, ENSEMBLING, HYPERPARAMETER_
TUNING), ``max_candidates``, ``objective`` (None: the service's default),
``transform_instance_type``; ``estimate_instance_type`` and ``estimate_instances``, the
instances `estimate` assumes busy for the whole budget (Autopilot chooses its own; they change
nothing a job does). Credentials come only from boto3's chain.
"""

from __future__ import annotations

import io
import time
import uuid

import pandas as pd

from automl_bench_adapters import aws_session
from automl_bench_adapters import sagemaker_usage as usage
from automl_bench_adapters.base import AdapterError, Capabilities, Requirements, label_column
from automl_bench_adapters.remote import COMPLETED, FAILED, RUNNING, STOPPED, RemoteAdapter
from automl_bench_adapters.sagemaker_output import read_probabilities

STATES = {"InProgress": RUNNING, "Stopping": RUNNING, "Completed": COMPLETED,
          "Failed": FAILED, "Stopped": STOPPED}  # fmt: skip
INFERENCE_KEYS = "labels,probabilities"
MAX_CANDIDATES = 750  # the service's limit
# Before a run, the bill is estimated from the budget: Autopilot picks its instance types and
# how many trials run at once itself, so the estimate assumes ``estimate_instances`` instances
# of ``estimate_instance_type`` busy for the whole budget, plus one transform instance for
# TRANSFORM_S (provisioning and scoring a batch transform of a benchmark's test rows).
TRANSFORM_S = 300.0


class SageMakerAutopilot(RemoteAdapter):
    requirements = Requirements(packages=("boto3",), extra="aws")
    capabilities = Capabilities(
        min_train_rows=500,  # CreateAutoMLJobV2: a training set of at least 500 rows
        min_budget_s=1.0,  # MaxAutoMLJobRuntimeInSeconds >= 1
        remote=True,
        notes=("managed service: data goes to your S3 bucket; billed by AWS",),
    )
    distribution = "boto3"
    _cleaner = "automl_bench_adapters.sagemaker_cleanup:clean"

    def __init__(self, time_limit=60.0, cores=1, memory_mb=None, seed=0, scratch_dir=None,
                 role_arn=None, bucket=None, region=None, prefix="automl-bench", mode="AUTO",
                 max_candidates=None, objective=None, transform_instance_type="ml.m5.xlarge",
                 stop_margin=0.05, poll_min_s=5.0, poll_max_s=60.0,
                 estimate_instance_type="ml.m5.2xlarge", estimate_instances=1):  # fmt: skip
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.role_arn, self.bucket, self.region, self.prefix = role_arn, bucket, region, prefix
        self.mode, self.max_candidates, self.objective = mode, max_candidates, objective
        self.transform_instance_type = transform_instance_type
        self.estimate_instance_type = estimate_instance_type
        self.estimate_instances = estimate_instances
        self._init_remote(stop_margin, poll_min_s, poll_max_s)

    @classmethod
    def missing_access(cls, params: dict) -> str | None:
        return aws_session.missing_access(params)

    @classmethod
    def expected_billing(cls, params: dict, budget_s: float) -> tuple[list[dict], str]:
        return usage.expected(params, budget_s, TRANSFORM_S)

    # -- setup: the data into S3 -------------------------------------------------------------
    def _upload(self, X, y):
        why = aws_session.missing_access({"role_arn": self.role_arn, "bucket": self.bucket,
                                          "region": self.region})
        if why:
            raise AdapterError(why)
        self._sm = aws_session.client("sagemaker", self.region)
        self._s3 = aws_session.client("s3", self.region)
        self.job_name_ = f"ab-{uuid.uuid4().hex[:20]}"
        self._folder = f"{self.prefix.strip('/')}/{self.job_name_}"
        with self._creating("s3_prefix", f"s3://{self.bucket}/{self._folder}/",
                            region=self.region, bucket=self.bucket, prefix=self._folder + "/"):
            pass  # the folder exists once its first object does: recorded before any upload
        self._target = label_column(X.columns)
        train = X.assign(**{self._target: [f"c{int(c)}" for c in y]})
        self._put("train/train.csv", train, header=True)

    def _put(self, name: str, frame: pd.DataFrame, header: bool) -> str:
        buf = io.StringIO()
        frame.to_csv(buf, index=False, header=header)
        key = f"{self._folder}/{name}"
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=buf.getvalue().encode())
        return f"s3://{self.bucket}/{key}"

    # -- the search --------------------------------------------------------------------------
    def _submit(self):
        budget = max(1, int(self.time_limit))
        criteria = {"MaxAutoMLJobRuntimeInSeconds": budget,
                    "MaxRuntimePerTrainingJobInSeconds": budget,
                    "MaxCandidates": min(int(self.max_candidates or MAX_CANDIDATES),
                                         MAX_CANDIDATES)}  # fmt: skip
        config = {"TargetAttributeName": self._target, "Mode": self.mode,
                  "ProblemType": "BinaryClassification" if len(self.classes_) == 2
                  else "MulticlassClassification", "CompletionCriteria": criteria}  # fmt: skip
        request = dict(
            AutoMLJobName=self.job_name_,
            AutoMLJobInputDataConfig=[{
                "ChannelType": "training", "ContentType": "text/csv;header=present",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                               "S3Uri": f"s3://{self.bucket}/{self._folder}/train/"}}}],
            OutputDataConfig={"S3OutputPath": f"s3://{self.bucket}/{self._folder}/output/"},
            AutoMLProblemTypeConfig={"TabularJobConfig": config},
            RoleArn=self.role_arn,
        )  # fmt: skip
        if self.objective:
            request["AutoMLJobObjective"] = {"MetricName": self.objective}
        with self._creating("automl_job", self.job_name_, region=self.region):
            self._sm.create_auto_ml_job_v2(**request)

    def _poll(self):
        d = self._sm.describe_auto_ml_job_v2(AutoMLJobName=self.job_name_)
        self._described = d
        self.failure_ = d.get("FailureReason", "")
        return STATES[d["AutoMLJobStatus"]]

    def _stop(self):
        self._sm.stop_auto_ml_job(AutoMLJobName=self.job_name_)

    def _collect(self):
        best = self._described.get("BestCandidate")
        if not best:
            raise AdapterError(f"Autopilot job {self.job_name_} ended "
                               f"({self._described['AutoMLJobStatus']}, "
                               f"{self._described.get('AutoMLJobSecondaryStatus')}) without a "
                               "candidate")  # fmt: skip
        self._best = best
        self.best_model_ = best["CandidateName"]
        if self.stop_reason_ != "deadline" and "MaxAutoMLJobRuntimeReached" == \
                self._described.get("AutoMLJobSecondaryStatus"):  # fmt: skip
            self.stop_reason_ = "budget"
        candidates = usage.candidates(self._sm, self.job_name_)
        self.models_count_ = len(candidates)
        self.billed_usage_ = usage.billed(self._sm, candidates)
        self.leaderboard_ = usage.leaderboard(candidates)

    # -- prediction: a batch transform ------------------------------------------------------
    def _predict_remote(self, X):
        source = self._put("transform/test.csv", X[list(self.feature_names_in_)], header=False)
        name = self.job_name_
        with self._creating("model", name, region=self.region):
            self._sm.create_model(ModelName=name, ExecutionRoleArn=self.role_arn,
                                  Containers=_containers(self._best["InferenceContainers"]))
        output = f"s3://{self.bucket}/{self._folder}/transform-output/"
        with self._creating("transform_job", name, region=self.region):
            self._sm.create_transform_job(
                TransformJobName=name, ModelName=name,
                TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                "S3Uri": source}}, "ContentType": "text/csv",
                                "SplitType": "Line"},
                TransformOutput={"S3OutputPath": output, "Accept": "text/csv",
                                 "AssembleWith": "Line"},
                TransformResources={"InstanceType": self.transform_instance_type,
                                    "InstanceCount": 1})  # fmt: skip
        described = self._wait_transform(name)
        self.billed_usage_ = [*getattr(self, "billed_usage_", []), usage.transform(described)]
        body = self._s3.get_object(Bucket=self.bucket,
                                   Key=f"{self._folder}/transform-output/test.csv.out")["Body"]
        return read_probabilities(body.read().decode(), len(X), len(self.classes_))

    def _wait_transform(self, name: str) -> dict:
        wait = float(self.poll_min_s)
        while True:
            d = self._sm.describe_transform_job(TransformJobName=name)
            if d["TransformJobStatus"] == "Completed":
                return d
            if d["TransformJobStatus"] in ("Failed", "Stopped"):
                raise AdapterError(f"batch transform {name} {d['TransformJobStatus'].lower()}: "
                                   f"{d.get('FailureReason', 'no reason given')}")  # fmt: skip
            time.sleep(wait)
            wait = min(wait * 2, float(self.poll_max_s))


def _containers(containers: list[dict]) -> list[dict]:
    """The candidate's inference containers, asked to answer with labels and probabilities."""
    out = []
    for i, c in enumerate(containers):
        env = dict(c.get("Environment") or {})
        last = i == len(containers) - 1
        env["SAGEMAKER_INFERENCE_OUTPUT" if last else "SAGEMAKER_INFERENCE_INPUT"] = INFERENCE_KEYS
        out.append({"Image": c["Image"], "ModelDataUrl": c["ModelDataUrl"], "Environment": env})
    return out
