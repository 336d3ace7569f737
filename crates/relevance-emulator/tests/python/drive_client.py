"""Drives the emulator with the platform's own Python client (`relevanceai` 10.2.2).

Usage: drive_client.py BASE_URL

Calls `approve_task`, `rerun_task`, `schedule_action_in_task`, `retrieve_task`,
`tasks.get_metadata` and `tasks.delete_task` exactly as the client sends them, and lets
its pydantic models validate every answer it parses (PROTOCOL A7c, A10, A11). The
emulator must be seeded with `proj-py2` (see tests/python_client.rs) and scale a
scheduled minute to a millisecond. Prints one line per step; any failure is an
exception and exit status 1.
"""

import sys
import time

from relevanceai import RelevanceAI
from relevanceai.types.task import TaskView

REGION = "bcbe5a"
POLLS = 2000


def client_for(base_url):
    client = RelevanceAI(api_key="sk-test-py2-0001", region=REGION, project="proj-py2")
    # The client always aims at the hosted platform; point its HTTP client here instead.
    client._client.base_url = f"{base_url}/{REGION}/latest"
    return client


def settle(client, task_id):
    """Polls (bounded) until the task is neither starting up nor running."""
    for _ in range(POLLS):
        state = client._client.get(f"knowledge/sets/{task_id}/get_metadata").json()[
            "metadata"]["conversation"]["state"]
        if state not in ("starting-up", "running"):
            return state
        time.sleep(0.01)
    raise AssertionError(f"task {task_id} never settled")


def tool_runs(agent, task_id):
    view = agent.view_task_steps(task_id)
    assert isinstance(view, TaskView)
    return [step.content for step in view.results
            if getattr(step.content, "type", None) == "tool-run"]


def texts(agent, task_id):
    view = agent.view_task_steps(task_id)
    return [getattr(step.content, "text", None) for step in reversed(view.results)
            if getattr(step.content, "text", None) is not None]


def main():
    client = client_for(sys.argv[1])
    mailer = client.agents.retrieve_agent("mailer")

    triggered = mailer.trigger_task("launch")
    task_id = triggered.conversation_id
    assert settle(client, task_id) == "pending-approval"
    runs = tool_runs(mailer, task_id)
    assert runs[0].requires_confirmation and runs[0].tool_run_state.value == "pending", runs
    approved = mailer.approve_task(task_id)
    assert approved is not None and approved.conversation_id == task_id, approved
    assert settle(client, task_id) == "idle"
    runs = tool_runs(mailer, task_id)
    assert runs[0].tool_run_state.value == "finished", runs
    assert runs[0].confirmation.confirmed is True, runs
    print("approve_task: the waiting run ran and the task went on")

    rerun = mailer.rerun_task(task_id)
    assert rerun is not None and rerun.conversation_id == task_id, rerun
    assert settle(client, task_id) == "pending-approval"
    assert texts(mailer, task_id) == ["launch", "drafted launch"], texts(mailer, task_id)
    print("rerun_task: the task ran again from its trigger message")

    echo = client.agents.retrieve_agent("echo")
    echo_task = echo.trigger_task("first").conversation_id
    assert settle(client, echo_task) == "idle"
    scheduled = echo.schedule_action_in_task(echo_task, "later", 3)
    assert scheduled.trigger_id, scheduled
    for _ in range(POLLS):
        if "later" in texts(echo, echo_task):
            break
        time.sleep(0.01)
    else:
        raise AssertionError("the scheduled message never arrived")
    settle(client, echo_task)
    print("schedule_action_in_task: the message arrived")

    retrieved = echo.retrieve_task(echo_task)
    assert retrieved.knowledge_set == echo_task, retrieved
    metadata = client.tasks.get_metadata(echo_task)
    assert metadata.knowledge_set == echo_task, metadata
    print("retrieve_task and get_metadata: the models accept the task")

    assert client.tasks.delete_task(echo_task) is True
    gone = client._client.get(f"knowledge/sets/{echo_task}/get_metadata")
    assert gone.status_code == 404, gone.status_code
    assert all(task.knowledge_set != echo_task for task in echo.list_tasks())
    print("delete_task: the task is gone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
