#!/usr/bin/env python3
"""An independent reading of the synthesized CloudFormation template (cdk synth's output): it
shares no code with the CDK app or its tests, so a mistake in the app's own helpers cannot hide
from it. Prints one "ok"/"FAIL" line per check and exits non-zero when any failed.

    check_template.py CDK_OUT_DIR
"""
import base64
import glob
import json
import sys


def load(out):
    templates = glob.glob(f"{out}/*.template.json")
    if len(templates) != 1:
        sys.exit(f"FAIL expected one template in {out}, found {templates}")
    with open(templates[0]) as f:
        return json.load(f)


def listed(value):
    return value if isinstance(value, list) else [value]


def text(value):
    """A CloudFormation value as text: Fn::Join flattened, references as ${Name}."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            return sep.join(text(p) for p in parts)
        if "Fn::Base64" in value:
            return text(value["Fn::Base64"])
        if "Ref" in value:
            return "${" + value["Ref"] + "}"
        if "Fn::GetAtt" in value:
            return "${" + ".".join(value["Fn::GetAtt"]) + "}"
        if "Fn::Sub" in value:
            return text(value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0])
    return json.dumps(value)


def resources(template, kind):
    return [(name, r.get("Properties", {})) for name, r in template["Resources"].items() if r["Type"] == kind]


def statements(template):
    """(roles, statement) for every identity policy statement."""
    for _, props in resources(template, "AWS::IAM::Policy"):
        roles = [r.get("Ref") for r in props.get("Roles", [])]
        for s in listed(props["PolicyDocument"]["Statement"]):
            yield roles, s


def main():
    template = load(sys.argv[1])
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    # IMDS: v2 only, one hop, on every launch template, and the master uses one.
    lts = resources(template, "AWS::EC2::LaunchTemplate")
    check(lts and all(p["LaunchTemplateData"].get("MetadataOptions", {}).get("HttpTokens") == "required"
                      and p["LaunchTemplateData"].get("MetadataOptions", {}).get("HttpPutResponseHopLimit") == 1 for _, p in lts),
          f"every launch template ({len(lts)}) requires IMDSv2 with a hop limit of 1")
    instances = resources(template, "AWS::EC2::Instance")
    check(instances and all("LaunchTemplate" in p for _, p in instances), "every instance (the master) launches with a launch template")

    allowed = [(roles, s) for roles, s in statements(template) if s.get("Effect") == "Allow"]
    check(not [s for _, s in allowed if any(a in ("*", "ec2:*", "iam:*", "ssm:*") for a in listed(s["Action"]))], "no statement allows *, ec2:*, iam:* or ssm:*")

    run = [s for _, s in allowed if "ec2:RunInstances" in listed(s["Action"])]
    check(run and not [s for s in run if "*" in listed(s["Resource"])], "ec2:RunInstances is never granted on *")
    on_instances = [s for s in run if any(":instance/" in text(r) for r in listed(s["Resource"]))]
    check(len(on_instances) == 1 and "ec2:LaunchTemplate" in on_instances[0].get("Condition", {}).get("ArnEquals", {})
          and "ec2:InstanceType" in on_instances[0]["Condition"].get("StringEquals", {})
          and on_instances[0]["Condition"].get("Null", {}).get("aws:RequestTag/nodefleet.io/role") == "true",
          "a launched instance must come from our launch template, be one of our types and not carry the role tag")
    check(all(s.get("Condition", {}).get("ArnEquals", {}).get("ec2:LaunchTemplate") for s in run
              if not any(":subnet/" in text(r) or ":launch-template/" in text(r) for r in listed(s["Resource"]))),
          "every other RunInstances resource is conditioned on our launch template")

    terminate = [s for _, s in allowed if "ec2:TerminateInstances" in listed(s["Action"])]
    check(terminate and all(s.get("Condition", {}).get("Null", {}).get("aws:ResourceTag/nodefleet.io/role") == "true"
                            and s["Condition"].get("StringEquals", {}).get("aws:ResourceTag/nodefleet.io/managed") == "true" for s in terminate),
          f"every TerminateInstances grant ({len(terminate)}) needs the managed tag and refuses the role tag")

    # Who may start executions: roles EventBridge or Pipes assume, nobody else.
    trusted = {name for name, p in resources(template, "AWS::IAM::Role")
               if any(svc in json.dumps(p.get("AssumeRolePolicyDocument", {})) for svc in ("events.amazonaws.com", "pipes.amazonaws.com"))}
    starters = {r for roles, s in allowed if "states:StartExecution" in listed(s["Action"]) for r in roles}
    check(starters and starters <= trusted, f"states:StartExecution only for the rules' and the pipe's roles ({sorted(starters)})")

    # Network: no ingress from a CIDR besides an operator's SSH range.
    ingress = [p for _, p in resources(template, "AWS::EC2::SecurityGroupIngress")]
    ingress += [rule for _, p in resources(template, "AWS::EC2::SecurityGroup") for rule in p.get("SecurityGroupIngress", [])]
    open_rules = [r for r in ingress if "CidrIp" in r and not (r.get("FromPort") == 22 and r.get("ToPort") == 22)]
    check(not open_rules, "no security group admits a CIDR (only security groups; SSH only when sshCidr is set)")

    # User data: the agent token from the environment, the pinned install script, no server token.
    user_data = [text(p["UserData"]) for _, p in instances] + [text(p["LaunchTemplateData"]["UserData"]) for _, p in lts if "UserData" in p["LaunchTemplateData"]]
    joined = "\n".join(user_data)
    check(len(user_data) == 2, "the master and the worker launch template carry user data")
    check("get.k3s.io" not in joined and "raw.githubusercontent.com/k3s-io/k3s/" in joined, "K3s comes from its release's pinned install script")
    check("--agent-token" not in joined and "--token" not in joined and "K3S_AGENT_TOKEN=" in joined, "the agent token reaches K3s through its environment, never an argument")
    check("/var/lib/rancher/k3s/server/token" not in joined and "service-account-token" not in joined, "the server token never leaves the master; no legacy ServiceAccount token secret")
    check(all(len(base64.b64encode(u.encode())) <= 4 * ((16 * 1024 + 2) // 3) for u in user_data), "user data fits EC2's 16 KB")

    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
