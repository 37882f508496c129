"""The templates read as CloudFormation would read them, offline: the hub (template.yaml, SAM) and
a site (sites/site.yaml, plain CloudFormation: `load()` alone reads it, no transform).

`transform()` runs the real SAM transform (samtranslator) with local code paths replaced by S3
placeholders. `Resolver` evaluates the intrinsic functions for given parameter values and, when it
is told the physical ids and attributes of deployed resources, resolves Ref, Fn::GetAtt and Fn::Sub
to them: enough to create the rest of a stack by API calls, or to give a function its environment.
Given the exports of stacks already deployed (`imports`), it resolves Fn::ImportValue too. Fn::If
takes only the branch its condition picks (as CloudFormation does), and `AWS::NoValue` drops the
property, list item or map entry it stands in; Fn::FindInMap reads the template's Mappings.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any, cast
from unittest import mock

PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "detour",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
NO_VALUE = object()
SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Unresolved(LookupError):
    """A reference to something the resolver was not told about."""


def load(path: Path) -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415 - only the CLI and tests need it

    return cast("dict[str, Any]", yaml_parse(path.read_text()))  # samtranslator is untyped


def transform(template: dict[str, Any]) -> dict[str, Any]:
    """The SAM transform, offline: no S3 upload, no IAM look-up (our functions name no managed policy)."""
    from samtranslator.translator.transform import transform as sam_transform  # noqa: PLC0415

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://detour-artifacts/{props[key].strip('/')}.zip"
    # The transform reads the partition from boto3's region; the stack only deploys in us-east-1.
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": "us-east-1"}):
        return cast("dict[str, Any]", sam_transform(template, {}, NoManagedPolicies()))  # samtranslator is untyped


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}


class Resolver:
    """Just enough of CloudFormation's intrinsic functions to read and deploy this template."""

    def __init__(
        self,
        template: dict[str, Any],
        parameters: dict[str, str],
        *,
        pseudo: dict[str, str] | None = None,
        strict: bool = False,
        imports: dict[str, str] | None = None,
    ) -> None:
        self.template = template
        self.refs: dict[str, Any] = {**PSEUDO, **(pseudo or {}), **parameters}
        self.imports: dict[str, str] = dict(imports or {})  # export name -> value, for Fn::ImportValue
        self.attributes: dict[tuple[str, str], Any] = {}
        self.stand_ins: set[str] = set()  # resources played locally: any attribute gets a placeholder
        self.strict = strict  # raise on what is unknown, instead of leaving the intrinsic as it is

    def know(self, logical_id: str, ref: Any, **attributes: Any) -> None:
        """Record a deployed resource: what Ref gives, and its attributes (for Fn::GetAtt)."""
        self.refs[logical_id] = ref
        for name, value in attributes.items():
            self.attributes[(logical_id, name)] = value

    def stand_in(self, logical_id: str) -> None:
        """Record a resource that exists only as a local stand-in: Ref and every attribute resolve to
        recognisable placeholders."""
        self.refs[logical_id] = f"local-{logical_id}"
        self.stand_ins.add(logical_id)

    def condition(self, name: str) -> bool:
        return bool(self.value(self.template["Conditions"][name]))

    def included(self, logical_id: str) -> bool:
        resource = self.template["Resources"][logical_id]
        return "Condition" not in resource or self.condition(resource["Condition"])

    def resource(self, logical_id: str) -> dict[str, Any] | None:
        """The resource's properties as deployed, or None if its Condition leaves it out."""
        if not self.included(logical_id):
            return None
        properties: dict[str, Any] = self.value(self.template["Resources"][logical_id].get("Properties", {}))
        return properties

    def value(self, node: Any) -> Any:  # noqa: PLR0911, PLR0912 - one branch per intrinsic
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._attribute(logical_id, attribute)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::ImportValue":
                return self._import(arg)
            if key == "Fn::If":
                name, yes, no = arg
                return self.value(yes if self.condition(name) else no)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Equals":
                left, right = (self.value(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.value(arg[0])
            if key == "Fn::And":
                return all(self.value(a) for a in arg)
            if key == "Fn::Or":
                return any(self.value(a) for a in arg)
            if key == "Fn::Split":
                return str(self.value(arg[1])).split(arg[0])
            if key == "Fn::Join":
                return str(arg[0]).join(str(v) for v in self.value(arg[1]))
            if key == "Fn::Select":
                return self.value(arg[1])[int(self.value(arg[0]))]
            if key == "Fn::FindInMap":
                return self._find_in_map(arg)
        return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not NO_VALUE}

    def failed_rules(self) -> list[str]:
        """The AssertDescription of every rule assertion these parameters break."""
        failures = []
        for rule in self.template.get("Rules", {}).values():
            if "RuleCondition" in rule and not self.value(rule["RuleCondition"]):
                continue
            failures += [a["AssertDescription"] for a in rule["Assertions"] if not self.value(a["Assert"])]
        return failures

    def references(self, node: Any) -> set[str]:
        """The logical ids a piece of template refers to (Ref, Fn::GetAtt, ${...} in Fn::Sub)."""
        found: set[str] = set()
        if isinstance(node, list):
            for item in node:
                found |= self.references(item)
        elif isinstance(node, dict):
            for key, arg in node.items():
                if key == "Ref" and isinstance(arg, str):
                    found.add(arg)
                elif key == "Fn::GetAtt":
                    found.add(arg[0] if isinstance(arg, list) else arg.split(".", 1)[0])
                elif key == "Fn::Sub":
                    text = arg if isinstance(arg, str) else arg[0]
                    found |= {name.split(".", 1)[0] for name in SUB_VARIABLE.findall(text)}
                    found |= self.references(arg[1] if isinstance(arg, list) else [])
                else:
                    found |= self.references(arg)
        return {name for name in found if name in self.template.get("Resources", {})}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.refs:
            return self.refs[name]
        if self.strict:
            raise Unresolved(f"Ref {name}: not deployed (yet)")
        return {"Ref": name}

    def _find_in_map(self, arg: Any) -> Any:
        """Mappings[name][top][second]; a key that is not there fails the deploy in CloudFormation."""
        name, top, second = (self.value(part) for part in arg[:3])
        try:
            return copy.deepcopy(self.template["Mappings"][name][str(top)][str(second)])
        except (KeyError, TypeError):
            if self.strict or not any(isinstance(part, dict) for part in (name, top, second)):
                raise Unresolved(f"Fn::FindInMap [{name}, {top}, {second}]: no such entry") from None
            return {"Fn::FindInMap": [name, top, second]}

    def _import(self, arg: Any) -> Any:
        name = self.value(arg)
        if isinstance(name, str) and name in self.imports:
            return self.imports[name]
        if self.strict:
            raise Unresolved(f"Fn::ImportValue {name}: no such export (is the stack that exports it deployed?)")
        return {"Fn::ImportValue": arg}

    def _attribute(self, logical_id: str, attribute: str) -> Any:
        if (logical_id, attribute) in self.attributes:
            return self.attributes[(logical_id, attribute)]
        if logical_id in self.stand_ins:
            return f"local-{logical_id}-{attribute}"
        if self.strict:
            raise Unresolved(f"Fn::GetAtt {logical_id}.{attribute}: not deployed (yet)")
        return {"Fn::GetAtt": [logical_id, attribute]}

    def _sub(self, arg: Any) -> Any:
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return str(local[name])
            value = self._attribute(*name.split(".", 1)) if "." in name else self._ref(name)
            if isinstance(value, dict):
                raise Unresolved(f"Fn::Sub ${{{name}}}: not deployed (yet)")
            return str(value)

        try:
            return SUB_VARIABLE.sub(replace, text).replace("${!", "${")
        except Unresolved:
            if self.strict:
                raise
            return {"Fn::Sub": arg}
