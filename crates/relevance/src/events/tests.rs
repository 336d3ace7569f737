use super::sse::{LiveBody, LiveEvents, LiveToken, StreamingToken};
use super::*;
use crate::error::Error;
use crate::task::{TaskData, TaskOwner};
use futures_util::{FutureExt, StreamExt};

pub(super) fn idle_task() -> Task {
    Task {
        client: crate::task::tests::test_client(),
        job: None,
        data: TaskData {
            id: "t1".into(),
            owner: TaskOwner::Agent("a1".into()),
            title: String::new(),
            status: TaskStatus::Idle,
            state: "idle".into(),
            requested_state: None,
            created_at: None,
            updated_at: None,
        },
        new_from_trigger: false,
    }
}

pub(super) fn task_in(state: &str, title: &str) -> Task {
    let mut task = idle_task();
    task.status = TaskStatus::from_state(state);
    task.state = state.into();
    task.title = title.into();
    task
}

fn answer(state: &str, title: &str, messages: Option<Vec<Message>>) -> PollAnswer {
    PollAnswer {
        task: Some(task_in(state, title)),
        token: None,
        messages,
        received_ms: crate::runtime::epoch_millis(),
        number: 0,
    }
}

fn message_of(id: &str, content: serde_json::Value) -> Message {
    Message::from_value(serde_json::json!({"item_id": id,
            "insert_date_": "2026-03-01T10:00:00Z", "content": content}))
    .unwrap()
}

fn search_run(state: &str) -> Message {
    message_of(
        "t1",
        serde_json::json!({"type": "tool-run", "tool_run_state": state,
                "tool_config": {"type": "tool", "id": "web_search", "title": "web_search"}}),
    )
}

fn typed(fragment: &str) -> LiveToken {
    LiveToken::Typing {
        fragment: fragment.into(),
        message_id: Some("m2".into()),
    }
}

#[test]
fn a_tool_run_comes_before_the_reply_typed_after_it_though_the_stream_is_ahead() {
    let mut events = task_in("running", "").events();
    let now = Instant::now();
    let user = message_of(
        "u1",
        serde_json::json!({"type": "user-message", "text": "q"}),
    );
    events.on_answer(
        answer("running", "", Some(vec![user, search_run("running")])),
        now,
    );
    assert_eq!(
        drain(&mut events),
        ["message u1", "message t1", "updated running "]
    );
    // A read of the messages is in flight, started before the tool finished...
    events.poller.pretend_started();
    events.poller.forget_asked();
    // ...when the stream, ahead of it, brings the reply's first fragments.
    events.on_token(typed("I looked"), now);
    events.on_token(typed(" into"), now);
    assert!(
        drain(&mut events).is_empty(),
        "held for the messages before"
    );
    assert_eq!(events.poller.asked(), Some(Reads::MESSAGES), "read at once");
    // The read in flight answers with the run still going: still held.
    let mut early = answer("running", "", Some(vec![search_run("running")]));
    early.number = 0;
    events.on_answer(early, now);
    assert!(
        drain(&mut events).is_empty(),
        "a read started before the fragment"
    );
    // The read asked for shows the run finished and the reply begun.
    let reply = agent_message("m2", "I looked", true);
    let mut read = answer("running", "", Some(vec![search_run("finished"), reply]));
    read.number = 1;
    events.on_answer(read, now);
    let after = drain(&mut events);
    assert_eq!(after.len(), 3, "{after:?}");
    assert_eq!(after[0], "message t1", "the tool run first");
    assert!(after[1].contains("\"I looked\""), "{}", after[1]);
    assert!(after[2].contains("\"I looked into\""), "{}", after[2]);
    // The reply goes on: its fragments pass at once.
    events.on_token(typed(" it"), now);
    assert_eq!(drain(&mut events).len(), 1);
}

pub(super) fn agent_message(id: &str, text: &str, generating: bool) -> Message {
    Message::from_value(serde_json::json!({"item_id": id,
            "insert_date_": "2026-03-01T10:00:00Z",
            "content": {"type": "agent-message", "text": text, "generating": generating}}))
    .unwrap()
}

fn drain(events: &mut TaskEvents) -> Vec<String> {
    std::iter::from_fn(|| events.emitter.pop())
        .map(|event| match event {
            Ok(TaskEvent::Message(message)) => format!("message {}", message.id),
            Ok(TaskEvent::Updated { state, title, .. }) => format!("updated {state} {title}"),
            Ok(other) => format!("{other:?}"),
            Err(error) => format!("error {:?}", error.status()),
        })
        .collect()
}

/// The live tokens of `bytes`, as the live connection would read them.
fn live_tokens(bytes: &[u8]) -> Vec<LiveToken> {
    let body: LiveBody = Box::pin(futures_util::stream::iter([Ok(bytes.to_vec())]));
    LiveEvents::new(body)
        .map(Result::unwrap)
        .collect::<Vec<_>>()
        .now_or_never()
        .unwrap()
}

#[test]
fn answers_become_events_messages_first_and_status_only_on_change() {
    let mut events = idle_task().events();
    let now = Instant::now();
    events.on_answer(
        answer("running", "", Some(vec![agent_message("m1", "He", true)])),
        now,
    );
    assert_eq!(drain(&mut events), ["updated running "]);
    assert!(events.poller.running());
    events.on_answer(
        answer("running", "", Some(vec![agent_message("m1", "He", true)])),
        now,
    );
    assert!(drain(&mut events).is_empty(), "nothing changed");
    events.on_answer(
        answer(
            "idle",
            "Greeting",
            Some(vec![agent_message("m1", "Hello", false)]),
        ),
        now,
    );
    assert_eq!(drain(&mut events), ["message m1", "updated idle Greeting"]);
    assert!(!events.poller.running());
    events.on_answer(answer("idle", "Greeting", None), now);
    assert!(drain(&mut events).is_empty());
}

#[test]
fn a_running_task_with_a_token_is_watched_and_its_token_kept_by_the_live_connection() {
    let mut events = idle_task().events();
    let now = Instant::now();
    let mut running = answer("running", "", Some(vec![]));
    running.token = Some(StreamingToken {
        token: "tok".into(),
        expiry_time_ms: crate::runtime::epoch_millis() + 3_600_000,
    });
    events.on_answer(running, now);
    let view = events.live.view(now);
    assert!(view.trusted);
    assert!(view.refresh_at.is_some());
    assert_eq!(
        events.poller.next_deadline(view),
        Some(now + schedule::LISTENING.0),
        "listened to until the run streams"
    );
    // The task stops: the live connection is no longer wanted.
    events.on_answer(answer("idle", "", Some(vec![])), now);
    assert!(!events.live.view(now).trusted);
    assert_eq!(events.live.next_deadline(), None);
}

#[test]
fn live_tokens_are_events_and_the_end_of_a_burst_is_a_deadline() {
    let mut events = idle_task().events();
    let now = Instant::now();
    for token in live_tokens(
            b"data: {\"type\":\"thinking\",\"content\":\"hm\"}\n\ndata: {\"type\":\"text\",\"content\":\"Hi\",\"documentId\":\"m1\"}\n\ndata: {\"type\":\"text\",\"content\":\" there\",\"documentId\":\"m1\"}\n\n",
        ) {
            events.live.on_token(&token, now);
            events.emitter.live_token(token);
        }
    let drained: Vec<TaskEvent> = std::iter::from_fn(|| events.emitter.pop())
        .map(|e| e.unwrap())
        .collect();
    assert_eq!(
        drained,
        [
            TaskEvent::Thinking {
                delta: "hm".into(),
                text: "hm".into(),
                message_id: None
            },
            TaskEvent::Typing {
                delta: "Hi".into(),
                text: "Hi".into(),
                message_id: Some("m1".into())
            },
            TaskEvent::Typing {
                delta: " there".into(),
                text: "Hi there".into(),
                message_id: Some("m1".into())
            },
        ]
    );
    assert_eq!(
        events.live.next_deadline(),
        Some(now + schedule::QUIET_FIRST)
    );
    assert!(events.live.view(now).flowing);
    assert!(!events.live.view(now + live::TOKENS_FLOWING_FOR).flowing);
}

#[test]
fn the_end_of_a_burst_reads_the_messages_at_once() {
    let mut events = idle_task().events();
    let now = Instant::now();
    events.on_answer(answer("idle", "", Some(vec![])), now);
    events.poller.forget_asked();
    let typing = live_tokens(b"data: {\"type\":\"text\",\"content\":\"Hi\"}\n\n");
    events.live.on_token(&typing[0], now);
    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let end = now + schedule::QUIET_FIRST;
    assert!(events.step_live(&mut cx, end), "the burst ended");
    assert_eq!(events.poller.asked(), Some(Reads::MESSAGES));
    assert!(!events.step_live(&mut cx, end), "once");
}

#[test]
fn the_end_of_the_live_stream_reads_the_metadata_at_once() {
    let mut events = idle_task().events();
    events.poller.forget_asked();
    // The first thought after this client's message: yielded at once.
    events.order.sent();
    let body: LiveBody = Box::pin(futures_util::stream::iter([Ok(
        b"data: {\"type\":\"thinking\",\"content\":\"hm\"}\n\n".to_vec(),
    )]));
    events.live.open_on(body);
    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let now = Instant::now();
    assert!(events.step_live(&mut cx, now), "a token");
    assert!(events.poller.asked().is_none());
    assert!(events.step_live(&mut cx, now), "the end");
    assert_eq!(events.poller.asked(), Some(Reads::METADATA));
    assert_eq!(drain(&mut events).len(), 1, "the thinking");
}

#[test]
fn a_final_error_is_the_last_item_and_closes_everything() {
    let mut events = idle_task().events();
    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    events.poller.fail_next_poll(Error::from_response(
        404,
        &reqwest::header::HeaderMap::new(),
        b"{}",
    ));
    assert!(events.step_poller(&mut cx, Instant::now()));
    assert_eq!(drain(&mut events), ["error Some(404)"]);
    assert!(events.emitter.finished());
    assert_eq!(events.live.state(), "off");
    assert!(
        matches!(events.next().now_or_never(), Some(None)),
        "the stream ended"
    );
}

#[tokio::test]
async fn a_send_on_the_same_client_wakes_the_stream_to_poll_at_once() {
    let task = idle_task();
    let mut events = task.events();
    // Pretend a poll just found an idle task: the next one is far away.
    let now = Instant::now();
    events.on_answer(answer("idle", "", Some(vec![])), now);
    for _ in 0..10 {
        events.on_answer(answer("idle", "", None), now);
    }
    drain(&mut events);
    events.poller.forget_asked();
    let view = events.live.view(now);
    assert!(events.poller.next_deadline(view).unwrap() > now + Duration::from_secs(30));
    // Polling once registers the stream's waker; nothing is due.
    assert!(events.next().now_or_never().is_none());
    assert!(!events.poller.busy(), "no request before it is due");
    task.client.note_sent("t1");
    // The next poll of the stream starts a request at once.
    assert!(events.next().now_or_never().is_none());
    assert!(events.poller.busy(), "a poll is in flight after the send");
}

#[test]
fn a_task_made_by_this_clients_trigger_reads_its_metadata_before_its_messages() {
    // (made by the trigger, as `send_message` returns it?, the first poll)
    let cases = [(true, Reads::METADATA), (false, Reads::BOTH)];
    for (new_from_trigger, first) in cases {
        let mut task = task_in("running", "");
        task.new_from_trigger = new_from_trigger;
        let events = task.events();
        assert_eq!(events.poller.asked(), Some(first), "{new_from_trigger}");
    }
}

#[test]
fn a_send_on_the_same_client_asks_for_the_metadata_alone() {
    let mut events = idle_task().events();
    events.on_answer(answer("idle", "", Some(vec![])), Instant::now());
    events.poller.forget_asked();
    events.on_sent();
    assert_eq!(events.poller.asked(), Some(Reads::METADATA));
}

fn assert_send_unpin<T: Send + Unpin>() {}

#[test]
fn the_stream_is_send_and_unpin() {
    assert_send_unpin::<TaskEvents>();
}

#[test]
fn dropping_a_stream_unsubscribes_it_and_others_stay_independent() {
    let client = crate::task::tests::test_client();
    let mut task = idle_task();
    task.client = client.clone();
    let first = task.events();
    let second = task.events_since(DateTime::<Utc>::UNIX_EPOCH);
    assert_eq!(client.activity().subscribers("t1"), 2);
    drop(first);
    assert_eq!(client.activity().subscribers("t1"), 1);
    drop(second);
    assert_eq!(client.activity().subscribers("t1"), 0);
    assert!(format!("{:?}", task.events()).contains("t1"));
}
