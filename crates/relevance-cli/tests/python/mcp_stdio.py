"""Drives `relevance mcp` over stdio with the official MCP Python SDK, as a host would.

Usage: mcp_stdio.py BINARY BASE_URL PROJECT API_KEY KEY_FILE PARAMS_SCHEMA_JSON

With the API key (given through the environment, as a host configuration does): initialize,
list the tools (the seeded tool's inputSchema is its params_schema), ask_agent gets the
scripted reply, the project tool runs, bad params are an error result naming the param, an
unknown agent is an error result, a key the platform does not know is an error result. With
the embed key file: only its agent is listed and reachable, no project tool is listed. No
output (results, notifications, stderr) contains the API key. Prints "ok: ..." at the end;
any failed check raises.
"""

import asyncio
import json
import sys
import tempfile

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

FIXED = {
    "list_agents", "ask_agent", "decide_tool_run", "list_tasks", "read_task",
    "list_knowledge_sets", "read_knowledge",
}


class Session:
    """One `relevance mcp` process and everything it said."""

    def __init__(self, binary, args, env):
        self.params = StdioServerParameters(command=binary, args=["mcp", *args], env=env)
        self.seen = []  # every result and notification, as text
        self.broken = []  # stdout lines that were not MCP messages

    async def handle(self, message):
        if isinstance(message, Exception):
            self.broken.append(repr(message))
        else:
            self.seen.append(repr(message))

    async def call(self, session, name, arguments):
        result = await session.call_tool(name, arguments)
        self.seen.append(result.model_dump_json())
        return result


def text_of(result):
    return "\n".join(c.text for c in result.content if getattr(c, "text", None) is not None)


def check(condition, what):
    if not condition:
        raise AssertionError(what)


async def with_api_key(binary, base_url, project, api_key, schema, errlog):
    env = {
        "RELEVANCE_API_KEY": api_key, "RELEVANCE_PROJECT": project,
        "RELEVANCE_REGION": "us", "RELEVANCE_BASE_URL": base_url,
    }
    run = Session(binary, [], env)
    async with stdio_client(run.params, errlog=errlog) as (read, write):
        async with ClientSession(read, write, message_handler=run.handle) as session:
            init = await session.initialize()
            check(init.server_info.name == "relevance", f"server info: {init.server_info}")
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            run.seen.append(repr(tools))
            check(FIXED <= set(tools), f"fixed tools: {sorted(tools)}")
            check("weather" in tools, f"the project tool: {sorted(tools)}")
            check(tools["weather"].input_schema == schema,
                  f"inputSchema {tools['weather'].input_schema} != {schema}")
            check(tools["weather"].description == "The forecast for a city", "description")

            asked = await run.call(session, "ask_agent", {"agent_id": "echo", "message": "hello"})
            check(not asked.is_error, f"ask_agent: {text_of(asked)}")
            check("re: hello" in text_of(asked), f"ask_agent reply: {text_of(asked)}")
            check(asked.structured_content["reply"] == "re: hello", f"{asked.structured_content}")

            ran = await run.call(session, "weather", {"city": "Oslo"})
            check(not ran.is_error, f"weather: {text_of(ran)}")
            check(ran.structured_content == {"forecast": "sunny in Oslo"}, f"{ran.structured_content}")

            for bad in [{"city": 5}, {}]:
                failed = await run.call(session, "weather", bad)
                check(failed.is_error, f"weather {bad} is an error: {text_of(failed)}")
                check("city" in text_of(failed), f"the error names the param: {text_of(failed)}")
            wrong = await run.call(session, "ask_agent", {"agent_id": "echo"})
            check(wrong.is_error and "message" in text_of(wrong), f"missing argument: {text_of(wrong)}")

            unknown = await run.call(session, "ask_agent", {"agent_id": "nobody", "message": "hi"})
            check(unknown.is_error, f"unknown agent is an error: {text_of(unknown)}")
            check("unknown agent" in text_of(unknown), f"says so: {text_of(unknown)}")
    check(not run.broken, f"stdout carried something else than MCP: {run.broken}")
    return run


async def with_a_wrong_key(binary, base_url, project, errlog):
    env = {
        "RELEVANCE_API_KEY": "sk-not-a-key-of-this-project", "RELEVANCE_PROJECT": project,
        "RELEVANCE_REGION": "us", "RELEVANCE_BASE_URL": base_url,
    }
    run = Session(binary, [], env)
    async with stdio_client(run.params, errlog=errlog) as (read, write):
        async with ClientSession(read, write, message_handler=run.handle) as session:
            await session.initialize()
            listed = await run.call(session, "list_agents", {})
            check(listed.is_error, f"a wrong key is an error: {text_of(listed)}")
            check("key is not valid" in text_of(listed), f"says so: {text_of(listed)}")
    return run


async def with_embed_key(binary, base_url, key_file, errlog):
    run = Session(binary, ["--key-file", key_file, "--base-url", base_url], {})
    async with stdio_client(run.params, errlog=errlog) as (read, write):
        async with ClientSession(read, write, message_handler=run.handle) as session:
            await session.initialize()
            names = {tool.name for tool in (await session.list_tools()).tools}
            check("weather" not in names, f"no project tool for an embed key: {sorted(names)}")
            check("list_knowledge_sets" not in names, f"no knowledge: {sorted(names)}")
            check({"list_agents", "ask_agent"} <= names, f"the agent tools: {sorted(names)}")
            listed = await run.call(session, "list_agents", {})
            ids = [agent["id"] for agent in listed.structured_content["agents"]]
            check(ids == ["echo"], f"only its agent: {ids}")
            asked = await run.call(session, "ask_agent", {"agent_id": "echo", "message": "hi"})
            check(not asked.is_error and "re: hi" in text_of(asked), f"its agent: {text_of(asked)}")
            other = await run.call(session, "ask_agent", {"agent_id": "private", "message": "hi"})
            check(other.is_error, f"another agent is an error: {text_of(other)}")
            check("unknown agent" in text_of(other), f"says so: {text_of(other)}")
    check(not run.broken, f"stdout carried something else than MCP: {run.broken}")
    return run


async def main():
    binary, base_url, project, api_key, key_file, schema = sys.argv[1:7]
    schema = json.loads(schema)
    with tempfile.TemporaryFile("w+") as errlog:
        runs = [
            await with_api_key(binary, base_url, project, api_key, schema, errlog),
            await with_a_wrong_key(binary, base_url, project, errlog),
            await with_embed_key(binary, base_url, key_file, errlog),
        ]
        errlog.seek(0)
        stderr = errlog.read()
    check("relevance mcp: serving" in stderr, f"the start-up line on stderr: {stderr!r}")
    everything = stderr + "".join("".join(run.seen) for run in runs)
    check(api_key not in everything, "the API key appears in the output")
    print(f"ok: {sum(len(run.seen) for run in runs)} results and notifications checked")


asyncio.run(main())
