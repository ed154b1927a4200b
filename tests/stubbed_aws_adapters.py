"""TEST ADAPTERS: SageMaker Autopilot's real adapter, with the AWS services replaced inside
the job's worker by AWS's own test doubles (moto for S3, botocore's Stubber on the SageMaker
client, answers from tests/aws_doubles.py), so whole runs go through the harness without an
account. ``scenario``: ok (the lifecycle), fail (the service fails the job), hang (the job
never ends: the adapter stops it at its deadline and keeps waiting until the harness's hard
limit kills the worker)."""

from __future__ import annotations

import csv
import io

import aws_doubles as aws
import boto3
from botocore.stub import Stubber

from automl_bench_adapters import aws_session
from automl_bench_adapters.sagemaker_autopilot import SageMakerAutopilot


class StubbedAutopilot(SageMakerAutopilot):
    def __init__(self, time_limit=60.0, cores=1, memory_mb=None, seed=0, scratch_dir=None,
                 scenario="ok", **params):  # fmt: skip
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir, **params)
        self.scenario = scenario

    def _upload(self, X, y):
        from moto import mock_aws

        mock_aws().start()  # for the rest of this worker process
        s3 = boto3.client("s3", region_name=aws.REGION)
        s3.create_bucket(Bucket=aws.BUCKET)
        sm = boto3.client("sagemaker", region_name=aws.REGION)
        self._stubber = Stubber(sm)
        real = aws_session.client
        aws_session.client = (lambda service, region: sm if service == "sagemaker"
                              else real(service, region))  # fmt: skip
        sm.meta.events.register("before-parameter-build.sagemaker.CreateTransformJob",
                                lambda **kw: self._write_transform_output(s3))
        self._queue()
        self._stubber.activate()
        super()._upload(X, y)

    def _queue(self):
        st = self._stubber
        if self.scenario == "ok":
            aws.queue_search(st)
            aws.queue_predict(st)
        elif self.scenario == "fail":
            st.add_response("create_auto_ml_job_v2", {"AutoMLJobArn": "arn:aws:sagemaker:x"})
            st.add_response("describe_auto_ml_job_v2", aws.job_description(
                "job", "Failed", "Failed", failure="ClientError: the service failed the job"))
            aws.queue_release(st, transform=False, model=False, job_status="Failed")
        else:  # hang: the job is never done, even after the stop
            st.add_response("create_auto_ml_job_v2", {"AutoMLJobArn": "arn:aws:sagemaker:x"})
            for _ in range(2000):
                st.add_response("describe_auto_ml_job_v2",
                                aws.job_description("job", "InProgress", "Training"))
            st.add_response("stop_auto_ml_job", {})

    def _stop(self):
        # the Stubber answers in queue order: the stop goes where the queue has it
        q = self._stubber._queue
        stop = [x for x in q if x["operation_name"] == "StopAutoMLJob"]
        for x in stop:
            q.remove(x)
        if stop:
            q.appendleft(stop[0])
        super()._stop()

    def _write_transform_output(self, s3):
        body = s3.get_object(Bucket=self.bucket, Key=f"{self._folder}/transform/test.csv")
        rows = list(csv.reader(io.StringIO(body["Body"].read().decode())))
        k = len(self.classes_)
        out = aws.transform_output([[1.0 / k] * k for _ in rows], k)
        s3.put_object(Bucket=self.bucket, Key=f"{self._folder}/transform-output/test.csv.out",
                      Body=out.encode())
