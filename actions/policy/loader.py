"""Reading policy.yml: `load_policy()` and its errors, which name the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Union

import yaml
from pydantic import ValidationError

from actions.policy.schema import Policy

DEFAULT_POLICY_PATH = Path(__file__).with_name("policy.yml")


class PolicyError(ValueError):
    """The policy file cannot be used; the message names the file and the field."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice (the second would silently win)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Dict[Any, Any]:
        seen = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int)) and key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(f"{path}: no such policy file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(f"{path}: cannot be read ({error})") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise PolicyError(f"{path}: {where}{problem}") from None


def _describe(path: Path, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        field = " -> ".join(str(part) for part in item["loc"] if part != "__root__")
        lines.append(f"{path}: {field}: {item['msg']}" if field else f"{path}: {item['msg']}")
    return "\n".join(lines)


def load_policy(path: Union[Path, str, None] = None) -> Policy:
    """The policy in `path` (default: actions/policy/policy.yml); PolicyError names file and field."""
    path = Path(path) if path is not None else DEFAULT_POLICY_PATH
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}: the policy must be a mapping of sections (return_windows, texts, ...)")
    try:
        return Policy.parse_obj(raw)
    except ValidationError as error:
        raise PolicyError(_describe(path, error)) from None
