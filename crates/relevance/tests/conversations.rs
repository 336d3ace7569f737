//! Conversations through the SDK against the emulator's scripted agents: every behaviour's
//! messages, states and status mapping, embed-key isolation, attachments, listing.
#![cfg(not(target_family = "wasm"))]

use relevance::{
    Attachment, Client, EmbedKeyOptions, Error, Key, MessageContent, Region, TaskListOptions,
    TaskSort, TaskStatus, ToolKind, ToolStatus,
};
use relevance_testkit::{settle, TestEmulator};

const API_KEY: &str = "sk-test-tasks-0001-tttttttttttttttt";

const SEED: &str = r#"
[[projects]]
id = "proj-t"
region = "us"
api_keys = ["sk-test-tasks-0001-tttttttttttttttt"]

[[projects.agents]]
id = "echo"
use_streaming = true
name = "Echo"
public = true
behavior = "echo"

[[projects.agents]]
id = "researcher"
use_streaming = true
name = "Researcher"
public = true
behavior = "script"
end_state = "completed"
script = [
  { think = "Looking into {message}" },
  { tool = "search", input = { q = "{message}" }, output = { hits = 3 } },
  { type = "Found 3 results for {message}" },
]

[[projects.agents]]
id = "clumsy"
use_streaming = true
public = true
behavior = "script"
script = [
  { tool = "fetch", input = { url = "x" }, error = "upstream timed out" },
  { reply = "The fetch failed, sorry." },
]

[[projects.agents]]
id = "broken"
use_streaming = true
public = true
behavior = "script"
script = [
  { error = "model overloaded" },
  { reply = "never said" },
]

[[projects.agents]]
id = "careful"
use_streaming = true
public = true
behavior = "script"
script = [
  { approval = "Send the email?" },
  { reply = "Email sent." },
]

[[projects.agents]]
id = "manager"
use_streaming = true
public = true
behavior = "script"
script = [
  { sub_agent = "echo", message = "delegated: {message}" },
  { reply = "The echo agent answered." },
]
"#;

fn api_client(t: &TestEmulator) -> Client {
    t.client(Key::new(API_KEY, Region::US, "proj-t").unwrap())
}

async fn embed_client(t: &TestEmulator, agent: &str) -> Client {
    let key = Key::generate_embed_key(
        EmbedKeyOptions::agent(Region::US, "proj-t", agent).base_url(t.base_url.clone()),
    )
    .await
    .unwrap();
    t.client(key)
}

fn kinds(messages: &[relevance::Message]) -> Vec<&'static str> {
    messages
        .iter()
        .map(|m| match &m.content {
            MessageContent::User(_) => "user",
            MessageContent::Agent(_) => "agent",
            MessageContent::AgentError(_) => "agent-error",
            MessageContent::ToolRun(_) => "tool",
            MessageContent::WorkforceAgentRun(_) => "run",
            MessageContent::WorkforceAgentHandover(_) => "handover",
            _ => "unknown",
        })
        .collect()
}

#[tokio::test]
async fn an_echo_conversation_starts_at_once_and_replies() {
    let t = TestEmulator::start_with(SEED).await;
    let agent = api_client(&t).agents().get("echo").await.unwrap();
    let mut task = agent.send_message("hello there").await.unwrap();
    // send_message returns before the reply exists.
    assert!(task.is_running(), "{:?}", task.status);

    settle(&mut task).await;
    assert_eq!(task.status, TaskStatus::Idle);
    assert_eq!(task.title, "hello there");
    let messages = task.messages().await.unwrap();
    assert_eq!(kinds(&messages), ["user", "agent"]);
    let MessageContent::User(user) = &messages[0].content else {
        unreachable!()
    };
    assert!(user.is_trigger);
    assert_eq!(user.text, "hello there");
    let MessageContent::Agent(reply) = &messages[1].content else {
        unreachable!()
    };
    assert!(!reply.generating);
    assert_eq!(reply.text, "You said: hello there");

    // Continue the same task.
    let mut task = agent.message("again").in_task(&task).send().await.unwrap();
    settle(&mut task).await;
    let messages = task.messages().await.unwrap();
    assert_eq!(kinds(&messages), ["user", "agent", "user", "agent"]);
    let MessageContent::User(second) = &messages[2].content else {
        unreachable!()
    };
    assert!(!second.is_trigger);
    assert_eq!(
        task.title, "hello there",
        "the title comes from the first message"
    );

    // messages_after is inclusive of the given time.
    let since = messages[2].inserted_at.unwrap();
    let later = task.messages_after(since).await.unwrap();
    assert_eq!(kinds(&later), ["user", "agent"]);
    let pinned = task.messages_since(&messages[3]).await.unwrap();
    assert_eq!(pinned.len(), 1);
    assert_eq!(pinned[0].id, messages[3].id);
}

#[tokio::test]
async fn a_script_thinks_runs_a_tool_and_types_a_reply() {
    let t = TestEmulator::start_with(SEED).await;
    let agent = api_client(&t).agents().get("researcher").await.unwrap();
    let mut task = agent.send_message("rust sdks").await.unwrap();
    settle(&mut task).await;
    assert_eq!(task.status, TaskStatus::Completed);
    assert_eq!(task.state, "completed");
    let messages = task.messages().await.unwrap();
    assert_eq!(kinds(&messages), ["user", "tool", "agent"]);
    let MessageContent::ToolRun(run) = &messages[1].content else {
        unreachable!()
    };
    assert_eq!(run.status, ToolStatus::Completed);
    assert_eq!(run.kind, ToolKind::Tool);
    assert_eq!(run.output(), Some(&serde_json::json!({"hits": 3})));
    assert_eq!(
        run.params.as_ref().and_then(|p| p.values()),
        Some(&serde_json::json!({"q": "rust sdks"}))
    );
    let MessageContent::Agent(reply) = &messages[2].content else {
        unreachable!()
    };
    assert_eq!(reply.text, "Found 3 results for rust sdks");
    assert_eq!(reply.thoughts, ["Looking into rust sdks"]);
}

#[tokio::test]
async fn a_failing_tool_and_an_agent_error_end_as_the_script_says() {
    let t = TestEmulator::start_with(SEED).await;
    let client = api_client(&t);

    let mut task = client
        .agents()
        .get("clumsy")
        .await
        .unwrap()
        .send_message("go")
        .await
        .unwrap();
    settle(&mut task).await;
    assert_eq!(task.status, TaskStatus::Idle);
    let messages = task.messages().await.unwrap();
    assert_eq!(kinds(&messages), ["user", "tool", "agent"]);
    let MessageContent::ToolRun(run) = &messages[1].content else {
        unreachable!()
    };
    assert_eq!(run.status, ToolStatus::Error);
    assert_eq!(run.output(), None, "a failed run has no output");
    assert_eq!(
        run.errors.last().map(|e| e.body.as_str()),
        Some("upstream timed out")
    );

    let mut task = client
        .agents()
        .get("broken")
        .await
        .unwrap()
        .send_message("go")
        .await
        .unwrap();
    settle(&mut task).await;
    assert_eq!(task.status, TaskStatus::Error);
    assert_eq!(task.state, "unrecoverable");
    let messages = task.messages().await.unwrap();
    assert_eq!(
        kinds(&messages),
        ["user", "agent-error"],
        "steps after the error are dropped"
    );
    let MessageContent::AgentError(error) = &messages[1].content else {
        unreachable!()
    };
    assert_eq!(error.last_error(), Some("model overloaded"));
}

#[tokio::test]
async fn an_approval_pauses_the_task_until_the_next_message() {
    let t = TestEmulator::start_with(SEED).await;
    let agent = api_client(&t).agents().get("careful").await.unwrap();
    let mut task = agent.send_message("email the team").await.unwrap();
    settle(&mut task).await;
    assert_eq!(task.state, "pending-approval");
    assert_eq!(task.status, TaskStatus::Action);
    // The agent asks; the rest of the script waits.
    let asked = task.messages().await.unwrap();
    assert_eq!(kinds(&asked), ["user", "agent"]);
    let MessageContent::Agent(question) = &asked[1].content else {
        unreachable!()
    };
    assert_eq!(question.text, "Send the email?");

    let mut task = agent
        .message("approved")
        .in_task(&task)
        .send()
        .await
        .unwrap();
    settle(&mut task).await;
    assert_eq!(task.status, TaskStatus::Idle);
    let messages = task.messages().await.unwrap();
    assert_eq!(kinds(&messages), ["user", "agent", "user", "agent"]);
    let MessageContent::Agent(reply) = &messages[3].content else {
        unreachable!()
    };
    assert_eq!(reply.text, "Email sent.");
}

#[tokio::test]
async fn a_sub_agent_runs_in_its_own_task() {
    let t = TestEmulator::start_with(SEED).await;
    let client = api_client(&t);
    let mut task = client
        .agents()
        .get("manager")
        .await
        .unwrap()
        .send_message("ping")
        .await
        .unwrap();
    settle(&mut task).await;
    let messages = task.messages().await.unwrap();
    assert_eq!(kinds(&messages), ["user", "tool", "agent"]);
    let MessageContent::ToolRun(run) = &messages[1].content else {
        unreachable!()
    };
    assert_eq!(run.kind, ToolKind::Agent);
    assert_eq!(run.status, ToolStatus::Completed);
    let (agent_id, task_id) = run.sub_agent().expect("sub-agent details");
    assert_eq!(agent_id, "echo");
    let sub = client
        .agents()
        .get("echo")
        .await
        .unwrap()
        .get_task(task_id)
        .await
        .unwrap();
    let sub_messages = sub.messages().await.unwrap();
    assert_eq!(kinds(&sub_messages), ["user", "agent"]);
    let MessageContent::Agent(reply) = &sub_messages[1].content else {
        unreachable!()
    };
    assert_eq!(reply.text, "You said: delegated: ping");
}

#[tokio::test]
async fn two_embed_keys_of_one_agent_never_see_each_others_tasks() {
    let t = TestEmulator::start_with(SEED).await;
    let alice = embed_client(&t, "echo").await;
    let bob = embed_client(&t, "echo").await;
    let alice_agent = alice.agents().get("echo").await.unwrap();
    let bob_agent = bob.agents().get("echo").await.unwrap();

    let mut alice_task = alice_agent.send_message("alice's secret").await.unwrap();
    let prefix = alice.key().task_prefix().unwrap();
    assert!(
        alice_task.id.starts_with(&format!("{prefix}_-_")),
        "{}",
        alice_task.id
    );
    settle(&mut alice_task).await;
    let mut bob_task = bob_agent.send_message("bob's note").await.unwrap();
    settle(&mut bob_task).await;

    let listed: Vec<_> = alice_agent
        .tasks(TaskListOptions::default())
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.into_data().id)
        .collect();
    assert_eq!(listed, [alice_task.id.clone()]);
    let listed: Vec<_> = bob_agent
        .tasks(TaskListOptions::default())
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.into_data().id)
        .collect();
    assert_eq!(listed, [bob_task.id.clone()]);

    let error = bob_agent.get_task(&alice_task.id).await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    let error = bob_agent
        .message("hijack")
        .in_task(&alice_task.id)
        .send()
        .await
        .unwrap_err();
    // The same 400 as for an id that exists nowhere (PROTOCOL C): no existence oracle.
    assert!(matches!(error, Error::BadRequest { .. }), "{error:?}");
    // Alice's task is untouched by the refused write.
    assert_eq!(alice_task.messages().await.unwrap().len(), 2);

    // The project's API key sees both.
    let all = api_client(&t)
        .agents()
        .get("echo")
        .await
        .unwrap()
        .tasks(TaskListOptions::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
}

#[tokio::test]
async fn an_attachment_is_uploaded_sent_and_served_back() {
    let t = TestEmulator::start_with(SEED).await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    for client in [api_client(&t), embed_client(&t, "echo").await] {
        let agent = client.agents().get("echo").await.unwrap();
        let mut task = agent
            .message("see attached")
            .attach(Attachment::bytes("report.pdf", bytes.clone()))
            .attach(Attachment::url(
                "elsewhere.txt",
                "https://example.invalid/elsewhere.txt",
            ))
            .send()
            .await
            .unwrap();
        settle(&mut task).await;
        let messages = task.messages().await.unwrap();
        let MessageContent::User(user) = &messages[0].content else {
            unreachable!()
        };
        assert_eq!(user.attachments.len(), 2);
        assert_eq!(user.attachments[0].file_name, "report.pdf");
        assert_eq!(
            user.attachments[1].file_url,
            "https://example.invalid/elsewhere.txt"
        );
        let served = reqwest::get(&user.attachments[0].file_url).await.unwrap();
        assert!(served.status().is_success());
        assert_eq!(served.bytes().await.unwrap().as_ref(), bytes.as_slice());
    }
}

#[tokio::test]
async fn task_lists_filter_sort_search_and_page() {
    let t = TestEmulator::start_with(SEED).await;
    let client = api_client(&t);
    let echo = client.agents().get("echo").await.unwrap();
    let careful = client.agents().get("careful").await.unwrap();
    for text in ["alpha report", "beta notes", "gamma report"] {
        settle(&mut echo.send_message(text).await.unwrap()).await;
    }
    settle(&mut careful.send_message("needs approval").await.unwrap()).await;

    let titles = |tasks: relevance::Page<relevance::Task>| {
        tasks
            .into_iter()
            .map(|t| t.into_data().title)
            .collect::<Vec<_>>()
    };
    let all = echo.tasks(TaskListOptions::default()).await.unwrap();
    assert_eq!(
        titles(all),
        ["alpha report", "beta notes", "gamma report"],
        "oldest first by default"
    );
    let newest = echo
        .tasks(TaskListOptions {
            sort: TaskSort::CreatedDesc,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(titles(newest)[0], "gamma report");
    let found = echo
        .tasks(TaskListOptions {
            search: Some("REPORT".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(titles(found), ["alpha report", "gamma report"]);
    let page2 = echo
        .tasks(TaskListOptions {
            page_size: Some(2),
            page: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(titles(page2), ["gamma report"]);
    let idle = echo
        .tasks(TaskListOptions {
            statuses: vec![TaskStatus::Idle],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(idle.len(), 3);
    let action = echo
        .tasks(TaskListOptions {
            statuses: vec![TaskStatus::Action],
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        action.is_empty(),
        "the agent filter keeps careful's task out"
    );
    let waiting = careful
        .tasks(TaskListOptions {
            statuses: vec![TaskStatus::Action],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(titles(waiting), ["needs approval"]);
}

#[tokio::test]
async fn an_unknown_task_is_not_found() {
    let t = TestEmulator::start_with(SEED).await;
    let agent = api_client(&t).agents().get("echo").await.unwrap();
    let error = agent.get_task("no-such-task").await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}
