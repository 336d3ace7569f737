"""Validates saved emulator answers with the platform's own pydantic models.

Usage: check_models.py DIR

The Python client `relevanceai` (PyPI, 10.2.2) ships the platform's API models and refuses
an answer that breaks them (PROTOCOL A7c), so they are the judge of the emulator's
answers. Each `*.json` file in DIR is one raw answer; its name says what it is:

    view-*      POST agents/{a}/tasks/{t}/view          -> TaskView
    list-*      GET agents/conversations/list           -> Task, for each result
    trigger-*   POST agents/trigger                     -> TriggeredTask
    metadata-*  GET agents/{a}/tasks/{t}/metadata       -> TaskMetadata of "metadata"
    agent-*     GET agents/{a}/get                      -> AgentType of "agent"
    agents-*    POST agents/list                        -> AgentType, for each result

Every validation error is printed; the exit status is 1 if there was any (or if a file
has an unknown kind), 0 otherwise.
"""

import json
import pathlib
import sys

from pydantic import ValidationError
from relevanceai.types.agent import AgentType
from relevanceai.types.task import Task, TaskMetadata, TaskView, TriggeredTask


def items(kind, answer):
    """(label, model, value) for each thing the file holds."""
    if kind == "view":
        return [("", TaskView, answer)]
    if kind == "list":
        return [(f"results[{i}]", Task, item) for i, item in enumerate(answer["results"])]
    if kind == "trigger":
        return [("", TriggeredTask, answer)]
    if kind == "metadata":
        return [("metadata", TaskMetadata, answer["metadata"])]
    if kind == "agent":
        return [("agent", AgentType, answer["agent"])]
    if kind == "agents":
        return [(f"results[{i}]", AgentType, item) for i, item in enumerate(answer["results"])]
    raise KeyError(kind)


def main():
    directory = pathlib.Path(sys.argv[1])
    files = sorted(directory.glob("*.json"))
    errors = 0
    checked = 0
    for path in files:
        kind = path.name.split("-", 1)[0]
        answer = json.loads(path.read_text())
        try:
            entries = items(kind, answer)
        except (KeyError, TypeError) as problem:
            print(f"{path.name}: cannot read a {kind!r} answer: {problem!r}")
            errors += 1
            continue
        for label, model, value in entries:
            checked += 1
            try:
                model.model_validate(value)
            except ValidationError as error:
                for detail in error.errors():
                    location = ".".join(str(part) for part in detail["loc"])
                    print(
                        f"{path.name} {label} as {model.__name__}: {location}: "
                        f"{detail['msg']} (got {detail.get('input')!r:.200})"
                    )
                    errors += 1
    print(f"checked {checked} answers in {len(files)} files: {errors} validation errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
