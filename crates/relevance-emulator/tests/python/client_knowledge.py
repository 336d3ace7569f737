"""Drives the platform's own Python client against the emulator: knowledge (PROTOCOL A16).

Usage: client_knowledge.py BASE_URL PROJECT API_KEY AGENT_ID TASK_ID

TASK_ID is a finished task of AGENT_ID (the Rust test made it). The client `relevanceai`
10.2.2 has no call that adds rows, so rows are added with the same httpx client it uses;
then `list_knowledge`, `retrieve_knowledge` and `delete_knowledge` run as a user runs them,
and the answers of the docs' "List conversations" reads (hidden sets, a conversation's
rows) are parsed with the client's own models (`KnowledgeSet`, `KnowledgeRow`). Any failed
check raises: the exit status is non-zero.
"""

import sys

import httpx
from relevanceai import RelevanceAI
from relevanceai.types.knowledge import KnowledgeRow, KnowledgeSet


def point_at(client, base_url):
    headers = {"Authorization": f"{client.project}:{client.api_key}"}
    client._client = httpx.Client(base_url=base_url, headers=headers)
    return client


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def post(client, path, body):
    response = client._client.post(path, json=body)
    check(response.status_code == 200, f"{path}: {response.status_code} {response.text}")
    return response.json()


def add_rows(client):
    rows = [
        {"type": "document", "document_id": f"faq-{n}", "value": {"question": f"q{n}", "n": n}}
        for n in range(6)
    ]
    post(client, "knowledge/add", {"knowledge_set": "faq", "data": rows})
    post(client, "knowledge/add", {"knowledge_set": "notes", "data": [{"type": "text", "value": "hi"}]})


def conversations(client, agent_id, task_id):
    filters = [
        {"filter_type": "exact_match", "field": "type", "condition_value": "conversation"},
        {"filter_type": "exact_match", "field": "conversation.agent_id", "condition_value": agent_id},
    ]
    found = post(client, "knowledge/sets/list", {"filters": filters, "include_hidden": True})
    sets = [KnowledgeSet(**item) for item in found["results"]]
    check([s.knowledge_set for s in sets] == [task_id], f"conversations: {sets}")
    check(sets[0].metadata.conversation.agent_id == agent_id, f"metadata: {sets[0].metadata}")
    rows = post(client, "knowledge/list", {
        "knowledge_set": task_id, "filters": [], "sort": [{"insert_date_": "desc"}]})
    parsed = [KnowledgeRow(**item) for item in rows["results"]]
    roles = [row.data["message"]["role"] for row in parsed]
    check(roles == ["agent", "user"], f"conversation roles, newest first: {roles}")
    retrieved = client.knowledge.retrieve_knowledge(task_id, max_results=10)
    check([row.data["message"]["role"] for row in retrieved] == ["user", "agent"],
          f"retrieve_knowledge of a conversation: {retrieved}")


def main(base_url, project, key, agent_id, task_id):
    client = point_at(RelevanceAI(api_key=key, region="bcbe5a", project=project), base_url)
    add_rows(client)

    sets = client.knowledge.list_knowledge()
    names = sorted(s.knowledge_set for s in sets)
    check(names == ["faq", "notes"], f"list_knowledge (conversations stay hidden): {names}")
    faq = next(s for s in sets if s.knowledge_set == "faq")
    check(faq.knowledge_count == 6 and faq.metadata.project == project, f"faq: {faq!r} {faq.metadata}")

    rows = client.knowledge.retrieve_knowledge("faq", max_results=3)
    check([row.document_id for row in rows] == ["faq-0", "faq-1", "faq-2"], f"retrieve: {rows}")
    check(rows[0].data == {"question": "q0", "n": 0}, f"row data: {rows[0].data}")
    check(rows[0].field_id == "faq-0" and rows[0].knowledge_set == "faq", f"row: {rows[0]}")

    conversations(client, agent_id, task_id)

    check(client.knowledge.delete_knowledge("faq") is True, "delete_knowledge")
    names = [s.knowledge_set for s in client.knowledge.list_knowledge()]
    check(names == ["notes"], f"after delete_knowledge: {names}")
    check(client.knowledge.delete_knowledge(task_id) is True, "delete_knowledge of a conversation")
    gone = client._client.get(f"agents/{agent_id}/tasks/{task_id}/metadata")
    check(gone.status_code == 404, f"the deleted task: {gone.status_code}")
    print("ok: list_knowledge, retrieve_knowledge, delete_knowledge")


if __name__ == "__main__":
    main(*sys.argv[1:6])
