//! The conversation: the embed-key session, sending, restoring the task
//! after a reload, following it live, and replacing a revoked key.
//!
//! Everything the page knows between loads is in `localStorage`: the key
//! (under [`KEY_NAME`], in the official JavaScript SDK's shape; in a
//! `Secure` cookie of that name instead with `?store=cookie`) and the
//! current task id (under [`TASK_NAME`]). Drawing is left to [`View`].

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures_util::future::{AbortHandle, Abortable};
use futures_util::StreamExt;
use relevance::{Agent, EmbedKeyOptions, EmbedSession, Error, Region, SessionStart, TaskEvents};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::config::{self, PageConfig};
use crate::view::View;

/// Where the embed key is kept.
pub(crate) const KEY_NAME: &str = "relevance-demo-key";
/// Where the current task id is kept.
pub(crate) const TASK_NAME: &str = "relevance-demo-task";

const PRIVATE_AGENT: &str =
    "This agent is private or does not exist: no embed key can be made for it.";
const KEY_REVOKED: &str =
    "Your key was revoked; a new one was made. Earlier conversations are out of its reach.";

/// The page's state. Single-threaded (a page), so plain `Cell`/`RefCell`.
struct Chat {
    view: View,
    config: PageConfig,
    /// Out of its cell while a send runs with it.
    session: RefCell<Option<EmbedSession>>,
    /// The agent, read with the session's current key.
    agent: RefCell<Option<Agent>>,
    task_id: RefCell<Option<String>>,
    /// Stops the stream following the previous task.
    watcher: RefCell<Option<AbortHandle>>,
    /// Whether a stream follows `task_id` now (it ends on a lasting failure).
    watching: Cell<bool>,
}

/// Loads the settings, gets the key and the agent, restores the earlier
/// conversation, then waits for the user.
pub(crate) async fn run() {
    let view = match View::find() {
        Ok(view) => view,
        Err(problem) => {
            web_sys::console::error_1(&problem.into());
            return;
        }
    };
    let config = match config::load().await {
        Ok(config) => config,
        Err(problem) => {
            view.show_status("not configured");
            view.show_notice(&problem);
            return;
        }
    };
    let region: Region = match config.region_code.parse() {
        Ok(region) => region,
        Err(error) => {
            view.show_status("not configured");
            view.show_notice(&format!("config.json: {error}"));
            return;
        }
    };
    let storage = match config::key_storage() {
        Ok(storage) => storage,
        Err(problem) => {
            view.show_status("not configured");
            view.show_notice(&problem);
            return;
        }
    };
    view.show_status("getting a key…");
    let options = EmbedKeyOptions::agent(region, &config.project, &config.agent_id)
        .base_url(&config.base_url);
    let (session, how) = match EmbedSession::start(storage.store(), KEY_NAME, options).await {
        Ok(started) => started,
        Err(Error::NotFound { .. }) => {
            view.show_status("no key");
            view.show_notice(PRIVATE_AGENT);
            return;
        }
        Err(error) => {
            view.show_status("no key");
            view.show_notice(&format!("No embed key could be made: {error}"));
            return;
        }
    };
    if let SessionStart::Replaced { reason } = &how {
        view.show_notice(&format!(
            "The stored key could not be used ({reason}); a new one was made."
        ));
    }
    let chat = Rc::new(Chat {
        view,
        config,
        session: RefCell::new(Some(session)),
        agent: RefCell::new(None),
        task_id: RefCell::new(stored_task_id()),
        watcher: RefCell::new(None),
        watching: Cell::new(false),
    });
    if chat.load_agent().await {
        chat.restore_task().await;
        listen_for_sends(&chat);
        chat.view.set_ready(true);
    }
}

impl Chat {
    /// Reads the agent (name, emoji). A revoked key is replaced here too.
    async fn load_agent(&self) -> bool {
        let Some(mut session) = self.session.borrow_mut().take() else {
            return false;
        };
        let agent_id = self.config.agent_id.clone();
        let result = session
            .run(|client| {
                let agent_id = agent_id.clone();
                async move { client.agents().get(&agent_id).await }
            })
            .await;
        *self.session.borrow_mut() = Some(session);
        match result {
            Ok((agent, replaced)) => {
                if replaced.is_some() {
                    self.view.show_notice(KEY_REVOKED);
                    self.forget_task();
                }
                let name = agent.name.as_deref().unwrap_or(&agent.id);
                self.view.show_agent(name, agent.avatar.as_deref());
                *self.agent.borrow_mut() = Some(agent);
                self.view.show_status("ready");
                true
            }
            Err(Error::NotFound { .. }) => {
                self.view.show_status("no agent");
                self.view.show_notice(PRIVATE_AGENT);
                false
            }
            Err(error) => {
                self.view.show_status("offline");
                self.view
                    .show_notice(&format!("The agent could not be read: {error}"));
                false
            }
        }
    }

    /// Shows the stored task's history and follows it. A task the key cannot
    /// reach (made with an earlier key) is forgotten.
    async fn restore_task(self: &Rc<Self>) {
        let Some(task_id) = self.task_id.borrow().clone() else {
            return;
        };
        let Some(agent) = self.agent.borrow().clone() else {
            return;
        };
        self.view.show_status("loading the conversation…");
        let restored = async {
            let task = agent.get_task(&task_id).await?;
            let history = task.messages().await?;
            Ok::<_, Error>((task, history))
        }
        .await;
        match restored {
            Ok((task, history)) => {
                for message in &history {
                    self.view.show_message(message);
                }
                self.view.show_status(&task.status.to_string());
                let since = history.iter().rev().find_map(|message| message.inserted_at);
                let events = match since {
                    Some(time) => task.events_since(time),
                    None => task.events(),
                };
                self.watch(events);
            }
            Err(Error::NotFound { .. }) => {
                self.forget_task();
                self.view.show_status("ready");
            }
            Err(error) => {
                self.view.show_status("ready");
                self.view.show_notice(&format!(
                    "The earlier conversation could not be read: {error}"
                ));
            }
        }
    }

    /// Sends the typed text: continues the current task, or starts one. A
    /// revoked key is replaced once (by the session) and the message then
    /// starts a new task, since the old one is out of the new key's reach.
    async fn send(self: &Rc<Self>, text: String) {
        let Some(mut session) = self.session.borrow_mut().take() else {
            return;
        };
        self.view.set_sending(true);
        self.view.show_pending_user(&text);
        self.view.show_status("sending…");
        let key_prefix = session.key().task_prefix().map(str::to_string);
        let cached_agent = self.agent.borrow().clone();
        let task_id = self.task_id.borrow().clone();
        let agent_id = self.config.agent_id.clone();
        let result = session
            .run(|client| {
                let (text, agent_id) = (text.clone(), agent_id.clone());
                let same_key = client.key().task_prefix() == key_prefix.as_deref();
                let agent = cached_agent.clone().filter(|_| same_key);
                let task_id = task_id.clone().filter(|_| same_key);
                async move {
                    let agent = match agent {
                        Some(agent) => agent,
                        None => client.agents().get(&agent_id).await?,
                    };
                    let message = agent.message(text);
                    let task = match &task_id {
                        Some(task_id) => message.in_task(task_id).send().await?,
                        None => message.send().await?,
                    };
                    Ok((agent, task))
                }
            })
            .await;
        *self.session.borrow_mut() = Some(session);
        self.view.set_sending(false);
        match result {
            Ok(((agent, task), replaced)) => {
                if replaced.is_some() {
                    self.view.show_notice(KEY_REVOKED);
                    self.view.clear_messages();
                }
                *self.agent.borrow_mut() = Some(agent);
                let same_task = self.task_id.borrow().as_deref() == Some(task.id.as_str());
                if !same_task {
                    remember_task(&task.id);
                    *self.task_id.borrow_mut() = Some(task.id.clone());
                }
                if !same_task || !self.watching.get() {
                    self.watch(task.events());
                }
            }
            Err(error) => {
                self.view.fail_pending();
                self.view.show_status("not sent");
                self.view
                    .show_notice(&format!("The message was not sent: {error}"));
            }
        }
    }

    /// Follows one task's events until the next `watch` (which drops the
    /// stream, closing its requests) or a lasting failure.
    fn watch(self: &Rc<Self>, mut events: TaskEvents) {
        let (handle, registration) = AbortHandle::new_pair();
        if let Some(previous) = self.watcher.borrow_mut().replace(handle) {
            previous.abort();
        }
        self.watching.set(true);
        let chat = Rc::clone(self);
        let follow = async move {
            while let Some(event) = events.next().await {
                match event {
                    Ok(event) => chat.view.show_event(&event),
                    Err(error) => {
                        chat.view
                            .show_status(&format!("live updates stopped: {error}"));
                        break;
                    }
                }
            }
            chat.watching.set(false);
        };
        wasm_bindgen_futures::spawn_local(async move {
            let _ = Abortable::new(follow, registration).await;
        });
    }

    fn forget_task(&self) {
        *self.task_id.borrow_mut() = None;
        if let Some(storage) = local_storage() {
            let _ = storage.remove_item(TASK_NAME);
        }
    }
}

/// Sends on the composer's submit (the Send button or Enter).
fn listen_for_sends(chat: &Rc<Chat>) {
    let Some(form) = chat.view.form() else {
        chat.view.show_notice("the page has no form around #send");
        return;
    };
    let for_submit = Rc::clone(chat);
    let on_submit = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        event.prevent_default();
        let idle = for_submit.session.borrow().is_some();
        if !idle {
            return;
        }
        if let Some(text) = for_submit.view.take_input() {
            let chat = Rc::clone(&for_submit);
            wasm_bindgen_futures::spawn_local(async move { chat.send(text).await });
        }
    });
    let _ = form.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
    // The listener lives as long as the page.
    on_submit.forget();
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn stored_task_id() -> Option<String> {
    local_storage()?
        .get_item(TASK_NAME)
        .ok()
        .flatten()
        .filter(|id| !id.trim().is_empty())
}

fn remember_task(task_id: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.set_item(TASK_NAME, task_id);
    }
}
