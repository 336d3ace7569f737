"""The platform docs' two Python flows, as the docs write them, against the emulator.

* "Conversation API for Agents" (build/agents/extend-your-agent/conversation.mdx):
  trigger, poll the job until `chain-success`, continue, list the messages with
  `knowledge/list`, confirm the waiting tool run from its `action-request` row.
* "Asynchronous execution" (build/tools/api/long-running-tools.mdx): `trigger_async`,
  then `async_poll?ending_update_only=true` every 3 seconds until complete or failed.

Differences from the docs' text, and why: the base URL is the emulator's (the docs'
`https://api-{region}.stack.tryrelevance.com/latest`, here with the trailing `/` that their
`base_url + "agents/trigger"` needs; their `base_url + f"/studios/..."` then has `//`,
which the platform and the emulator both accept); `import time` is added to the first
snippet that uses it and the missing comma after `"agent_id": agent_id` in the confirm
snippet is put back (both are typos in the docs); the continue step's job is polled with
the docs' own loop before the messages are listed (the docs list them right away, which on
any platform races the agent); the polls sleep 0.2 s instead of 3 s (the emulator's
long poll answers when the job moves, so the sleep only paces the loop).

Prints one line per step (`ok <step>`), and exits non-zero at the first failing step.
"""

import json
import sys

EMULATOR, project_id, api_key, region, agent_id, tool_id = sys.argv[1:7]
POLL_SLEEP = 0.2

# --- API authorization set up (the docs' snippet; the base URL is the emulator's) -----
authorization_token = f"{project_id}:{api_key}"
base_url = f"{EMULATOR}/{region}/latest/"
url = base_url
headers = {
    "Authorization": authorization_token,
}


def step(name, ok, detail=""):
    if not ok:
        print(f"FAILED {name}: {detail}")
        sys.exit(1)
    print(f"ok {name}")


# --- Trigger an agent / Start a conversation ------------------------------------------
import requests

trigger_response = requests.post(
  url + "/agents/trigger",
  headers=headers,
  json={
    "message":{
      "role":"user",
      "content":"Hello"
    },
    "agent_id":agent_id
  }
)

job = trigger_response.json()
step("trigger", trigger_response.status_code == 200 and "job_info" in job, trigger_response.text)

# --- Poll the job for updates and replies from the agent ------------------------------
import time
studio_id = job["job_info"]["studio_id"]
job_id = job["job_info"]["job_id"]

done = False
status = None

for _ in range(300):
    if done:
        break
    response = requests.get(
      base_url + f"/studios/{studio_id}/async_poll/{job_id}",
      headers=headers
    )

    status = response.json()

    for update in status['updates']:
      if update['type'] == "chain-success":
        done = True

    if done:
      break

    time.sleep(POLL_SLEEP)
step("poll until chain-success", done, json.dumps(status))
answers = [u["output"]["output"]["answer"] for u in status["updates"] if u["type"] == "chain-success"]
step("read the reply from output.output.answer", answers and answers[-1] != "", json.dumps(status))

# --- Continue the conversation ---------------------------------------------------------
conversation_id = job["job_info"]["conversation_id"]

reply_response = requests.post(
  base_url + "agents/trigger",
  headers=headers,
  json={
    "message": {
      "role": "user",
      "content": "Hello again"
    },
    "agent_id": agent_id,
    "conversation_id": conversation_id
  }
)
reply_response.json()
continued = reply_response.json()
step("continue", reply_response.status_code == 200 and continued["conversation_id"] == conversation_id, reply_response.text)

# The continue's job, polled with the docs' loop before the messages are read.
studio_id = continued["job_info"]["studio_id"]
job_id = continued["job_info"]["job_id"]
done = False
for _ in range(300):
    response = requests.get(base_url + f"/studios/{studio_id}/async_poll/{job_id}", headers=headers)
    status = response.json()
    for update in status['updates']:
      if update['type'] == "chain-success":
        done = True
    if done:
      break
    time.sleep(POLL_SLEEP)
step("poll the continue's job", done, json.dumps(status))

# --- List messages in a conversation -----------------------------------------------------
messages = requests.post(base_url + "knowledge/list", headers=headers, json={
  "knowledge_set": conversation_id,
  "page_size": 20,
  "sort": [
    {
      "insert_date_": "desc"
    }
  ]
}).json()['results']
roles = [m["data"]["message"]["role"] for m in messages]
step("list messages newest first", roles and roles[-1] == "user" and "agent" in roles, json.dumps(roles))

# --- Confirm or reject a tool run ---------------------------------------------------------
action_request_message = messages[0]['data']['message']
action = action_request_message['action']
action_request_id = action_request_message['action_request_id']

reply_response = requests.post(
  base_url + "agents/trigger",
  headers=headers,
  json={
    "message": {
      "role": "action-confirm", # or "action-reject"!
      "action": action,
      "action_request_id": action_request_id
    },
    "agent_id": agent_id,
    "conversation_id": conversation_id
  }
)
reply_response.json()
step("confirm the tool run from its action-request row", reply_response.status_code == 200, reply_response.text)

# --- Asynchronous execution of a long-running tool ---------------------------------------
body = {
  "params":{
    "blog_request":"hello"
  },
  "project":project_id
}

response = requests.post(
  base_url + f"studios/{tool_id}/trigger_async",
  headers=headers,
  json=body
)

# Extract the tools job id, so we can check its progress
job = response.json()
job_id = job['job_id']
step("trigger_async", response.status_code == 200 and job_id, response.text)

poll_url = base_url + f"/studios/{tool_id}/async_poll/{job_id}?ending_update_only=true"

done = False
# Every 3 seconds, check if the tool had finished by calling the poll endpoint
for _ in range(300):
    poll_response = requests.get(poll_url, headers=headers).json()
    if poll_response['type'] == "complete" or poll_response['type'] == 'failed':
        done = True
        break
    time.sleep(POLL_SLEEP)

poll_response
step("async_poll until complete", done and poll_response["type"] == "complete", json.dumps(poll_response))
output = poll_response["updates"][-1]["output"]["output"]
step("the tool's output", output == {"post": "a blog post about hello"}, json.dumps(output))
