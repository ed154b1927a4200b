"""AWS access for the remote adapters: clients from boto3's standard credential chain
(environment, shared profiles, SSO, container and instance roles), never from a file of ours,
with short connect timeouts and few retries so that an unreachable service fails in seconds
instead of hanging a job. Nothing here reads, prints or stores a credential.
"""

from __future__ import annotations

import importlib.util

# connect: seconds to reach the endpoint; read: seconds to wait for an answer (SageMaker's
# Describe* calls answer in well under a second); standard retry mode, 3 attempts in all
CONFIG = {"connect_timeout": 5, "read_timeout": 60,
          "retries": {"max_attempts": 3, "mode": "standard"}}  # fmt: skip


def client(service: str, region: str | None):
    """A boto3 client for ``service`` in ``region`` with :data:`CONFIG`."""
    import boto3
    from botocore.config import Config

    return boto3.Session(region_name=region).client(service, config=Config(**CONFIG))


def missing_access(params: dict, needed: tuple[str, ...] = ("role_arn", "bucket")) -> str | None:
    """Why a job with the definition's ``params`` cannot reach AWS (None: it can try): boto3
    not installed, no credentials in boto3's chain, or a parameter in ``needed`` not set.
    Looks at the chain only (no call to any AWS service is made)."""
    if importlib.util.find_spec("boto3") is None:
        return "boto3 is not installed: pip install -e '.[aws]'"
    import boto3

    missing = []
    session = boto3.Session(region_name=params.get("region") or None)
    if session.get_credentials() is None:
        missing.append("no AWS credentials (boto3 found none in its chain: environment "
                       "variables, ~/.aws profiles, SSO, container or instance role)")  # fmt: skip
    if not (params.get("region") or session.region_name):
        missing.append("no region (set params.region in the definition or AWS_REGION)")
    labels = {"role_arn": "no role (set params.role_arn: an IAM role SageMaker can assume)",
              "bucket": "no bucket (set params.bucket: an S3 bucket for the data)"}  # fmt: skip
    missing += [labels.get(p, f"no {p}") for p in needed if not params.get(p)]
    return "; ".join(missing) or None
