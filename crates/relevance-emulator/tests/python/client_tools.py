"""Drives the platform's own Python client against the emulator: tools and agent management.

Usage: client_tools.py BASE_URL PROJECT API_KEY

BASE_URL is the emulator's region base (`http://127.0.0.1:PORT/bcbe5a/latest`). The client
`relevanceai` 10.2.2 always talks to the hosted URL, so its inner httpx client is swapped
for one pointed at the emulator (same headers). Every call parses the answer with the
client's own pydantic models (ToolType, ToolOutput, AgentType), so an answer that breaks
them fails here. Any failed check raises: the exit status is non-zero.

The sync client's `create_tool` puts a `uuid.UUID` into its JSON body, which httpx cannot
serialise (a bug of the client, whatever the server); the async client sends a string,
so `create_tool` runs through `AsyncRelevanceAI`.
"""

import asyncio
import sys

import httpx
from relevanceai import AsyncRelevanceAI, RelevanceAI
from relevanceai.types.tool import Status


def point_at(client, base_url, asynchronous=False):
    headers = {"Authorization": f"{client.project}:{client.api_key}"}
    kind = httpx.AsyncClient if asynchronous else httpx.Client
    client._client = kind(base_url=base_url, headers=headers)
    return client


def check(condition, what):
    if not condition:
        raise AssertionError(what)


async def create_tool(base_url, project, key):
    client = point_at(
        AsyncRelevanceAI(api_key=key, region="bcbe5a", project=project), base_url, True
    )
    tool = await client.tools.create_tool(title="Made by Python", description="from the client")
    await client._client.aclose()
    return tool.tool_id


def main(base_url, project, key):
    client = point_at(RelevanceAI(api_key=key, region="bcbe5a", project=project), base_url)
    tools = client.tools.list_tools()
    ids = [tool.tool_id for tool in tools]
    check("weather" in ids, f"list_tools: {ids}")

    weather = client.tools.retrieve_tool("weather")
    check(weather.metadata.title == "Weather", f"retrieve_tool: {weather.metadata}")

    good = weather.trigger({"city": "Oslo"})
    check(good.status == Status.complete, f"trigger: {good}")
    check(good.output == {"forecast": "sunny in Oslo"}, f"trigger output: {good.output}")
    bad = weather.trigger({"city": 3, "extra": 1})
    check(bad.status == Status.failed, f"bad trigger: {bad}")
    check(len(bad.errors) == 2, f"bad trigger errors: {bad.errors}")

    made = asyncio.run(create_tool(base_url, project, key))
    check(made in [t.tool_id for t in client.tools.list_tools()], "create_tool: not listed")
    copy = client.tools.clone_tool(made)
    check(copy and copy.tool_id != made, f"clone_tool: {copy}")
    check(copy.metadata.metadata.source_studio_id == made, "clone_tool: no source")
    check(client.tools.delete_tool(made), "delete_tool")
    listed = [t.tool_id for t in client.tools.list_tools()]
    check(made not in listed and copy.tool_id in listed, f"after delete_tool: {listed}")

    agent = client.agents.retrieve_agent("forecaster")
    agent_tools = [tool.tool_id for tool in agent.list_tools()]
    check(agent_tools == ["weather"], f"agent.list_tools: {agent_tools}")
    subagents = [tool.tool_id for tool in agent.list_subagents()]
    check(subagents == ["helper"], f"agent.list_subagents: {subagents}")

    created = client.agents.create_agent(name="Python agent", system_prompt="Be brief")
    check(created.metadata.name == "Python agent", f"create_agent: {created.metadata}")
    check(created.metadata.system_prompt == "Be brief", "create_agent: system_prompt")
    renamed = client.agents.upsert_agent(agent_id=created.agent_id, name="Renamed", temperature=1)
    check(renamed.metadata.name == "Renamed", f"upsert_agent: {renamed.metadata}")
    check(renamed.metadata.system_prompt == "Be brief", "upsert_agent kept system_prompt")
    check(client.agents.delete_agent(created.agent_id), "delete_agent")
    remaining = [a.agent_id for a in client.agents.list_agents()]
    check(created.agent_id not in remaining, f"after delete_agent: {remaining}")
    print("ok: every call answered and every answer fits the client's models")


if __name__ == "__main__":
    main(*sys.argv[1:4])
